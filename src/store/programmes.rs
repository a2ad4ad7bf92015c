//! Programmes and their sections.

use diesel::prelude::*;
use serde::Serialize;

use super::{replace_links, upsert_versioned, versioned_record, Outcome, WriteContext};
use crate::db::schema::{parties, programme_parties, programme_signatories, programmes, sections};
use crate::db::Conn;

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = programmes, treat_none_as_null = true)]
pub struct ProgrammeRow {
    pub id: String,
    pub key: String,
    pub title: String,
    pub agreement_id: Option<String>,
    pub body_id: Option<String>,
    pub period_text: String,
    pub period_start: chrono::NaiveDate,
    pub period_end: chrono::NaiveDate,
    pub public: bool,
    pub illustrative: bool,
    pub source: Option<String>,
    pub note: Option<String>,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(ProgrammeRow, "programme");

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = sections, treat_none_as_null = true)]
pub struct SectionRow {
    pub id: String,
    pub programme_id: String,
    pub code: String,
    pub title: String,
    pub position: i32,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(SectionRow, "section");

pub fn by_key(conn: &mut Conn, key: &str) -> QueryResult<Option<ProgrammeRow>> {
    programmes::table
        .filter(programmes::key.eq(key))
        .select(ProgrammeRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<ProgrammeRow>> {
    programmes::table
        .find(id)
        .select(ProgrammeRow::as_select())
        .first(conn)
        .optional()
}

/// Programmes, latest period first, optionally of one party.
pub fn list(conn: &mut Conn, party_code: Option<&str>) -> QueryResult<Vec<ProgrammeRow>> {
    let mut query = programmes::table
        .select(ProgrammeRow::as_select())
        .order((programmes::period_start.desc(), programmes::key.asc()))
        .into_boxed();
    if let Some(code) = party_code {
        let of_party = programme_parties::table
            .inner_join(parties::table)
            .filter(parties::code.eq(code.to_string()))
            .select(programme_parties::programme_id);
        query = query.filter(programmes::id.eq_any(of_party));
    }
    query.load(conn)
}

pub fn of_agreement(conn: &mut Conn, agreement_id: &str) -> QueryResult<Vec<ProgrammeRow>> {
    programmes::table
        .filter(programmes::agreement_id.eq(agreement_id))
        .order(programmes::period_start.asc())
        .select(ProgrammeRow::as_select())
        .load(conn)
}

/// (programme id, party code) pairs.
pub fn party_codes(
    conn: &mut Conn,
    programme_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    programme_parties::table
        .inner_join(parties::table)
        .filter(programme_parties::programme_id.eq_any(programme_ids))
        .order((programme_parties::programme_id.asc(), parties::code.asc()))
        .select((programme_parties::programme_id, parties::code))
        .load(conn)
}

pub fn signatory_ids(conn: &mut Conn, programme_id: &str) -> QueryResult<Vec<String>> {
    programme_signatories::table
        .filter(programme_signatories::programme_id.eq(programme_id))
        .select(programme_signatories::organisation_id)
        .load(conn)
}

pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: ProgrammeRow,
    party_ids: &[String],
    signatory_ids: &[String],
) -> QueryResult<(ProgrammeRow, Outcome)> {
    let stored = by_key(conn, &row.key)?;
    let (row, outcome) = upsert_versioned!(conn, ctx, programmes::table, stored, row);
    replace_links!(
        conn,
        ctx,
        programme_parties,
        programme_id,
        &row.id,
        party_id,
        party_ids,
        "programme_party"
    )?;
    replace_links!(
        conn,
        ctx,
        programme_signatories,
        programme_id,
        &row.id,
        organisation_id,
        signatory_ids,
        "programme_signatory"
    )?;
    Ok((row, outcome))
}

pub fn sections_of(conn: &mut Conn, programme_id: &str) -> QueryResult<Vec<SectionRow>> {
    sections::table
        .filter(sections::programme_id.eq(programme_id))
        .order(sections::position.asc())
        .select(SectionRow::as_select())
        .load(conn)
}

pub fn upsert_section(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: SectionRow,
) -> QueryResult<(SectionRow, Outcome)> {
    let stored = sections::table
        .filter(sections::programme_id.eq(&row.programme_id))
        .filter(sections::code.eq(&row.code))
        .select(SectionRow::as_select())
        .first(conn)
        .optional()?;
    Ok(upsert_versioned!(conn, ctx, sections::table, stored, row))
}
