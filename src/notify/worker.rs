//! The worker that drains the outbox: claims a batch of due rows (one short
//! transaction), sends each through the mailer OUTSIDE any transaction, and
//! records each outcome (one short transaction each). It runs on its own
//! thread inside `accord serve`, or alone as `accord worker`; on PostgreSQL
//! any number of workers may run at once (claims skip each other's rows).
//!
//! Delivery is at least once: a worker that dies after the server accepted a
//! message but before it recorded so leaves the row to be sent again when its
//! lease runs out. The copy carries the same Message-ID (fixed when the row
//! was queued), so mail clients and the tests recognise it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration as StdDuration;

use anyhow::Context;
use chrono::{Duration, NaiveDateTime};
use sha2::{Digest, Sha256};

use super::planner::PlanSettings;
use super::SendError;
use crate::clock::SharedClock;
use crate::config::WorkerSettings;
use crate::db::Pool;
use crate::store::notifications::NotificationRow;
use crate::store::outbox::{self, Retried};

/// What sends one notification (the mailer; a stand-in in unit tests).
pub trait Deliver: Send + Sync {
    fn deliver(&self, n: &NotificationRow) -> Result<(), SendError>;
}

impl Deliver for super::mailer::Mailer {
    fn deliver(&self, n: &NotificationRow) -> Result<(), SendError> {
        super::mailer::Mailer::deliver(self, n)
    }
}

/// Deliveries by this process since it started, for `/metrics` (the outbox
/// table holds the totals of every instance).
#[derive(Debug, Default)]
pub struct Deliveries {
    pub sent: AtomicU64,
    pub transient: AtomicU64,
    pub permanent: AtomicU64,
    /// Rows not sent because, right before sending, they were no longer this
    /// worker's (cancelled, or taken over after the lease ran out).
    pub skipped: AtomicU64,
}

pub static DELIVERIES: Deliveries = Deliveries {
    sent: AtomicU64::new(0),
    transient: AtomicU64::new(0),
    permanent: AtomicU64::new(0),
    skipped: AtomicU64::new(0),
};

/// How long to wait before the next attempt after `attempts` transient
/// failures: exponential from `backoff_base_secs`, doubling per attempt,
/// capped at `backoff_max_secs`, with full jitter above a floor of the base
/// (uniform in [base, min(max, base * 2^(attempts-1))]). The floor keeps a
/// server that greylists (451 "try again later") from being asked again at
/// once; the jitter spreads the retries of many rows that failed together
/// (a server down for a while) instead of sending them back in one burst.
/// The random part is derived from the row id and the attempt number, so a
/// row's schedule is reproducible while different rows spread out.
pub fn backoff(settings: &WorkerSettings, attempts: i32, row_id: &str) -> Duration {
    let base = settings.backoff_base_secs.saturating_mul(1000);
    let max = settings.backoff_max_secs.saturating_mul(1000).max(base);
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 62)).unwrap_or(0);
    let ceiling = base
        .checked_mul(1u64 << doublings)
        .map_or(max, |c| c.min(max));
    let digest = Sha256::digest(format!("{row_id}/{attempts}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let fraction = u64::from_be_bytes(first) as f64 / u64::MAX as f64;
    let millis = base + ((ceiling - base) as f64 * fraction) as u64;
    Duration::milliseconds(i64::try_from(millis).unwrap_or(i64::MAX))
}

/// The default name of a worker: `<hostname>-<pid>-<random>`.
pub fn default_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_string());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &random[..8])
}

/// Asks a worker to stop, and lets it sleep until asked.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<(Mutex<bool>, Condvar)>);

impl Stop {
    pub fn request(&self) {
        let (flag, wake) = &*self.0;
        *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        wake.notify_all();
    }

    pub fn requested(&self) -> bool {
        *self.0 .0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps up to `timeout`; true when a stop was requested.
    pub fn wait(&self, timeout: StdDuration) -> bool {
        let (flag, wake) = &*self.0;
        let guard = flag.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = wake
            .wait_timeout_while(guard, timeout, |stopped| !*stopped)
            .unwrap_or_else(|e| e.into_inner());
        *guard
    }
}

/// What one pass over the outbox did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub dead: usize,
    pub skipped: usize,
    /// Claimed but given back untried because a stop was requested.
    pub released: usize,
}

