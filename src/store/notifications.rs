//! The outbox of notifications: what the planner queues (idempotently, by
//! dedupe key) and cancels. The worker's claims live in `store::outbox`.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::notifications;
use crate::db::Conn;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    pub dedupe_key: String,
    pub kind: String,
    pub contact_id: Option<String>,
    pub recipient: String,
    pub language: String,
    pub time_zone: String,
    pub programme_id: Option<String>,
    pub item_kind: Option<String>,
    pub item_id: Option<String>,
    pub occurrence: String,
    pub due_on: Option<NaiveDate>,
    pub offset_days: Option<i32>,
    pub payload: String,
    pub send_after: NaiveDateTime,
    pub state: String,
    pub attempts: i32,
    pub lease_until: Option<NaiveDateTime>,
    pub claimed_by: Option<String>,
    pub last_error: Option<String>,
    pub message_id: String,
    pub digest_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// States of a row (notifications.state).
pub mod state {
    pub const PENDING: &str = "pending";
    pub const SENDING: &str = "sending";
    pub const SENT: &str = "sent";
    pub const RETRY: &str = "retry";
    pub const FAILED: &str = "failed";
    pub const DEAD: &str = "dead";
    pub const CANCELLED: &str = "cancelled";
}

/// A Message-ID fixed when the row is queued, reused on every retry, so a
/// duplicate delivery is recognisable as one.
pub fn message_id(id: &str, domain: &str) -> String {
    format!("<{id}@{domain}>")
}

/// Queues a row unless one with its dedupe key exists (whoever planned it,
/// on whichever machine); true when this call queued it.
pub fn queue(conn: &mut Conn, row: &NotificationRow) -> QueryResult<bool> {
    // ON CONFLICT is not in diesel's MultiBackend; both backends speak it.
    let insert = diesel::insert_into(notifications::table).values(row);
    let n = match conn {
        Conn::Postgresql(c) => insert
            .on_conflict(notifications::dedupe_key)
            .do_nothing()
            .execute(c)?,
        Conn::Sqlite(c) => insert
            .on_conflict(notifications::dedupe_key)
            .do_nothing()
            .execute(c)?,
    };
    Ok(n == 1)
}

/// `queue` for many rows; the number queued. On PostgreSQL, multi-row
/// inserts (500 rows each, within its limit on bound values): a round trip
/// per row was most of planning 10,000 due items. SQLite, in process, has no
/// round trips to save (and diesel's batch insert there cannot skip conflicts).
pub fn queue_all(conn: &mut Conn, rows: &[NotificationRow]) -> QueryResult<usize> {
    let mut queued = 0;
    match conn {
        Conn::Postgresql(c) => {
            for chunk in rows.chunks(500) {
                queued += diesel::insert_into(notifications::table)
                    .values(chunk)
                    .on_conflict(notifications::dedupe_key)
                    .do_nothing()
                    .execute(c)?;
            }
        }
        Conn::Sqlite(_) => {
            for row in rows {
                if queue(conn, row)? {
                    queued += 1;
                }
            }
        }
    }
    Ok(queued)
}

/// Cancels the rows about an item that have not gone out yet: pending,
/// waiting for a retry, or claimed (the worker checks the row right before
/// sending and skips a cancelled one); the number cancelled.
pub fn cancel_unsent_for_item(
    conn: &mut Conn,
    item_kind: &str,
    item_id: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .filter(notifications::item_kind.eq(item_kind))
            .filter(notifications::item_id.eq(item_id))
            .filter(notifications::state.eq_any([state::PENDING, state::RETRY, state::SENDING])),
    )
    .set((
        notifications::state.eq(state::CANCELLED),
        notifications::updated_at.eq(at),
    ))
    .execute(conn)
}

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<NotificationRow>> {
    notifications::table
        .find(id)
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()
}
