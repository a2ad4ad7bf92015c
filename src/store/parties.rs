//! Parties: states and sub-national regions.

use diesel::prelude::*;
use serde::Serialize;

use super::{
    delete_versioned, insert_audited, update_versioned, upsert_versioned, versioned_record,
    Outcome, Versioned, WriteContext,
};
use crate::db::schema::parties;
use crate::db::Conn;

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = parties, treat_none_as_null = true)]
pub struct PartyRow {
    pub id: String,
    pub code: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub time_zone: String,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(PartyRow, "party");

pub fn by_code(conn: &mut Conn, code: &str) -> QueryResult<Option<PartyRow>> {
    parties::table
        .filter(parties::code.eq(code))
        .select(PartyRow::as_select())
        .first(conn)
        .optional()
}

pub fn all(conn: &mut Conn) -> QueryResult<Vec<PartyRow>> {
    parties::table
        .order(parties::code.asc())
        .select(PartyRow::as_select())
        .load(conn)
}

/// Codes of the given party ids, in the same order as `ids` is sorted by code.
pub fn codes_of(conn: &mut Conn, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    parties::table
        .filter(parties::id.eq_any(ids))
        .order(parties::code.asc())
        .select((parties::id, parties::code))
        .load(conn)
}

pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: PartyRow,
) -> QueryResult<(PartyRow, Outcome)> {
    let stored = by_code(conn, &row.code)?;
    Ok(upsert_versioned!(conn, ctx, parties::table, stored, row))
}

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<PartyRow>> {
    parties::table
        .find(id)
        .select(PartyRow::as_select())
        .first(conn)
        .optional()
}

/// Filters of the party list; all optional.
#[derive(Debug, Default, Clone)]
pub struct PartyFilter {
    /// `Some(true)`: states only; `Some(false)`: regions only.
    pub states: Option<bool>,
    pub parent_id: Option<String>,
    /// Lower-cased text to find in the code or the name in any language.
    pub text: Option<String>,
}

/// Whether lower-cased `needle` occurs in any of `plain` or in any language
/// of the multilingual `text_json`, ignoring case. Done here rather than in
/// SQL because SQLite's lower() folds only ASCII (Казахстан vs КАЗАХСТАН).
pub fn text_matches(needle: &str, plain: &[&str], text_json: &str) -> bool {
    plain.iter().any(|p| p.to_lowercase().contains(needle))
        || serde_json::from_str::<std::collections::BTreeMap<String, String>>(text_json)
            .map(|m| m.values().any(|v| v.to_lowercase().contains(needle)))
            .unwrap_or(false)
}

fn filtered<'a>(filter: &PartyFilter) -> parties::BoxedQuery<'a, crate::db::MultiBackend> {
    let mut query = parties::table.into_boxed();
    match filter.states {
        Some(true) => query = query.filter(parties::parent_id.is_null()),
        Some(false) => query = query.filter(parties::parent_id.is_not_null()),
        None => {}
    }
    if let Some(p) = &filter.parent_id {
        query = query.filter(parties::parent_id.eq(p.clone()));
    }
    query
}

/// Parties matching the filter, by code, after the code `after`.
pub fn search(
    conn: &mut Conn,
    filter: &PartyFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<PartyRow>> {
    let mut query = filtered(filter)
        .select(PartyRow::as_select())
        .order(parties::code.asc());
    if let Some(a) = after {
        query = query.filter(parties::code.gt(a.to_string()));
    }
    match &filter.text {
        None => query.limit(limit).load(conn),
        Some(needle) => {
            let mut rows: Vec<PartyRow> = query
                .load(conn)?
                .into_iter()
                .filter(|r| text_matches(needle, &[&r.code], &r.name))
                .collect();
            rows.truncate(usize::try_from(limit).unwrap_or(0));
            Ok(rows)
        }
    }
}

pub fn count(conn: &mut Conn, filter: &PartyFilter) -> QueryResult<i64> {
    match &filter.text {
        None => filtered(filter).count().get_result(conn),
        Some(needle) => {
            let rows: Vec<(String, String)> = filtered(filter)
                .select((parties::code, parties::name))
                .load(conn)?;
            let n = rows
                .iter()
                .filter(|(code, name)| text_matches(needle, &[code], name))
                .count();
            Ok(i64::try_from(n).unwrap_or(i64::MAX))
        }
    }
}

/// What still refers to a party, as (what, how many), only the non-zero.
pub fn references(conn: &mut Conn, id: &str) -> QueryResult<Vec<(&'static str, i64)>> {
    use crate::db::schema::{
        agreement_parties, assignments, body_parties, events, organisations, programme_parties,
        status_reports,
    };
    let counts = [
        (
            "regions",
            parties::table
                .filter(parties::parent_id.eq(id))
                .count()
                .get_result::<i64>(conn)?,
        ),
        (
            "organisations",
            organisations::table
                .filter(organisations::party_id.eq(id))
                .count()
                .get_result(conn)?,
        ),
        (
            "agreements",
            agreement_parties::table
                .filter(agreement_parties::party_id.eq(id))
                .count()
                .get_result(conn)?,
        ),
        (
            "bodies",
            body_parties::table
                .filter(body_parties::party_id.eq(id))
                .count()
                .get_result(conn)?,
        ),
        (
            "programmes",
            programme_parties::table
                .filter(programme_parties::party_id.eq(id))
                .count()
                .get_result(conn)?,
        ),
        (
            "assignments",
            assignments::table
                .filter(assignments::party_id.eq(id))
                .count()
                .get_result(conn)?,
        ),
        (
            "status reports",
            status_reports::table
                .filter(status_reports::party_id.eq(id))
                .count()
                .get_result(conn)?,
        ),
        (
            "events",
            events::table
                .filter(
                    events::host_party_id
                        .eq(id)
                        .or(events::guest_party_id.eq(id)),
                )
                .count()
                .get_result(conn)?,
        ),
    ];
    Ok(counts.into_iter().filter(|(_, n)| *n > 0).collect())
}

pub fn create(conn: &mut Conn, ctx: &WriteContext, row: PartyRow) -> QueryResult<PartyRow> {
    Ok(insert_audited!(conn, ctx, parties::table, row))
}

/// Replaces the stored row if it is still at version `expected`.
pub fn update(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: PartyRow,
    new: PartyRow,
    expected: i32,
) -> QueryResult<Versioned<PartyRow>> {
    Ok(update_versioned!(
        conn,
        ctx,
        parties::table,
        parties::version,
        stored,
        new,
        expected
    ))
}

/// Deletes the row if it is still at version `expected`; false if it changed.
pub fn delete(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: PartyRow,
    expected: i32,
) -> QueryResult<bool> {
    Ok(delete_versioned!(
        conn,
        ctx,
        parties::table,
        parties::version,
        stored,
        expected
    ))
}
