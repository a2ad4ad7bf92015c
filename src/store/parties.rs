//! Parties: states and sub-national regions.

use diesel::prelude::*;
use serde::Serialize;

use super::{upsert_versioned, versioned_record, Outcome, WriteContext};
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
