//! Organisations (ministries, theatres, libraries...) and their contacts.

use diesel::prelude::*;
use serde::Serialize;

use super::{
    delete_versioned, insert_audited, update_versioned, upsert_versioned, versioned_record,
    Outcome, Versioned, WriteContext,
};
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

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<OrganisationRow>> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()
}

/// Filters of the organisation list; all optional.
#[derive(Debug, Default, Clone)]
pub struct OrganisationFilter {
    pub party_id: Option<String>,
    pub kind: Option<String>,
    pub parent_id: Option<String>,
    /// Lower-cased text to find in the key or the name in any language.
    pub text: Option<String>,
}

fn filtered<'a>(
    filter: &OrganisationFilter,
) -> organisations::BoxedQuery<'a, crate::db::MultiBackend> {
    let mut query = organisations::table.into_boxed();
    if let Some(p) = &filter.party_id {
        query = query.filter(organisations::party_id.eq(p.clone()));
    }
    if let Some(k) = &filter.kind {
        query = query.filter(organisations::kind.eq(k.clone()));
    }
    if let Some(p) = &filter.parent_id {
        query = query.filter(organisations::parent_id.eq(p.clone()));
    }
    query
}

/// Organisations matching the filter, by key, after the key `after`. Text is
/// matched in the application (see `parties::text_matches`); organisations
/// are reference data, hundreds rather than millions.
pub fn search(
    conn: &mut Conn,
    filter: &OrganisationFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<OrganisationRow>> {
    let mut query = filtered(filter)
        .select(OrganisationRow::as_select())
        .order(organisations::key.asc());
    if let Some(a) = after {
        query = query.filter(organisations::key.gt(a.to_string()));
    }
    match &filter.text {
        None => query.limit(limit).load(conn),
        Some(needle) => {
            let mut rows: Vec<OrganisationRow> = query
                .load(conn)?
                .into_iter()
                .filter(|r| super::parties::text_matches(needle, &[&r.key], &r.name))
                .collect();
            rows.truncate(usize::try_from(limit).unwrap_or(0));
            Ok(rows)
        }
    }
}

pub fn count(conn: &mut Conn, filter: &OrganisationFilter) -> QueryResult<i64> {
    match &filter.text {
        None => filtered(filter).count().get_result(conn),
        Some(needle) => {
            let rows: Vec<(String, String)> = filtered(filter)
                .select((organisations::key, organisations::name))
                .load(conn)?;
            let n = rows
                .iter()
                .filter(|(key, name)| super::parties::text_matches(needle, &[key], name))
                .count();
            Ok(i64::try_from(n).unwrap_or(i64::MAX))
        }
    }
}

/// Whether `candidate` is `id` or lies below it (a parent chain from
/// `candidate` reaches `id`): such a parent would make a cycle.
pub fn is_self_or_descendant(conn: &mut Conn, candidate: &str, id: &str) -> QueryResult<bool> {
    let mut seen = std::collections::HashSet::new();
    let mut current = Some(candidate.to_string());
    while let Some(c) = current {
        if c == id {
            return Ok(true);
        }
        if !seen.insert(c.clone()) {
            // Already a cycle above: not ours to report here.
            return Ok(false);
        }
        current = organisations::table
            .find(&c)
            .select(organisations::parent_id)
            .first::<Option<String>>(conn)
            .optional()?
            .flatten();
    }
    Ok(false)
}

/// What still refers to an organisation, as (what, how many), only the non-zero.
pub fn references(conn: &mut Conn, id: &str) -> QueryResult<Vec<(&'static str, i64)>> {
    use crate::db::schema::{
        agreement_signatories, assignments, event_organisations, programme_signatories, users,
    };
    let counts = [
        (
            "assignments",
            assignments::table
                .filter(assignments::organisation_id.eq(id))
                .count()
                .get_result::<i64>(conn)?,
        ),
        (
            "events",
            event_organisations::table
                .filter(event_organisations::organisation_id.eq(id))
                .count()
                .get_result(conn)?,
        ),
        (
            "users",
            users::table
                .filter(users::organisation_id.eq(id))
                .count()
                .get_result(conn)?,
        ),
        (
            "child organisations",
            organisations::table
                .filter(organisations::parent_id.eq(id))
                .count()
                .get_result(conn)?,
        ),
        (
            "contacts",
            contacts::table
                .filter(contacts::organisation_id.eq(id))
                .count()
                .get_result(conn)?,
        ),
        (
            "agreements (as signatory)",
            agreement_signatories::table
                .filter(agreement_signatories::organisation_id.eq(id))
                .count()
                .get_result(conn)?,
        ),
        (
            "programmes (as signatory)",
            programme_signatories::table
                .filter(programme_signatories::organisation_id.eq(id))
                .count()
                .get_result(conn)?,
        ),
    ];
    Ok(counts.into_iter().filter(|(_, n)| *n > 0).collect())
}

pub fn create(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: OrganisationRow,
) -> QueryResult<OrganisationRow> {
    Ok(insert_audited!(conn, ctx, organisations::table, row))
}

/// Replaces the stored row if it is still at version `expected`.
pub fn update(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: OrganisationRow,
    new: OrganisationRow,
    expected: i32,
) -> QueryResult<Versioned<OrganisationRow>> {
    Ok(update_versioned!(
        conn,
        ctx,
        organisations::table,
        organisations::version,
        stored,
        new,
        expected
    ))
}

/// Deletes the row if it is still at version `expected`; false if it changed.
pub fn delete(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: OrganisationRow,
    expected: i32,
) -> QueryResult<bool> {
    Ok(delete_versioned!(
        conn,
        ctx,
        organisations::table,
        organisations::version,
        stored,
        expected
    ))
}

pub fn contact_by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<ContactRow>> {
    contacts::table
        .find(id)
        .select(ContactRow::as_select())
        .first(conn)
        .optional()
}

pub fn contact_by_email(
    conn: &mut Conn,
    organisation_id: &str,
    email: &str,
) -> QueryResult<Option<ContactRow>> {
    contacts::table
        .filter(contacts::organisation_id.eq(organisation_id))
        .filter(contacts::email.eq(email))
        .select(ContactRow::as_select())
        .first(conn)
        .optional()
}

/// Filters of an organisation's contact list; all optional.
#[derive(Debug, Default, Clone)]
pub struct ContactFilter {
    pub role: Option<String>,
    pub active: Option<bool>,
}

fn contacts_filtered<'a>(
    organisation_id: &str,
    filter: &ContactFilter,
) -> contacts::BoxedQuery<'a, crate::db::MultiBackend> {
    let mut query = contacts::table
        .filter(contacts::organisation_id.eq(organisation_id.to_string()))
        .into_boxed();
    if let Some(r) = &filter.role {
        query = query.filter(contacts::role.eq(r.clone()));
    }
    if let Some(a) = filter.active {
        query = query.filter(contacts::active.eq(a));
    }
    query
}

