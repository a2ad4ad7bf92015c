//! The worker's side of the outbox: claims with a lease, the outcome of each
//! attempt, and what the API and `/metrics` read.
//!
//! A row moves pending -> sending (claimed: `claimed_by`, `lease_until`,
//! `attempts` + 1) -> sent, retry (due again at `send_after`), failed (the
//! server refused it for good) or dead (out of attempts). A row whose lease
//! ran out while `sending` (its worker died or hung) is claimed again.
//!
//! Who may write an outcome:
//! - a failure (retry, failed, dead) only by the worker that holds the claim,
//!   so a worker whose lease expired cannot overwrite the claim of the worker
//!   that took the row over, nor turn a row another worker sent back into a
//!   retry;
//! - a delivery (sent) by any worker that delivered it, whoever holds the
//!   claim now: the message went out, and saying so stops the new holder,
//!   which re-checks the row before sending, from sending it again. A sent row
//!   never changes again.
//!
//! These are the worker's own bookkeeping, not user writes: they are not
//! audited (the row itself keeps state, attempts and the last error).

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::count_star;
use diesel::prelude::*;

use crate::db::schema::notifications;
use crate::db::{write_transaction, Conn};
use crate::store::notifications::{state, NotificationRow};

/// What one claim took.
#[derive(Debug, Default)]
pub struct Claim {
    /// Rows now `sending` under this worker's lease, by `send_after`.
    pub rows: Vec<NotificationRow>,
    /// Rows given up as dead: their lease ran out with no attempts left (a
    /// message that kills or hangs every worker that tries it).
    pub abandoned: Vec<String>,
}

