//! Commissions, sub-commissions and working groups; their meetings and the
//! decisions those meetings adopt.

use diesel::prelude::*;
use serde::Serialize;

use super::{upsert_versioned, versioned_record, Outcome, WriteContext};
use crate::db::schema::{bodies, body_parties, decisions, meetings};
use crate::db::Conn;

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = bodies, treat_none_as_null = true)]
pub struct BodyRow {
    pub id: String,
    pub key: String,
    pub kind: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub agreement_id: Option<String>,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(BodyRow, "body");

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = body_parties)]
pub struct BodyPartyRow {
    pub body_id: String,
    pub party_id: String,
    pub co_chair: Option<String>,
}

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = meetings, treat_none_as_null = true)]
pub struct MeetingRow {
    pub id: String,
    pub body_id: String,
    pub number: i32,
    pub title: String,
    pub held_on: chrono::NaiveDate,
    pub start_local: Option<chrono::NaiveDateTime>,
    pub time_zone: String,
    pub starts_at: Option<chrono::NaiveDateTime>,
    pub tzdata_version: Option<String>,
    pub city: Option<String>,
    pub status: String,
    pub source: Option<String>,
    pub note: Option<String>,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(MeetingRow, "meeting");

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = decisions, treat_none_as_null = true)]
pub struct DecisionRow {
    pub id: String,
    pub meeting_id: String,
    pub number: String,
    pub kind: String,
    pub text: String,
    pub created_at: chrono::NaiveDateTime,
}

pub fn by_key(conn: &mut Conn, key: &str) -> QueryResult<Option<BodyRow>> {
    bodies::table
        .filter(bodies::key.eq(key))
        .select(BodyRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<BodyRow>> {
    bodies::table
        .find(id)
        .select(BodyRow::as_select())
        .first(conn)
        .optional()
}

pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: BodyRow,
    members: &[BodyPartyRow],
) -> QueryResult<(BodyRow, Outcome)> {
    let stored = by_key(conn, &row.key)?;
    let (row, outcome) = upsert_versioned!(conn, ctx, bodies::table, stored, row);
    let existing: Vec<BodyPartyRow> = body_parties::table
        .filter(body_parties::body_id.eq(&row.id))
        .select(BodyPartyRow::as_select())
        .load(conn)?;
    let wanted: Vec<BodyPartyRow> = members
        .iter()
        .map(|m| BodyPartyRow {
            body_id: row.id.clone(),
            ..m.clone()
        })
        .collect();
    for old in existing.iter().filter(|e| !wanted.contains(e)) {
        diesel::delete(
            body_parties::table
                .filter(body_parties::body_id.eq(&old.body_id))
                .filter(body_parties::party_id.eq(&old.party_id)),
        )
        .execute(conn)?;
        super::audit::record(
            conn,
            ctx,
            "delete",
            "body_party",
            &format!("{}/{}", old.body_id, old.party_id),
            Some(old),
            None::<&()>,
        )?;
    }
    for new in wanted.iter().filter(|w| !existing.contains(w)) {
        diesel::insert_into(body_parties::table)
            .values(new)
            .execute(conn)?;
        super::audit::record(
            conn,
            ctx,
            "create",
            "body_party",
            &format!("{}/{}", new.body_id, new.party_id),
            None::<&()>,
            Some(new),
        )?;
    }
    Ok((row, outcome))
}

pub fn meeting_by_number(
    conn: &mut Conn,
    body_id: &str,
    number: i32,
) -> QueryResult<Option<MeetingRow>> {
    meetings::table
        .filter(meetings::body_id.eq(body_id))
        .filter(meetings::number.eq(number))
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()
}

pub fn upsert_meeting(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: MeetingRow,
) -> QueryResult<(MeetingRow, Outcome)> {
    let stored = meeting_by_number(conn, &row.body_id, row.number)?;
    Ok(upsert_versioned!(conn, ctx, meetings::table, stored, row))
}

/// Decisions are the record of what a meeting adopted: created once, and
/// corrected in place only when the text of the protocol is corrected.
pub fn upsert_decision(
    conn: &mut Conn,
    ctx: &WriteContext,
    mut row: DecisionRow,
) -> QueryResult<(DecisionRow, Outcome)> {
    let stored = decision_by_number(conn, &row.meeting_id, &row.number)?;
    match stored {
        None => {
            diesel::insert_into(decisions::table)
                .values(&row)
                .execute(conn)?;
            super::audit::record(
                conn,
                ctx,
                "create",
                "decision",
                &row.id,
                None::<&()>,
                Some(&row),
            )?;
            Ok((row, Outcome::Created))
        }
        Some(old) => {
            row.id = old.id.clone();
            row.created_at = old.created_at;
            if row == old {
                return Ok((row, Outcome::Unchanged));
            }
            diesel::update(decisions::table.find(&row.id))
                .set(&row)
                .execute(conn)?;
            super::audit::record(
                conn,
                ctx,
                "update",
                "decision",
                &row.id,
                Some(&old),
                Some(&row),
            )?;
            Ok((row, Outcome::Updated))
        }
    }
}

pub fn decision_by_number(
    conn: &mut Conn,
    meeting_id: &str,
    number: &str,
) -> QueryResult<Option<DecisionRow>> {
    decisions::table
        .filter(decisions::meeting_id.eq(meeting_id))
        .filter(decisions::number.eq(number))
        .select(DecisionRow::as_select())
        .first(conn)
        .optional()
}

pub fn meeting_by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<MeetingRow>> {
    meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()
}

pub fn meetings_of(conn: &mut Conn, body_id: &str) -> QueryResult<Vec<MeetingRow>> {
    meetings::table
        .filter(meetings::body_id.eq(body_id))
        .order(meetings::number.asc())
        .select(MeetingRow::as_select())
        .load(conn)
}
