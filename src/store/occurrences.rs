//! One occurrence of a recurring event moved or cancelled (RFC 5545
//! RECURRENCE-ID), keyed by the event and the occurrence's original local start.

use diesel::prelude::*;
use serde::Serialize;

use super::WriteContext;
use crate::db::schema::event_occurrences;
use crate::db::Conn;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = event_occurrences, treat_none_as_null = true)]
pub struct OccurrenceRow {
    pub event_id: String,
    /// The original start: local wall time in the event's zone (midnight for all-day).
    pub recurrence_local: chrono::NaiveDateTime,
    pub status: String,
    /// The start as changed (local; midnight of the first day for all-day).
    pub start_local: chrono::NaiveDateTime,
    /// The end as changed (local; midnight of the last day, inclusive, for all-day).
    pub end_local: Option<chrono::NaiveDateTime>,
    pub starts_at: Option<chrono::NaiveDateTime>,
    pub ends_at: Option<chrono::NaiveDateTime>,
    pub tzdata_version: Option<String>,
    pub note: Option<String>,
    /// Rises on every change of its start, end or status (RFC 5545 SEQUENCE).
    pub sequence: i32,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl OccurrenceRow {
    /// Its id in the audit log: event id and original start.
    pub fn audit_id(&self) -> String {
        format!(
            "{}/{}",
            self.event_id,
            self.recurrence_local.format("%Y-%m-%dT%H:%M:%S")
        )
    }
}

const ENTITY: &str = "event_occurrence";

/// The changed occurrences of one event, by original start.
pub fn of_event(conn: &mut Conn, event_id: &str) -> QueryResult<Vec<OccurrenceRow>> {
    event_occurrences::table
        .filter(event_occurrences::event_id.eq(event_id))
        .order(event_occurrences::recurrence_local.asc())
        .select(OccurrenceRow::as_select())
        .load(conn)
}

/// The changed occurrences of several events.
pub fn of_events(conn: &mut Conn, event_ids: &[String]) -> QueryResult<Vec<OccurrenceRow>> {
    if event_ids.is_empty() {
        return Ok(vec![]);
    }
    event_occurrences::table
        .filter(event_occurrences::event_id.eq_any(event_ids))
        .order((
            event_occurrences::event_id.asc(),
            event_occurrences::recurrence_local.asc(),
        ))
        .select(OccurrenceRow::as_select())
        .load(conn)
}

pub fn get(
    conn: &mut Conn,
    event_id: &str,
    recurrence_local: chrono::NaiveDateTime,
) -> QueryResult<Option<OccurrenceRow>> {
    event_occurrences::table
        .find((event_id, recurrence_local))
        .select(OccurrenceRow::as_select())
        .first(conn)
        .optional()
}

/// Stores a changed occurrence over `stored` (None: a new one), audited.
pub fn write(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: Option<&OccurrenceRow>,
    row: &OccurrenceRow,
) -> QueryResult<()> {
    match stored {
        None => {
            diesel::insert_into(event_occurrences::table)
                .values(row)
                .execute(conn)?;
            super::audit::record(
                conn,
                ctx,
                "create",
                ENTITY,
                &row.audit_id(),
                None::<&()>,
                Some(row),
            )
        }
        Some(old) => {
            diesel::update(
                event_occurrences::table.find((old.event_id.as_str(), old.recurrence_local)),
            )
            .set(row)
            .execute(conn)?;
            super::audit::record(
                conn,
                ctx,
                "update",
                ENTITY,
                &row.audit_id(),
                Some(old),
                Some(row),
            )
        }
    }
}

/// Deletes a changed occurrence (its series no longer has it), audited.
pub fn delete(conn: &mut Conn, ctx: &WriteContext, row: &OccurrenceRow) -> QueryResult<()> {
    diesel::delete(event_occurrences::table.find((row.event_id.as_str(), row.recurrence_local)))
        .execute(conn)?;
    super::audit::record(
        conn,
        ctx,
        "delete",
        ENTITY,
        &row.audit_id(),
        Some(row),
        None::<&()>,
    )
}

/// Changed occurrences starting after `now` whose instants an older tzdata
/// derived, with their event's zone.
pub fn stale_instants(
    conn: &mut Conn,
    now: chrono::NaiveDateTime,
    running: &str,
) -> QueryResult<Vec<(OccurrenceRow, Option<String>)>> {
    use crate::db::schema::events;
    event_occurrences::table
        .inner_join(events::table.on(events::id.eq(event_occurrences::event_id)))
        .filter(event_occurrences::starts_at.gt(now))
        .filter(event_occurrences::tzdata_version.ne(running))
        .select((OccurrenceRow::as_select(), events::time_zone))
        .load(conn)
}