/// An organisation's contacts matching the filter, by email (unique within
/// the organisation), after the email `after`.
pub fn search_contacts(
    conn: &mut Conn,
    organisation_id: &str,
    filter: &ContactFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<ContactRow>> {
    let mut query = contacts_filtered(organisation_id, filter)
        .select(ContactRow::as_select())
        .order(contacts::email.asc())
        .limit(limit);
    if let Some(a) = after {
        query = query.filter(contacts::email.gt(a.to_string()));
    }
    query.load(conn)
}

pub fn count_contacts(
    conn: &mut Conn,
    organisation_id: &str,
    filter: &ContactFilter,
) -> QueryResult<i64> {
    contacts_filtered(organisation_id, filter)
        .count()
        .get_result(conn)
}

pub fn create_contact(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: ContactRow,
) -> QueryResult<ContactRow> {
    Ok(insert_audited!(conn, ctx, contacts::table, row))
}

/// Replaces the stored contact if it is still at version `expected`.
pub fn update_contact(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: ContactRow,
    new: ContactRow,
    expected: i32,
) -> QueryResult<Versioned<ContactRow>> {
    Ok(update_versioned!(
        conn,
        ctx,
        contacts::table,
        contacts::version,
        stored,
        new,
        expected
    ))
}

/// Deletes the contact if it is still at version `expected`; false if it changed.
pub fn delete_contact(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: ContactRow,
    expected: i32,
) -> QueryResult<bool> {
    Ok(delete_versioned!(
        conn,
        ctx,
        contacts::table,
        contacts::version,
        stored,
        expected
    ))
}
