//! Organisations (ministries, theatres, libraries...) and their contacts.

use diesel::prelude::*;
use serde::Serialize;

use super::{upsert_versioned, versioned_record, Outcome, WriteContext};
use crate::db::schema::{contacts, organisations};
use crate::db::Conn;

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = organisations, treat_none_as_null = true)]
pub struct OrganisationRow {
    pub id: String,
    pub key: String,
    pub party_id: String,
    pub parent_id: Option<String>,
    pub kind: String,
    pub name: String,
    pub time_zone: String,
    pub email: Option<String>,
    pub website: Option<String>,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(OrganisationRow, "organisation");

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = contacts, treat_none_as_null = true)]
pub struct ContactRow {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub email: String,
    pub language: String,
    pub time_zone: String,
    pub role: String,
    pub notifications: String,
    pub active: bool,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(ContactRow, "contact");

pub fn by_key(conn: &mut Conn, key: &str) -> QueryResult<Option<OrganisationRow>> {
    organisations::table
        .filter(organisations::key.eq(key))
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_ids(conn: &mut Conn, ids: &[String]) -> QueryResult<Vec<OrganisationRow>> {
    organisations::table
        .filter(organisations::id.eq_any(ids))
        .select(OrganisationRow::as_select())
        .load(conn)
}

pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: OrganisationRow,
) -> QueryResult<(OrganisationRow, Outcome)> {
    let stored = by_key(conn, &row.key)?;
    Ok(upsert_versioned!(
        conn,
        ctx,
        organisations::table,
        stored,
        row
    ))
}

pub fn upsert_contact(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: ContactRow,
) -> QueryResult<(ContactRow, Outcome)> {
    let stored = contacts::table
        .filter(contacts::organisation_id.eq(&row.organisation_id))
        .filter(contacts::email.eq(&row.email))
        .select(ContactRow::as_select())
        .first(conn)
        .optional()?;
    Ok(upsert_versioned!(conn, ctx, contacts::table, stored, row))
}

pub fn contacts_of(conn: &mut Conn, organisation_ids: &[String]) -> QueryResult<Vec<ContactRow>> {
    contacts::table
        .filter(contacts::organisation_id.eq_any(organisation_ids))
        .order((
            contacts::organisation_id.asc(),
            contacts::role.asc(),
            contacts::name.asc(),
        ))
        .select(ContactRow::as_select())
        .load(conn)
}