/// Claims up to `batch` due rows for `worker_id` until `now + lease`: rows
/// pending or waiting for a retry whose `send_after` has come, and rows left
/// `sending` by a worker whose lease has run out. On PostgreSQL the rows are
/// locked with `FOR UPDATE SKIP LOCKED`, so workers claiming at the same time
/// take different rows without waiting for each other; on SQLite the
/// immediate transaction makes claims one at a time.
pub fn claim(
    conn: &mut Conn,
    worker_id: &str,
    now: NaiveDateTime,
    lease: Duration,
    batch: i64,
    max_attempts: i32,
) -> QueryResult<Claim> {
    write_transaction(conn, |conn| {
        // The same query on both backends; only PostgreSQL has (and needs) row locks.
        macro_rules! due {
            () => {
                notifications::table
                    // A row gathered into a digest (or an escalation) goes out with it, never alone.
                    .filter(notifications::digest_id.is_null())
                    .filter(
                        notifications::state
                            .eq_any([state::PENDING, state::RETRY])
                            .and(notifications::send_after.le(now))
                            .nullable()
                            .or(notifications::state
                                .eq(state::SENDING)
                                .and(notifications::lease_until.lt(now))),
                    )
                    .order((notifications::send_after.asc(), notifications::id.asc()))
                    .limit(batch)
                    .select((
                        notifications::id,
                        notifications::state,
                        notifications::attempts,
                    ))
            };
        }
        let candidates: Vec<(String, String, i32)> = match conn {
            Conn::Postgresql(c) => due!().for_update().skip_locked().load(c)?,
            Conn::Sqlite(c) => due!().load(c)?,
        };
        let (abandoned, claimed): (Vec<_>, Vec<_>) = candidates
            .into_iter()
            .partition(|(_, s, attempts)| s == state::SENDING && *attempts >= max_attempts);
        let abandoned: Vec<String> = abandoned.into_iter().map(|(id, _, _)| id).collect();
        let claimed: Vec<String> = claimed.into_iter().map(|(id, _, _)| id).collect();
        if !abandoned.is_empty() {
            diesel::update(notifications::table.filter(notifications::id.eq_any(&abandoned)))
                .set((
                    notifications::state.eq(state::DEAD),
                    notifications::lease_until.eq(None::<NaiveDateTime>),
                    notifications::last_error.eq(format!(
                        "no attempts left: the lease of attempt {max_attempts} or later ran out \
                         (the worker died or hung while sending)"
                    )),
                    notifications::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        if claimed.is_empty() {
            return Ok(Claim {
                rows: Vec::new(),
                abandoned,
            });
        }
        diesel::update(notifications::table.filter(notifications::id.eq_any(&claimed)))
            .set((
                notifications::state.eq(state::SENDING),
                notifications::lease_until.eq(now + lease),
                notifications::claimed_by.eq(worker_id),
                notifications::attempts.eq(notifications::attempts + 1),
                notifications::updated_at.eq(now),
            ))
            .execute(conn)?;
        let rows = notifications::table
            .filter(notifications::id.eq_any(&claimed))
            .order((notifications::send_after.asc(), notifications::id.asc()))
            .select(NotificationRow::as_select())
            .load(conn)?;
        Ok(Claim { rows, abandoned })
    })
}

/// Right before sending: true when `worker_id` still holds the row (still
/// `sending` under its claim: not cancelled, not taken over after its lease
/// ran out), and then renews the lease to `now + lease`, so one lease covers
/// one SMTP conversation rather than a whole batch.
pub fn hold(
    conn: &mut Conn,
    id: &str,
    worker_id: &str,
    now: NaiveDateTime,
    lease: Duration,
) -> QueryResult<bool> {
    write_transaction(conn, |conn| hold_in(conn, id, worker_id, now, lease))
}

/// `hold` inside the caller's transaction: the worker records one row's
/// outcome and holds the next row in one transaction, which saves one
/// transaction per row without widening the window between the re-check
/// and the send.
pub fn hold_in(
    conn: &mut Conn,
    id: &str,
    worker_id: &str,
    now: NaiveDateTime,
    lease: Duration,
) -> QueryResult<bool> {
    let n = diesel::update(held(id, worker_id))
        .set((
            notifications::lease_until.eq(now + lease),
            notifications::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// The query of one row, only while a worker holds its claim.
type Held<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<notifications::table, diesel::dsl::Eq<notifications::id, &'a str>>,
        diesel::dsl::Eq<notifications::state, &'static str>,
    >,
    diesel::dsl::Eq<notifications::claimed_by, &'a str>,
>;

/// The row, only while `worker_id` holds its claim.
fn held<'a>(id: &'a str, worker_id: &'a str) -> Held<'a> {
    notifications::table
        .filter(notifications::id.eq(id))
        .filter(notifications::state.eq(state::SENDING))
        .filter(notifications::claimed_by.eq(worker_id))
}

/// Records a delivery by `worker_id`: the row is sent, whoever holds its
/// claim now (see the module's notes). False when it was already recorded as
/// sent (another worker delivered it too: a duplicate with the same
/// Message-ID).
pub fn complete(
    conn: &mut Conn,
    id: &str,
    worker_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    write_transaction(conn, |conn| complete_in(conn, id, worker_id, now))
}

/// `complete` inside the caller's transaction.
pub fn complete_in(
    conn: &mut Conn,
    id: &str,
    worker_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::state.ne(state::SENT)),
    )
    .set((
        notifications::state.eq(state::SENT),
        notifications::sent_at.eq(now),
        notifications::lease_until.eq(None::<NaiveDateTime>),
        notifications::claimed_by.eq(worker_id),
        notifications::updated_at.eq(now),
    ))
    .execute(conn)?;
    // The rows gathered into a digest went out with it.
    diesel::update(waiting_members(id))
        .set((
            notifications::state.eq(state::SENT),
            notifications::sent_at.eq(now),
            notifications::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

type OfDigest<'a> =
    diesel::dsl::Filter<notifications::table, diesel::dsl::Eq<notifications::digest_id, &'a str>>;
type Waiting<'a> =
    diesel::dsl::Filter<OfDigest<'a>, diesel::dsl::EqAny<notifications::state, [&'static str; 2]>>;

/// The rows gathered into digest `id` that still wait for it to go out.
fn waiting_members(id: &str) -> Waiting<'_> {
    notifications::table
        .filter(notifications::digest_id.eq(id))
        .filter(notifications::state.eq_any([state::PENDING, state::RETRY]))
}

/// A digest that ended without being sent (failed or dead) ends its members the
/// same way, each saying why: they were never sent on their own, and must not
/// look pending for ever (nor be counted as waiting in /metrics).
fn end_members(
    conn: &mut Conn,
    id: &str,
    end: &str,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let why = clip(&format!("its digest {id} ended {end}: {error}"));
    diesel::update(waiting_members(id))
        .set((
            notifications::state.eq(end),
            notifications::last_error.eq(why),
            notifications::updated_at.eq(now),
        ))
        .execute(conn)
}

/// What a transient failure made of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retried {
    /// Due again at the given instant.
    Retry,
    /// Out of attempts.
    Dead,
    /// This worker no longer held the row: nothing recorded.
    NotHeld,
}

/// Records a transient failure (4xx, refused, timeout) by the holder of the
/// claim: `retry` at `next_at`, or `dead` once `attempts` reached `max_attempts`.
pub fn fail_transient(
    conn: &mut Conn,
    id: &str,
    worker_id: &str,
    now: NaiveDateTime,
    error: &str,
    next_at: NaiveDateTime,
    max_attempts: i32,
) -> QueryResult<Retried> {
    write_transaction(conn, |conn| {
        fail_transient_in(conn, id, worker_id, now, error, next_at, max_attempts)
    })
}

/// `fail_transient` inside the caller's transaction.
pub fn fail_transient_in(
    conn: &mut Conn,
    id: &str,
    worker_id: &str,
    now: NaiveDateTime,
    error: &str,
    next_at: NaiveDateTime,
    max_attempts: i32,
) -> QueryResult<Retried> {
    let error = clip(error);
    let dead = diesel::update(held(id, worker_id).filter(notifications::attempts.ge(max_attempts)))
        .set((
            notifications::state.eq(state::DEAD),
            notifications::last_error.eq(&error),
            notifications::lease_until.eq(None::<NaiveDateTime>),
            notifications::updated_at.eq(now),
        ))
        .execute(conn)?;
    if dead == 1 {
        end_members(conn, id, state::DEAD, &error, now)?;
        return Ok(Retried::Dead);
    }
    let retry = diesel::update(held(id, worker_id))
        .set((
            notifications::state.eq(state::RETRY),
            notifications::send_after.eq(next_at),
            notifications::last_error.eq(&error),
            notifications::lease_until.eq(None::<NaiveDateTime>),
            notifications::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(if retry == 1 {
        Retried::Retry
    } else {
        Retried::NotHeld
    })
}

/// Records a permanent failure (5xx, an address that cannot be written) by
/// the holder of the claim: `failed`, never tried again. False when this
/// worker no longer held the row.
pub fn fail_permanent(
    conn: &mut Conn,
    id: &str,
    worker_id: &str,
    now: NaiveDateTime,
    error: &str,
) -> QueryResult<bool> {
    write_transaction(conn, |conn| {
        fail_permanent_in(conn, id, worker_id, now, error)
    })
}

/// `fail_permanent` inside the caller's transaction.
pub fn fail_permanent_in(
    conn: &mut Conn,
    id: &str,
    worker_id: &str,
    now: NaiveDateTime,
    error: &str,
) -> QueryResult<bool> {
    let error = clip(error);
    let n = diesel::update(held(id, worker_id))
        .set((
            notifications::state.eq(state::FAILED),
            notifications::last_error.eq(&error),
            notifications::lease_until.eq(None::<NaiveDateTime>),
            notifications::updated_at.eq(now),
        ))
        .execute(conn)?;
    if n == 1 {
        end_members(conn, id, state::FAILED, &error, now)?;
    }
    Ok(n == 1)
}

/// Gives back rows this worker claimed but did not try (it is stopping): due
/// again at once, the claim's attempt not counted. The number given back.
pub fn release(
    conn: &mut Conn,
    ids: &[String],
    worker_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    write_transaction(conn, |conn| {
        let mine = notifications::table
            .filter(notifications::id.eq_any(ids))
            .filter(notifications::state.eq(state::SENDING))
            .filter(notifications::claimed_by.eq(worker_id));
        // Tried before this claim: a retry again; never tried: pending again.
        let retries = diesel::update(mine.clone().filter(notifications::attempts.gt(1)))
            .set((
                notifications::state.eq(state::RETRY),
                notifications::attempts.eq(notifications::attempts - 1),
                notifications::lease_until.eq(None::<NaiveDateTime>),
                notifications::updated_at.eq(now),
            ))
            .execute(conn)?;
        let firsts = diesel::update(mine.filter(notifications::attempts.le(1)))
            .set((
                notifications::state.eq(state::PENDING),
                notifications::attempts.eq(0),
                notifications::lease_until.eq(None::<NaiveDateTime>),
                notifications::updated_at.eq(now),
            ))
            .execute(conn)?;
        let n = retries + firsts;
        Ok(n)
    })
}

/// Error texts are kept to a readable length (an SMTP reply can be long).
fn clip(error: &str) -> String {
    const MAX: usize = 1000;
    match error.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &error[..end]),
        None => error.to_string(),
    }
}

/// The outbox in numbers, from the table (so every instance reports the same).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Rows per state; every state is present, zero or not.
    pub by_state: Vec<(&'static str, i64)>,
    /// Rows that needed more than one attempt.
    pub retried: i64,
    /// Attempts beyond the first, over all rows.
    pub retries: i64,
}

pub const STATES: [&str; 7] = [
    state::PENDING,
    state::SENDING,
    state::SENT,
    state::RETRY,
    state::FAILED,
    state::DEAD,
    state::CANCELLED,
];

pub fn counts(conn: &mut Conn) -> QueryResult<OutboxCounts> {
    let grouped: Vec<(String, i64)> = notifications::table
        .group_by(notifications::state)
        .select((notifications::state, count_star()))
        .load(conn)?;
    let by_state = STATES
        .iter()
        .map(|s| {
            let n = grouped
                .iter()
                .find(|(state, _)| state == s)
                .map_or(0, |(_, n)| *n);
            (*s, n)
        })
        .collect();
    let retried = notifications::table
        .filter(notifications::attempts.gt(1))
        .count()
        .get_result(conn)?;
    // Summed in Rust: SUM's type differs between the backends.
    let attempts: Vec<i32> = notifications::table
        .filter(notifications::attempts.gt(1))
        .select(notifications::attempts)
        .load(conn)?;
    let retries = attempts.iter().map(|a| i64::from(a - 1)).sum();
    Ok(OutboxCounts {
        by_state,
        retried,
        retries,
    })
}

/// Filters of the notification list; all optional.
#[derive(Debug, Default, Clone)]
pub struct NotificationFilter {
    pub state: Option<String>,
    pub kind: Option<String>,
    pub item_kind: Option<String>,
    pub item_id: Option<String>,
    pub contact_id: Option<String>,
    /// `send_after` from this instant on.
    pub from: Option<NaiveDateTime>,
    /// `send_after` up to this instant.
    pub to: Option<NaiveDateTime>,
}

/// Rows by `send_after`, latest first, after the (send_after, id) position
/// of the previous page.
pub fn search(
    conn: &mut Conn,
    filter: &NotificationFilter,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<NotificationRow>> {
    let mut query = notifications::table
        .select(NotificationRow::as_select())
        .order((notifications::send_after.desc(), notifications::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(s) = &filter.state {
        query = query.filter(notifications::state.eq(s.clone()));
    }
    if let Some(k) = &filter.kind {
        query = query.filter(notifications::kind.eq(k.clone()));
    }
    if let Some(k) = &filter.item_kind {
        query = query.filter(notifications::item_kind.eq(k.clone()));
    }
    if let Some(i) = &filter.item_id {
        query = query.filter(notifications::item_id.eq(i.clone()));
    }
    if let Some(c) = &filter.contact_id {
        query = query.filter(notifications::contact_id.eq(c.clone()));
    }
    if let Some(f) = filter.from {
        query = query.filter(notifications::send_after.ge(f));
    }
    if let Some(t) = filter.to {
        query = query.filter(notifications::send_after.le(t));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            notifications::send_after
                .lt(at)
                .or(notifications::send_after
                    .eq(at)
                    .and(notifications::id.lt(id))),
        );
    }
    query.load(conn)
}
