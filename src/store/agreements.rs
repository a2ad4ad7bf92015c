//! Agreements: the legal instruments, their parties and signatory bodies.

use diesel::prelude::*;
use serde::Serialize;

use super::{
    delete_versioned, insert_audited, replace_links, update_versioned, upsert_versioned,
    versioned_record, Outcome, Versioned, WriteContext,
};
use crate::db::schema::{agreement_parties, agreement_signatories, agreements, parties};
use crate::db::Conn;

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = agreements, treat_none_as_null = true)]
pub struct AgreementRow {
    pub id: String,
    pub key: String,
    pub kind: String,
    pub level: String,
    pub title: String,
    pub signed_kind: Option<String>,
    pub signed_text: Option<String>,
    pub signed_earliest: Option<chrono::NaiveDate>,
    pub signed_latest: Option<chrono::NaiveDate>,
    pub place: Option<String>,
    pub in_force_on: Option<chrono::NaiveDate>,
    pub term_months: Option<i32>,
    pub renewal_months: Option<i32>,
    pub notice_months: Option<i32>,
    pub valid_until: Option<chrono::NaiveDate>,
    pub source: Option<String>,
    pub note: Option<String>,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(AgreementRow, "agreement");

pub fn by_key(conn: &mut Conn, key: &str) -> QueryResult<Option<AgreementRow>> {
    agreements::table
        .filter(agreements::key.eq(key))
        .select(AgreementRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<AgreementRow>> {
    agreements::table
        .find(id)
        .select(AgreementRow::as_select())
        .first(conn)
        .optional()
}

/// Agreements, oldest signature first (undated last), optionally of one party.
pub fn list(conn: &mut Conn, party_code: Option<&str>) -> QueryResult<Vec<AgreementRow>> {
    let mut query = agreements::table
        .select(AgreementRow::as_select())
        .order((agreements::signed_earliest.asc(), agreements::key.asc()))
        .into_boxed();
    if let Some(code) = party_code {
        let of_party = agreement_parties::table
            .inner_join(parties::table)
            .filter(parties::code.eq(code.to_string()))
            .select(agreement_parties::agreement_id);
        query = query.filter(agreements::id.eq_any(of_party));
    }
    query.load(conn)
}

/// (agreement id, party code) for the given agreements.
pub fn party_codes(
    conn: &mut Conn,
    agreement_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    agreement_parties::table
        .inner_join(parties::table)
        .filter(agreement_parties::agreement_id.eq_any(agreement_ids))
        .order((agreement_parties::agreement_id.asc(), parties::code.asc()))
        .select((agreement_parties::agreement_id, parties::code))
        .load(conn)
}

/// (agreement id, organisation key) of the signatories of the given agreements.
pub fn signatory_keys(
    conn: &mut Conn,
    agreement_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    use crate::db::schema::organisations;
    agreement_signatories::table
        .inner_join(organisations::table)
        .filter(agreement_signatories::agreement_id.eq_any(agreement_ids))
        .order((
            agreement_signatories::agreement_id.asc(),
            organisations::key.asc(),
        ))
        .select((agreement_signatories::agreement_id, organisations::key))
        .load(conn)
}

pub fn signatory_ids(conn: &mut Conn, agreement_id: &str) -> QueryResult<Vec<String>> {
    agreement_signatories::table
        .filter(agreement_signatories::agreement_id.eq(agreement_id))
        .select(agreement_signatories::organisation_id)
        .load(conn)
}

pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: AgreementRow,
    party_ids: &[String],
    signatory_ids: &[String],
) -> QueryResult<(AgreementRow, Outcome)> {
    let stored = by_key(conn, &row.key)?;
    let (row, outcome) = upsert_versioned!(conn, ctx, agreements::table, stored, row);
    replace_links!(
        conn,
        ctx,
        agreement_parties,
        agreement_id,
        &row.id,
        party_id,
        party_ids,
        "agreement_party"
    )?;
    replace_links!(
        conn,
        ctx,
        agreement_signatories,
        agreement_id,
        &row.id,
        organisation_id,
        signatory_ids,
        "agreement_signatory"
    )?;
    Ok((row, outcome))
}

/// Filters of the agreement list; all optional.
#[derive(Debug, Default, Clone)]
pub struct AgreementFilter {
    pub party_id: Option<String>,
    pub kind: Option<String>,
    pub level: Option<String>,
    /// Signed on or after: the signature range ends on or after this date.
    pub signed_from: Option<chrono::NaiveDate>,
    /// Signed on or before: the signature range starts on or before this date.
    pub signed_to: Option<chrono::NaiveDate>,
    /// Lower-cased text to find in the title, in any language.
    pub text: Option<String>,
}

fn filtered<'a>(filter: &AgreementFilter) -> agreements::BoxedQuery<'a, crate::db::MultiBackend> {
    let mut query = agreements::table.into_boxed();
    if let Some(party) = &filter.party_id {
        let of_party = agreement_parties::table
            .filter(agreement_parties::party_id.eq(party.clone()))
            .select(agreement_parties::agreement_id);
        query = query.filter(agreements::id.eq_any(of_party));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(agreements::kind.eq(kind.clone()));
    }
    if let Some(level) = &filter.level {
        query = query.filter(agreements::level.eq(level.clone()));
    }
    if let Some(from) = filter.signed_from {
        query = query.filter(agreements::signed_latest.ge(from));
    }
    if let Some(to) = filter.signed_to {
        query = query.filter(agreements::signed_earliest.le(to));
    }
    query
}

/// Whether any language of a stored title contains `needle` (already lower-cased).
/// Done here rather than in SQL: SQLite's lower() folds only ASCII, and the
/// JSON keys ("en", "ru") must not match.
fn title_contains(title_json: &str, needle: &str) -> bool {
    serde_json::from_str::<std::collections::BTreeMap<String, String>>(title_json)
        .map(|m| m.values().any(|t| t.to_lowercase().contains(needle)))
        .unwrap_or(false)
}

/// One page of agreements in key order after `after_key`, and how many match in all.
pub fn search(
    conn: &mut Conn,
    filter: &AgreementFilter,
    after_key: Option<&str>,
    limit: i64,
) -> QueryResult<(Vec<AgreementRow>, i64)> {
    match &filter.text {
        None => {
            let total = filtered(filter).count().get_result(conn)?;
            let mut query = filtered(filter)
                .select(AgreementRow::as_select())
                .order(agreements::key.asc())
                .limit(limit);
            if let Some(after) = after_key {
                query = query.filter(agreements::key.gt(after.to_string()));
            }
            Ok((query.load(conn)?, total))
        }
        Some(needle) => {
            // Agreements are few (tens to hundreds): the text filter runs over all that match the rest.
            let rows: Vec<AgreementRow> = filtered(filter)
                .select(AgreementRow::as_select())
                .order(agreements::key.asc())
                .load(conn)?;
            let matching: Vec<AgreementRow> = rows
                .into_iter()
                .filter(|r| title_contains(&r.title, needle))
                .collect();
            let total = matching.len() as i64;
            let page = matching
                .into_iter()
                .filter(|r| after_key.is_none_or(|a| r.key.as_str() > a))
                .take(usize::try_from(limit).unwrap_or(usize::MAX))
                .collect();
            Ok((page, total))
        }
    }
}

/// A new agreement with its parties and signatories, each audited.
pub fn insert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: AgreementRow,
    party_ids: &[String],
    signatory_ids: &[String],
) -> QueryResult<AgreementRow> {
    let row = insert_audited!(conn, ctx, agreements::table, row);
    replace_links_of(conn, ctx, &row.id, party_ids, signatory_ids)?;
    Ok(row)
}

/// Makes an agreement's parties and signatories exactly these; true when any link changed.
pub fn replace_links_of(
    conn: &mut Conn,
    ctx: &WriteContext,
    agreement_id: &str,
    party_ids: &[String],
    signatory_ids: &[String],
) -> QueryResult<bool> {
    use std::collections::BTreeSet;
    let parties_before: BTreeSet<String> = agreement_parties::table
        .filter(agreement_parties::agreement_id.eq(agreement_id))
        .select(agreement_parties::party_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let signatories_before: BTreeSet<String> = signatory_ids_of(conn, agreement_id)?;
    replace_links!(
        conn,
        ctx,
        agreement_parties,
        agreement_id,
        agreement_id,
        party_id,
        party_ids,
        "agreement_party"
    )?;
    replace_links!(
        conn,
        ctx,
        agreement_signatories,
        agreement_id,
        agreement_id,
        organisation_id,
        signatory_ids,
        "agreement_signatory"
    )?;
    let parties_after: BTreeSet<String> = party_ids.iter().cloned().collect();
    let signatories_after: BTreeSet<String> = signatory_ids.iter().cloned().collect();
    Ok(parties_before != parties_after || signatories_before != signatories_after)
}

fn signatory_ids_of(
    conn: &mut Conn,
    agreement_id: &str,
) -> QueryResult<std::collections::BTreeSet<String>> {
    Ok(signatory_ids(conn, agreement_id)?.into_iter().collect())
}

/// Raises an agreement's version when only its links changed.
pub fn bump_version(
    conn: &mut Conn,
    id: &str,
    expected: i32,
    at: chrono::NaiveDateTime,
) -> QueryResult<Option<AgreementRow>> {
    let n = diesel::update(
        agreements::table
            .find(id)
            .filter(agreements::version.eq(expected)),
    )
    .set((
        agreements::version.eq(expected + 1),
        agreements::updated_at.eq(at),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    by_id(conn, id)
}

/// Changes an agreement under the version the caller saw, with its links.
pub fn update(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: AgreementRow,
    row: AgreementRow,
    expected: i32,
    party_ids: &[String],
    signatory_ids: &[String],
) -> QueryResult<Versioned<AgreementRow>> {
    let written = update_versioned!(
        conn,
        ctx,
        agreements::table,
        agreements::version,
        stored,
        row,
        expected
    );
    let row = match written {
        Versioned::Stale => return Ok(Versioned::Stale),
        Versioned::Written(row) | Versioned::Unchanged(row) => row,
    };
    let links_changed = replace_links_of(conn, ctx, &row.id, party_ids, signatory_ids)?;
    // A change of links is a change of the agreement: its version moves too.
    if links_changed && row.version == expected {
        return Ok(match bump_version(conn, &row.id, expected, ctx.at)? {
            Some(row) => Versioned::Written(row),
            None => Versioned::Stale,
        });
    }
    Ok(if row.version == expected {
        Versioned::Unchanged(row)
    } else {
        Versioned::Written(row)
    })
}

/// How many programmes and bodies name this agreement.
pub fn references(conn: &mut Conn, agreement_id: &str) -> QueryResult<(i64, i64)> {
    use crate::db::schema::{bodies, programmes};
    let programmes = programmes::table
        .filter(programmes::agreement_id.eq(agreement_id))
        .count()
        .get_result(conn)?;
    let bodies = bodies::table
        .filter(bodies::agreement_id.eq(agreement_id))
        .count()
        .get_result(conn)?;
    Ok((programmes, bodies))
}

/// Deletes an agreement of version `expected`, its links first (each audited).
/// False when it changed meanwhile.
pub fn delete(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: AgreementRow,
    expected: i32,
) -> QueryResult<bool> {
    if stored.version != expected {
        return Ok(false);
    }
    replace_links_of(conn, ctx, &stored.id, &[], &[])?;
    Ok(delete_versioned!(
        conn,
        ctx,
        agreements::table,
        agreements::version,
        stored,
        expected
    ))
}