pub struct Worker {
    pool: Pool,
    clock: SharedClock,
    mailer: Arc<dyn Deliver>,
    settings: WorkerSettings,
    id: String,
    /// Plans what is due before claiming, at most this often.
    planner: Option<(PlanSettings, StdDuration)>,
    last_plan: Mutex<Option<std::time::Instant>>,
}

impl Worker {
    pub fn new(
        pool: Pool,
        clock: SharedClock,
        mailer: Arc<dyn Deliver>,
        settings: WorkerSettings,
    ) -> Worker {
        let id = settings.id.clone().unwrap_or_else(default_id);
        Worker {
            pool,
            clock,
            mailer,
            settings,
            id,
            planner: None,
            last_plan: Mutex::new(None),
        }
    }

    /// Makes the worker also plan reminders (the planner queues what is due
    /// from the current data), before a claim, at most once per `every`:
    /// planning reads every item due around now, sending is per row.
    pub fn with_planner(mut self, plan: PlanSettings, every: StdDuration) -> Worker {
        self.planner = Some((plan, every));
        self
    }

    /// Plans now if the planner is on and its interval has passed.
    fn plan_if_due(&self, conn: &mut crate::db::Conn) {
        let Some((plan, every)) = &self.planner else {
            return;
        };
        let mut last = self.last_plan.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < *every) {
            return;
        }
        *last = Some(std::time::Instant::now());
        match crate::notify::planner::plan_due(conn, self.clock.now(), plan) {
            Ok(outcome) => tracing::debug!(worker = self.id.as_str(), ?outcome, "planned"),
            // The next interval tries again; sending what is queued goes on.
            Err(e) => tracing::warn!(worker = self.id.as_str(), error = %e, "planning failed"),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn now(&self) -> NaiveDateTime {
        self.clock.now().naive_utc()
    }

    fn lease(&self) -> Duration {
        Duration::seconds(i64::try_from(self.settings.lease_secs).unwrap_or(i64::MAX / 1000))
    }

    /// Runs passes until a stop is requested: at once again after a full
    /// batch (more may be due), else after `poll_ms`.
    pub fn run(&self, stop: &Stop) {
        tracing::info!(worker = self.id.as_str(), "outbox worker started");
        let poll = StdDuration::from_millis(self.settings.poll_ms);
        while !stop.requested() {
            let full = match self.pass(stop) {
                Ok(pass) => {
                    if pass != Pass::default() {
                        tracing::debug!(worker = self.id.as_str(), ?pass, "outbox pass");
                    }
                    pass.claimed >= self.settings.batch as usize
                }
                Err(e) => {
                    tracing::warn!(worker = self.id.as_str(), error = %format!("{e:#}"), "outbox pass failed; trying again");
                    false
                }
            };
            if !full && stop.wait(poll) {
                break;
            }
        }
        tracing::info!(worker = self.id.as_str(), "outbox worker stopped");
    }

    /// One pass: claim a batch, send each row, record each outcome.
    pub fn pass(&self, stop: &Stop) -> anyhow::Result<Pass> {
        let mut pass = Pass::default();
        let claim = {
            let mut conn = self.pool.get().context("no database connection")?;
            // Before the claim, so what the planner queues goes out in this pass.
            self.plan_if_due(&mut conn);
            outbox::claim(
                &mut conn,
                &self.id,
                self.now(),
                self.lease(),
                i64::from(self.settings.batch),
                self.max_attempts(),
            )
            .context("claiming notifications")?
        };
        for id in &claim.abandoned {
            tracing::warn!(
                worker = self.id.as_str(),
                notification = id.as_str(),
                "notification dead: its lease ran out on the last attempt"
            );
        }
        pass.dead += claim.abandoned.len();
        pass.claimed = claim.rows.len();
        let mut rows = claim.rows.into_iter().peekable();
        // Whether the row about to be sent was already re-checked (held) in
        // the transaction that recorded the previous row's outcome.
        let mut held = None;
        while let Some(row) = rows.next() {
            if stop.requested() {
                let untried: Vec<String> =
                    std::iter::once(row.id).chain(rows.map(|r| r.id)).collect();
                let mut conn = self.pool.get().context("no database connection")?;
                pass.released = outbox::release(&mut conn, &untried, &self.id, self.now())
                    .context("giving back claimed notifications")?;
                break;
            }
            let next = rows.peek().map(|r| r.id.clone());
            held = self.send(&row, held.take(), next.as_deref(), &mut pass)?;
        }
        Ok(pass)
    }

    fn max_attempts(&self) -> i32 {
        i32::try_from(self.settings.max_attempts).unwrap_or(i32::MAX)
    }

    /// Sends one claimed row and records the outcome. `held`: whether the row
    /// was already re-checked (None: not yet, it is re-checked here). When
    /// `next` is given, the next row is re-checked in the transaction that
    /// records this row's outcome, right before it is sent: the answer is
    /// returned for the next call.
    fn send(
        &self,
        row: &NotificationRow,
        held: Option<bool>,
        next: Option<&str>,
        pass: &mut Pass,
    ) -> anyhow::Result<Option<bool>> {
        let held = match held {
            Some(held) => held,
            None => {
                let mut conn = self.pool.get().context("no database connection")?;
                outbox::hold(&mut conn, &row.id, &self.id, self.now(), self.lease())
                    .context("re-checking a claimed notification")?
            }
        };
        if !held {
            // Cancelled by re-planning, or taken over after the lease ran out.
            DELIVERIES.skipped.fetch_add(1, Ordering::Relaxed);
            pass.skipped += 1;
            tracing::info!(
                worker = self.id.as_str(),
                notification = row.id.as_str(),
                "not sent: no longer claimed by this worker"
            );
            return Ok(None);
        }
        // No transaction is open here: the SMTP conversation may take seconds.
        let outcome = self.mailer.deliver(row);
        let now = self.now();
        match outcome {
            Ok(()) => {
                DELIVERIES.sent.fetch_add(1, Ordering::Relaxed);
                pass.sent += 1;
                let (recorded, held_next) = self.record(next, |conn| {
                    outbox::complete_in(conn, &row.id, &self.id, now)
                })?;
                if !recorded {
                    tracing::warn!(
                        worker = self.id.as_str(),
                        notification = row.id.as_str(),
                        message_id = row.message_id.as_str(),
                        "sent again: another worker had already sent it (same Message-ID)"
                    );
                }
                Ok(held_next)
            }
            Err(SendError::Transient(error)) => {
                DELIVERIES.transient.fetch_add(1, Ordering::Relaxed);
                let next_at = now + backoff(&self.settings, row.attempts, &row.id);
                let (result, held_next) = self.record(next, |conn| {
                    outbox::fail_transient_in(
                        conn,
                        &row.id,
                        &self.id,
                        now,
                        &error,
                        next_at,
                        self.max_attempts(),
                    )
                })?;
                match result {
                    Retried::Retry => pass.retried += 1,
                    Retried::Dead => pass.dead += 1,
                    Retried::NotHeld => {}
                }
                tracing::info!(
                    worker = self.id.as_str(),
                    notification = row.id.as_str(),
                    attempts = row.attempts,
                    outcome = ?result,
                    %next_at,
                    error = error.as_str(),
                    "delivery failed for now"
                );
                Ok(held_next)
            }
            Err(SendError::Permanent(error)) => {
                DELIVERIES.permanent.fetch_add(1, Ordering::Relaxed);
                let (failed, held_next) = self.record(next, |conn| {
                    outbox::fail_permanent_in(conn, &row.id, &self.id, now, &error)
                })?;
                if failed {
                    pass.failed += 1;
                }
                tracing::warn!(
                    worker = self.id.as_str(),
                    notification = row.id.as_str(),
                    error = error.as_str(),
                    "delivery failed for good"
                );
                Ok(held_next)
            }
        }
    }

    /// Records an outcome, trying a few times: a delivery the database never
    /// hears of is sent again once the lease runs out.
    /// With `next`, holds that row in the same transaction (see `send`).
    fn record<T>(
        &self,
        next: Option<&str>,
        write: impl Fn(&mut crate::db::Conn) -> diesel::QueryResult<T>,
    ) -> anyhow::Result<(T, Option<bool>)> {
        let mut last = None;
        for wait in [0u64, 200, 1000] {
            std::thread::sleep(StdDuration::from_millis(wait));
            let both = |conn: &mut crate::db::Conn| {
                let value = write(conn)?;
                let held = match next {
                    Some(id) => Some(outbox::hold_in(
                        conn,
                        id,
                        &self.id,
                        self.now(),
                        self.lease(),
                    )?),
                    None => None,
                };
                Ok::<_, diesel::result::Error>((value, held))
            };
            match self.pool.get() {
                Ok(mut conn) => match crate::db::write_transaction(&mut conn, both) {
                    Ok(value) => return Ok(value),
                    Err(e) => last = Some(anyhow::Error::from(e)),
                },
                Err(e) => last = Some(anyhow::Error::from(e)),
            }
        }
        Err(last
            .unwrap_or_else(|| anyhow::anyhow!("no attempt made"))
            .context("recording the outcome of a delivery"))
    }
}

/// A worker running on its own thread.
pub struct WorkerHandle {
    stop: Stop,
    thread: std::thread::JoinHandle<()>,
}

impl WorkerHandle {
    /// True once the thread has ended (only after a stop, or a panic).
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Lets the row being sent finish, gives back the rest of the batch, and waits.
    pub fn stop_and_join(self) {
        self.stop.request();
        if self.thread.join().is_err() {
            tracing::error!("the outbox worker thread panicked");
        }
    }
}

pub fn spawn(worker: Worker) -> std::io::Result<WorkerHandle> {
    let stop = Stop::default();
    let thread = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("outbox-worker".into())
            .spawn(move || worker.run(&stop))?
    };
    Ok(WorkerHandle { stop, thread })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(base: u64, max: u64) -> WorkerSettings {
        WorkerSettings {
            enabled_in_serve: true,
            batch: 20,
            lease_secs: 120,
            poll_ms: 1000,
            max_attempts: 8,
            backoff_base_secs: base,
            backoff_max_secs: max,
            plan_every_secs: 60,
            id: None,
        }
    }

