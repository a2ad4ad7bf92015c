//! Obligations (items of a programme or of a protocol) and their assignments.

use diesel::prelude::*;
use serde::Serialize;

use super::{upsert_versioned, versioned_record, Outcome, WriteContext};
use crate::db::schema::{assignments, obligations, organisations, parties};
use crate::db::Conn;

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = obligations, treat_none_as_null = true)]
pub struct ObligationRow {
    pub id: String,
    pub programme_id: Option<String>,
    pub section_id: Option<String>,
    pub meeting_id: Option<String>,
    pub decision_id: Option<String>,
    pub number: String,
    pub position: i32,
    pub text: String,
    pub kind: String,
    pub firmness: String,
    pub quantities: Option<String>,
    pub cost_terms: Option<String>,
    pub timeframe_kind: String,
    pub timeframe_text: String,
    pub earliest: Option<chrono::NaiveDate>,
    pub latest: Option<chrono::NaiveDate>,
    pub recurrence: Option<String>,
    pub lifecycle: String,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(ObligationRow, "obligation");

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = assignments)]
pub struct AssignmentRow {
    pub id: String,
    pub obligation_id: String,
    pub organisation_id: String,
    pub party_id: String,
    pub role: String,
}

/// An assignment with the names a reader needs.
#[derive(Debug, Clone, Serialize)]
pub struct AssignmentView {
    pub obligation_id: String,
    pub organisation_id: String,
    pub organisation_key: String,
    pub organisation_name: String,
    pub organisation_time_zone: String,
    pub party_code: String,
    pub role: String,
}

/// Where an obligation belongs: a programme, or the protocol of a meeting.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    Programme(&'a str),
    Meeting(&'a str),
}

pub fn by_number(
    conn: &mut Conn,
    owner: Owner<'_>,
    number: &str,
) -> QueryResult<Option<ObligationRow>> {
    let query = obligations::table
        .filter(obligations::number.eq(number))
        .select(ObligationRow::as_select())
        .into_boxed();
    let query = match owner {
        Owner::Programme(id) => query.filter(obligations::programme_id.eq(id.to_string())),
        Owner::Meeting(id) => query.filter(obligations::meeting_id.eq(id.to_string())),
    };
    query.first(conn).optional()
}

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<ObligationRow>> {
    obligations::table
        .find(id)
        .select(ObligationRow::as_select())
        .first(conn)
        .optional()
}

/// The items of a programme or protocol in source order.
pub fn of_owner(conn: &mut Conn, owner: Owner<'_>) -> QueryResult<Vec<ObligationRow>> {
    let query = obligations::table
        .order(obligations::position.asc())
        .select(ObligationRow::as_select())
        .into_boxed();
    match owner {
        Owner::Programme(id) => query.filter(obligations::programme_id.eq(id.to_string())),
        Owner::Meeting(id) => query.filter(obligations::meeting_id.eq(id.to_string())),
    }
    .load(conn)
}

pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    owner: Owner<'_>,
    row: ObligationRow,
) -> QueryResult<(ObligationRow, Outcome)> {
    let stored = by_number(conn, owner, &row.number)?;
    Ok(upsert_versioned!(
        conn,
        ctx,
        obligations::table,
        stored,
        row
    ))
}

pub fn assignments_of(
    conn: &mut Conn,
    obligation_ids: &[String],
) -> QueryResult<Vec<AssignmentView>> {
    let rows: Vec<(String, String, String, String, String, String, String)> = assignments::table
        .inner_join(organisations::table)
        .inner_join(parties::table)
        .filter(assignments::obligation_id.eq_any(obligation_ids))
        .order((
            assignments::obligation_id.asc(),
            parties::code.asc(),
            assignments::role.asc(),
        ))
        .select((
            assignments::obligation_id,
            assignments::organisation_id,
            organisations::key,
            organisations::name,
            organisations::time_zone,
            parties::code,
            assignments::role,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                obligation_id,
                organisation_id,
                organisation_key,
                organisation_name,
                organisation_time_zone,
                party_code,
                role,
            )| {
                AssignmentView {
                    obligation_id,
                    organisation_id,
                    organisation_key,
                    organisation_name,
                    organisation_time_zone,
                    party_code,
                    role,
                }
            },
        )
        .collect())
}

/// Makes the obligation's assignments exactly `wanted` (matched on
/// organisation, role and party), auditing each change.
pub fn replace_assignments(
    conn: &mut Conn,
    ctx: &WriteContext,
    obligation_id: &str,
    wanted: &[AssignmentRow],
) -> QueryResult<bool> {
    let existing: Vec<AssignmentRow> = assignments::table
        .filter(assignments::obligation_id.eq(obligation_id))
        .select(AssignmentRow::as_select())
        .load(conn)?;
    let same = |a: &AssignmentRow, b: &AssignmentRow| {
        a.organisation_id == b.organisation_id && a.role == b.role && a.party_id == b.party_id
    };
    let mut changed = false;
    for old in existing
        .iter()
        .filter(|e| !wanted.iter().any(|w| same(e, w)))
    {
        diesel::delete(assignments::table.find(&old.id)).execute(conn)?;
        super::audit::record(
            conn,
            ctx,
            "delete",
            "assignment",
            &old.id,
            Some(old),
            None::<&()>,
        )?;
        changed = true;
    }
    for new in wanted
        .iter()
        .filter(|w| !existing.iter().any(|e| same(e, w)))
    {
        let row = AssignmentRow {
            obligation_id: obligation_id.to_string(),
            ..new.clone()
        };
        diesel::insert_into(assignments::table)
            .values(&row)
            .execute(conn)?;
        super::audit::record(
            conn,
            ctx,
            "create",
            "assignment",
            &row.id,
            None::<&()>,
            Some(&row),
        )?;
        changed = true;
    }
    Ok(changed)
}
