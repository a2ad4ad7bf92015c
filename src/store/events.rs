//! Events: days of culture, tours, exhibitions, meetings, in local time.

use diesel::prelude::*;
use serde::Serialize;

use super::{replace_links, upsert_versioned, versioned_record, Outcome, WriteContext};
use crate::db::schema::{event_obligations, event_organisations, events};
use crate::db::Conn;

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = events, treat_none_as_null = true)]
pub struct EventRow {
    pub id: String,
    pub key: Option<String>,
    pub title: String,
    pub kind: String,
    pub status: String,
    pub schedule: String,
    pub timeframe_kind: String,
    pub timeframe_text: String,
    pub earliest: Option<chrono::NaiveDate>,
    pub latest: Option<chrono::NaiveDate>,
    pub start_local: Option<chrono::NaiveDateTime>,
    pub end_local: Option<chrono::NaiveDateTime>,
    pub time_zone: Option<String>,
    pub starts_at: Option<chrono::NaiveDateTime>,
    pub ends_at: Option<chrono::NaiveDateTime>,
    pub tzdata_version: Option<String>,
    pub recurrence: Option<String>,
    pub host_party_id: Option<String>,
    pub guest_party_id: Option<String>,
    pub city: Option<String>,
    pub venue: Option<String>,
    pub source: Option<String>,
    pub note: Option<String>,
    pub sequence: i32,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(EventRow, "event");

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = event_organisations)]
pub struct EventOrganisationRow {
    pub event_id: String,
    pub organisation_id: String,
    pub role: String,
}

pub fn by_key(conn: &mut Conn, key: &str) -> QueryResult<Option<EventRow>> {
    events::table
        .filter(events::key.eq(key))
        .select(EventRow::as_select())
        .first(conn)
        .optional()
}

/// Stores an event matched on its key. A change of date, time or status
/// raises its SEQUENCE, as calendar clients expect (RFC 5545).
pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    mut row: EventRow,
    organisations: &[EventOrganisationRow],
    obligation_ids: &[String],
) -> QueryResult<(EventRow, Outcome)> {
    let key = row.key.clone().unwrap_or_default();
    let stored = by_key(conn, &key)?;
    if let Some(old) = &stored {
        row.sequence = old.sequence;
        let rescheduled = old.start_local != row.start_local
            || old.end_local != row.end_local
            || old.time_zone != row.time_zone
            || old.earliest != row.earliest
            || old.latest != row.latest
            || old.recurrence != row.recurrence
            || old.status != row.status;
        if rescheduled {
            row.sequence += 1;
        }
    }
    let (row, outcome) = upsert_versioned!(conn, ctx, events::table, stored, row);
    let existing: Vec<EventOrganisationRow> = event_organisations::table
        .filter(event_organisations::event_id.eq(&row.id))
        .select(EventOrganisationRow::as_select())
        .load(conn)?;
    let wanted: Vec<EventOrganisationRow> = organisations
        .iter()
        .map(|o| EventOrganisationRow {
            event_id: row.id.clone(),
            ..o.clone()
        })
        .collect();
    for old in existing.iter().filter(|e| !wanted.contains(e)) {
        diesel::delete(
            event_organisations::table
                .filter(event_organisations::event_id.eq(&old.event_id))
                .filter(event_organisations::organisation_id.eq(&old.organisation_id)),
        )
        .execute(conn)?;
        super::audit::record(
            conn,
            ctx,
            "delete",
            "event_organisation",
            &format!("{}/{}", old.event_id, old.organisation_id),
            Some(old),
            None::<&()>,
        )?;
    }
    for new in wanted.iter().filter(|w| !existing.contains(w)) {
        diesel::insert_into(event_organisations::table)
            .values(new)
            .execute(conn)?;
        super::audit::record(
            conn,
            ctx,
            "create",
            "event_organisation",
            &format!("{}/{}", new.event_id, new.organisation_id),
            None::<&()>,
            Some(new),
        )?;
    }
    replace_links!(
        conn,
        ctx,
        event_obligations,
        event_id,
        &row.id,
        obligation_id,
        obligation_ids,
        "event_obligation"
    )?;
    Ok((row, outcome))
}

/// (obligation id, event row) for the events linked to the given obligations.
pub fn linked_to_obligations(
    conn: &mut Conn,
    obligation_ids: &[String],
) -> QueryResult<Vec<(String, EventRow)>> {
    event_obligations::table
        .inner_join(events::table)
        .filter(event_obligations::obligation_id.eq_any(obligation_ids))
        .order(events::earliest.asc())
        .select((event_obligations::obligation_id, EventRow::as_select()))
        .load(conn)
}

pub fn count(conn: &mut Conn) -> QueryResult<i64> {
    events::table.count().get_result(conn)
}