    #[test]
    fn backoff_doubles_within_jitter_and_stops_at_the_cap() {
        let s = settings(30, 3600);
        for attempts in 1..=12 {
            let ceiling = (30i64 << (attempts - 1)).min(3600);
            for id in ["a", "b", "c", "d"] {
                let d = backoff(&s, attempts, id).num_milliseconds();
                assert!(
                    (30_000..=ceiling * 1000).contains(&d),
                    "attempt {attempts}, row {id}: {d} ms not within 30 s..{ceiling} s"
                );
            }
        }
        // The first retry waits exactly the base: there is no room for jitter.
        assert_eq!(backoff(&s, 1, "x"), Duration::seconds(30));
        // Huge attempt numbers do not overflow.
        assert!(backoff(&s, i32::MAX, "x") <= Duration::seconds(3600));
        assert!(backoff(&s, 0, "x") >= Duration::seconds(30));
    }

    #[test]
    fn jitter_is_reproducible_per_row_and_spreads_rows() {
        let s = settings(30, 3600);
        assert_eq!(backoff(&s, 5, "row-1"), backoff(&s, 5, "row-1"));
        let spread: std::collections::BTreeSet<i64> = (0..50)
            .map(|i| backoff(&s, 5, &format!("row-{i}")).num_milliseconds())
            .collect();
        assert!(spread.len() > 40, "{spread:?}");
    }

    #[test]
    fn a_stop_wakes_a_sleeping_worker() {
        let stop = Stop::default();
        assert!(!stop.wait(StdDuration::from_millis(1)));
        let waker = stop.clone();
        let t = std::thread::spawn(move || waker.wait(StdDuration::from_secs(600)));
        stop.request();
        assert!(t.join().unwrap());
        assert!(stop.requested());
    }

    #[test]
    fn default_ids_differ() {
        assert_ne!(default_id(), default_id());
    }
}
