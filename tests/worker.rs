//! The outbox worker against a real SMTP server over TCP on loopback
//! (aiosmtpd, tests/common/smtp.rs), with the real mailer, on the backend
//! ACCORD_TEST_DATABASE_URL names: retries with backoff, permanent failures,
//! a server that goes away, a worker process killed with SIGKILL, two worker
//! processes at once (PostgreSQL), the API and /metrics over what happened.
//!
//! Rows are queued directly (store::notifications::queue), as the planner
//! would. Outcomes are awaited with generous deadlines, never timed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use accord::clock::SystemClock;
use accord::db::schema::notifications;
use accord::db::{Backend, Pool};
use accord::notify::mailer::Mailer;
use accord::notify::payload::{DueItem, Named, Payload};
use accord::notify::worker::{self, Worker, WorkerHandle};
use accord::store::notifications::{message_id, queue, state, NotificationRow};
use accord::store::outbox;
use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::Value;

use common::api::Setup;
use common::smtp::{settings_toml, settings_with, ReceivedMessage, SinkTls, SmtpSink};
use common::TestDb;

const DOMAIN: &str = "test.example";

/// Short leases and backoff, so retries and expired leases happen within seconds.
fn worker_toml(id: &str, max_attempts: u32) -> String {
    // plan_every_secs = 0: these tests queue rows by hand, about items that do
    // not exist; a planning worker would rightly cancel them as stale.
    format!(
        "[worker]\nenabled_in_serve = false\nid = \"{id}\"\nbatch = 10\nlease_secs = 2\npoll_ms = 50\n\
         max_attempts = {max_attempts}\nbackoff_base_secs = 1\nbackoff_max_secs = 2\nplan_every_secs = 0\n"
    )
}

/// Now, to the microsecond PostgreSQL keeps.
fn now() -> NaiveDateTime {
    chrono::SubsecRound::trunc_subsecs(Utc::now().naive_utc(), 6)
}

/// A reminder about one obligation, as the planner would queue it.
fn reminder(recipient: &str, send_after: NaiveDateTime) -> NotificationRow {
    let id = uuid::Uuid::new_v4().to_string();
    let item_id = uuid::Uuid::new_v4().to_string();
    let due_on = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let payload = Payload {
        recipient_name: "Aigerim Nurlanovna".into(),
        programme: Some(Named {
            id: uuid::Uuid::new_v4().to_string(),
            key: Some("kz-ru-test".into()),
            title: BTreeMap::from([
                ("en".to_string(), "Test programme 2024-2026".to_string()),
                ("ru".to_string(), "Тестовая программа 2024-2026".to_string()),
            ]),
        }),
        items: vec![DueItem {
            kind: "obligation".into(),
            id: item_id.clone(),
            number: Some("1.1".into()),
            title: BTreeMap::from([
                ("en".to_string(), "Tour of a theatre".to_string()),
                ("ru".to_string(), "Гастроли театра".to_string()),
            ]),
            field: "obligation_due".into(),
            due_on: Some(due_on),
            starts_at: None,
            days_left: 7,
            occurrence: String::new(),
            responsible: vec!["kz-mci".into()],
            url: format!("https://accord.test.example/obligations/{item_id}"),
        }],
        ics: None,
    };
    let at = now();
    NotificationRow {
        dedupe_key: format!("test/{id}"),
        kind: "reminder".into(),
        contact_id: None,
        recipient: recipient.into(),
        language: "en".into(),
        time_zone: "Asia/Almaty".into(),
        programme_id: None,
        item_kind: Some("obligation".into()),
        item_id: Some(item_id),
        occurrence: String::new(),
        due_on: Some(due_on),
        offset_days: Some(7),
        payload: serde_json::to_string(&payload).unwrap(),
        send_after,
        state: state::PENDING.into(),
        attempts: 0,
        lease_until: None,
        claimed_by: None,
        last_error: None,
        message_id: message_id(&id, DOMAIN),
        digest_id: None,
        created_at: at,
        updated_at: at,
        sent_at: None,
        id,
    }
}

/// Queues one due reminder per recipient.
fn queue_due(pool: &Pool, recipients: &[String]) -> Vec<NotificationRow> {
    let mut conn = pool.get().unwrap();
    let due = now() - chrono::Duration::minutes(1);
    recipients
        .iter()
        .map(|r| {
            let row = reminder(r, due);
            assert!(queue(&mut conn, &row).unwrap());
            row
        })
        .collect()
}

fn recipients(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}@{DOMAIN}")).collect()
}

fn all_rows(pool: &Pool) -> Vec<NotificationRow> {
    let mut conn = pool.get().unwrap();
    notifications::table
        .select(NotificationRow::as_select())
        .order(notifications::recipient.asc())
        .load(&mut *conn)
        .unwrap()
}

fn row(pool: &Pool, id: &str) -> NotificationRow {
    accord::store::notifications::by_id(&mut pool.get().unwrap(), id)
        .unwrap()
        .unwrap()
}

/// Polls until `done` holds, or panics after `deadline` saying what it waited for.
fn wait_until(deadline: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + deadline;
    while !done() {
        assert!(Instant::now() < until, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How many rows are sent: a count, cheap enough to poll while workers run.
fn sent(pool: &Pool) -> i64 {
    notifications::table
        .filter(notifications::state.eq(state::SENT))
        .count()
        .get_result(&mut *pool.get().unwrap())
        .unwrap()
}

fn states(pool: &Pool) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in all_rows(pool) {
        *counts.entry(r.state).or_insert(0) += 1;
    }
    counts
}

/// An in-process worker with the real mailer, sending to `sink`.
fn start_worker(db: &TestDb, pool: &Pool, sink: &SmtpSink, toml: &str) -> WorkerHandle {
    start_worker_with_mail(db, pool, &sink.mail_toml(), toml)
}

/// An in-process worker with the real mailer configured by `mail_toml`.
fn start_worker_with_mail(db: &TestDb, pool: &Pool, mail_toml: &str, toml: &str) -> WorkerHandle {
    let settings = settings_with(db, &format!("{mail_toml}\n{toml}"));
    let mailer = Mailer::from_settings(&settings.mail).unwrap();
    worker::spawn(Worker::new(
        pool.clone(),
        Arc::new(SystemClock),
        Arc::new(mailer),
        settings.worker,
    ))
    .unwrap()
}

/// The real binary, deaf to any ACCORD__ variables of the environment running the tests.
fn accord_bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_accord"));
    for (key, _) in std::env::vars() {
        if key.starts_with("ACCORD__") || key == "ACCORD_PROFILE" {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// `accord worker` (the real binary), reading a settings file made for this test.
/// A child process killed when dropped: a failing test leaves no worker behind.
struct Running(Child);

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker_process(db: &TestDb, sink: &SmtpSink, toml: &str) -> (Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("worker.toml");
    std::fs::write(
        &config,
        settings_toml(db, &format!("{}{toml}", sink.mail_toml())),
    )
    .unwrap();
    let child = accord_bin()
        .arg("--config")
        .arg(&config)
        .arg("worker")
        // Only the compiled-in defaults and this file: no config/ from the working directory.
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    (Running(child), dir)
}

/// Received messages per Message-ID.
fn by_message_id(received: &[ReceivedMessage]) -> BTreeMap<String, Vec<&ReceivedMessage>> {
    let mut map: BTreeMap<String, Vec<&ReceivedMessage>> = BTreeMap::new();
    for m in received {
        map.entry(m.message_id.clone()).or_default().push(m);
    }
    map
}

fn seconds(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

#[test]
fn a_worker_whose_lease_ran_out_cannot_undo_the_claim_of_the_one_that_took_over() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let t0 = now();
    let queued = queue_due(&pool, &recipients("stale", 1)).remove(0);
    let lease = seconds(10);

    let a = outbox::claim(&mut conn, "A", t0, lease, 10, 8).unwrap();
    assert_eq!(a.rows.len(), 1);
    assert_eq!(
        (a.rows[0].state.as_str(), a.rows[0].attempts),
        (state::SENDING, 1)
    );
    assert_eq!(a.rows[0].claimed_by.as_deref(), Some("A"));
    // Leased: nobody else takes it.
    let early = outbox::claim(&mut conn, "B", t0 + seconds(5), lease, 10, 8).unwrap();
    assert!(early.rows.is_empty());
    // A hangs past its lease; B takes the row over.
    let t1 = t0 + seconds(11);
    let b = outbox::claim(&mut conn, "B", t1, lease, 10, 8).unwrap();
    assert_eq!(b.rows.len(), 1);
    assert_eq!(b.rows[0].attempts, 2);
    // A may not send it any more, nor write a failure over B's claim.
    assert!(!outbox::hold(&mut conn, &queued.id, "A", t1, lease).unwrap());
    let retried =
        outbox::fail_transient(&mut conn, &queued.id, "A", t1, "451", t1 + seconds(30), 8).unwrap();
    assert_eq!(retried, outbox::Retried::NotHeld);
    assert!(!outbox::fail_permanent(&mut conn, &queued.id, "A", t1, "550").unwrap());
    let stored = row(&pool, &queued.id);
    assert_eq!(stored.state, state::SENDING);
    assert_eq!(stored.claimed_by.as_deref(), Some("B"));
    // But A's delivery did happen: it is recorded, and B, checking before it
    // sends, finds the row no longer its to send.
    assert!(outbox::complete(&mut conn, &queued.id, "A", t1).unwrap());
    assert!(!outbox::hold(&mut conn, &queued.id, "B", t1, lease).unwrap());
    // Nothing turns a sent row back.
    let retried =
        outbox::fail_transient(&mut conn, &queued.id, "B", t1, "451", t1 + seconds(30), 8).unwrap();
    assert_eq!(retried, outbox::Retried::NotHeld);
    assert!(!outbox::complete(&mut conn, &queued.id, "B", t1).unwrap());
    let stored = row(&pool, &queued.id);
    assert_eq!(stored.state, state::SENT);
    assert_eq!(stored.attempts, 2);
    assert!(
        outbox::claim(&mut conn, "C", t1 + seconds(3600), lease, 10, 8)
            .unwrap()
            .rows
            .is_empty()
    );
}

#[test]
fn retries_wait_for_their_time_and_rows_end_dead_or_given_back() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let t0 = now();
    let lease = seconds(10);
    let rows = queue_due(&pool, &recipients("ends", 1));
    let failing = &rows[0];
    // A transient failure: due again at next_at, not before.
    outbox::claim(&mut conn, "W", t0, lease, 10, 2).unwrap();
    let next_at = t0 + seconds(60);
    let retried =
        outbox::fail_transient(&mut conn, &failing.id, "W", t0, "451 later", next_at, 2).unwrap();
    assert_eq!(retried, outbox::Retried::Retry);
    let stored = row(&pool, &failing.id);
    assert_eq!(stored.state, state::RETRY);
    assert_eq!(stored.send_after, next_at);
    assert_eq!(stored.lease_until, None);
    assert!(
        outbox::claim(&mut conn, "W", t0 + seconds(59), lease, 10, 2)
            .unwrap()
            .rows
            .is_empty()
    );
    // The last attempt fails too: dead.
    let again = outbox::claim(&mut conn, "W", next_at, lease, 10, 2).unwrap();
    assert_eq!(again.rows[0].attempts, 2);
    let retried = outbox::fail_transient(
        &mut conn,
        &failing.id,
        "W",
        next_at,
        "451 still",
        next_at,
        2,
    )
    .unwrap();
    assert_eq!(retried, outbox::Retried::Dead);
    let stored = row(&pool, &failing.id);
    assert_eq!(stored.state, state::DEAD);
    assert_eq!(stored.last_error.as_deref(), Some("451 still"));

    // A row whose every worker dies while sending it: claimed while
    // attempts remain, then given up as dead when the last lease runs out.
    let hanging = queue_due(&pool, &recipients("hangs", 1)).remove(0);
    let mut t = next_at;
    for attempt in 1..=2 {
        let claim = outbox::claim(&mut conn, "W", t, lease, 10, 2).unwrap();
        assert_eq!(claim.rows.len(), 1, "attempt {attempt}");
        assert_eq!(claim.rows[0].attempts, attempt);
        t += seconds(11);
    }
    let claim = outbox::claim(&mut conn, "W", t, lease, 10, 2).unwrap();
    assert!(claim.rows.is_empty());
    assert_eq!(claim.abandoned, vec![hanging.id.clone()]);
    assert_eq!(row(&pool, &hanging.id).state, state::DEAD);

    // A worker that stops gives back what it claimed and did not try.
    let untried = queue_due(&pool, &recipients("untried", 2));
    let claim = outbox::claim(&mut conn, "W", t, lease, 10, 2).unwrap();
    assert_eq!(claim.rows.len(), 2);
    let ids: Vec<String> = untried.iter().map(|r| r.id.clone()).collect();
    assert_eq!(outbox::release(&mut conn, &ids, "W", t).unwrap(), 2);
    for r in &untried {
        let stored = row(&pool, &r.id);
        assert_eq!(
            (stored.state.as_str(), stored.attempts),
            (state::PENDING, 0)
        );
        assert_eq!(stored.lease_until, None);
    }
    let counts = outbox::counts(&mut conn).unwrap();
    let of = |s: &str| counts.by_state.iter().find(|(k, _)| *k == s).unwrap().1;
    assert_eq!((of(state::DEAD), of(state::PENDING)), (2, 2));
    assert_eq!(counts.retried, 2, "both dead rows had a second attempt");
    assert_eq!(counts.retries, 2);
}

#[test]
fn every_queued_reminder_arrives_once_with_its_message_id() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let sink = SmtpSink::start();
    let queued = queue_due(&pool, &recipients("happy", 25));
    let worker = start_worker(&db, &pool, &sink, &worker_toml("happy", 8));
    wait_until(Duration::from_secs(60), "every row sent", || {
        sent(&pool) == 25
    });
    worker.stop_and_join();

    let received = sink.received();
    assert_eq!(received.len(), 25, "exactly one email per row");
    let ids = by_message_id(&received);
    for q in &queued {
        let got = ids
            .get(&q.message_id)
            .unwrap_or_else(|| panic!("{} never arrived", q.message_id));
        assert_eq!(got.len(), 1, "{} arrived {} times", q.message_id, got.len());
        assert_eq!(got[0].rcpt_tos, vec![q.recipient.clone()]);
        let stored = row(&pool, &q.id);
        assert_eq!(stored.state, state::SENT);
        assert_eq!(stored.attempts, 1);
        assert!(stored.sent_at.is_some());
        assert_eq!(stored.lease_until, None);
        assert_eq!(stored.last_error, None);
    }
}

#[test]
fn two_451_replies_then_the_message_arrives_once_on_the_third_attempt() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let sink = SmtpSink::start();
    sink.fail_next(2, 451);
    let queued = queue_due(&pool, &recipients("greylisted", 1)).remove(0);
    let worker = start_worker(&db, &pool, &sink, &worker_toml("greylist", 8));
    wait_until(Duration::from_secs(60), "the row sent", || {
        row(&pool, &queued.id).state == state::SENT
    });
    worker.stop_and_join();

    let stored = row(&pool, &queued.id);
    assert_eq!(stored.attempts, 3, "two refusals, then the delivery");
    assert!(
        stored.last_error.as_deref().unwrap_or("").contains("451"),
        "the last error is the 451: {:?}",
        stored.last_error
    );
    assert_eq!(stored.message_id, queued.message_id, "fixed when queued");
    let received = sink.received();
    assert_eq!(received.len(), 1, "arrives once");
    assert_eq!(received[0].message_id, queued.message_id);
    assert!(sink.stats().contains("refused=2"), "{}", sink.stats());
}

#[test]
fn a_550_fails_the_row_for_good_and_the_api_shows_the_error() {
    let setup = Setup::new();
    let pool = setup.db.migrated_pool();
    let sink = SmtpSink::start();
    let gone = format!("gone@{DOMAIN}");
    sink.reject_recipient(&gone);
    let rows = queue_due(&pool, &[gone.clone(), format!("here@{DOMAIN}")]);
    let (refused, accepted) = (&rows[0], &rows[1]);
    let worker = start_worker(&setup.db, &pool, &sink, &worker_toml("refused", 8));
    wait_until(Duration::from_secs(60), "both rows settled", || {
        row(&pool, &refused.id).state == state::FAILED
            && row(&pool, &accepted.id).state == state::SENT
    });
    // Longer than any backoff of these settings (at most 2 s): a retry would have happened.
    std::thread::sleep(Duration::from_secs(3));
    worker.stop_and_join();
    let stored = row(&pool, &refused.id);
    assert_eq!(stored.state, state::FAILED, "not retried");
    assert_eq!(stored.attempts, 1, "not retried");
    assert_eq!(sink.received().len(), 1);

    let admin = setup.token("admin");
    let view: Value = setup
        .get(
            &format!("/api/v1/notifications/{}", refused.id),
            Some(&admin),
        )
        .json()
        .unwrap();
    assert_eq!(view["state"], "failed");
    assert_eq!(view["attempts"], 1);
    assert_eq!(view["recipient"], gone.as_str());
    assert_eq!(view["message_id"], refused.message_id.as_str());
    assert_eq!(view["item"]["kind"], "obligation");
    assert_eq!(view["payload"]["items"][0]["number"], "1.1");
    let error = view["last_error"].as_str().unwrap();
    assert!(error.contains("550"), "{error}");
    chrono::DateTime::parse_from_rfc3339(view["send_after"].as_str().unwrap()).unwrap();

    // The list, filtered; secretariats see it too; others may not.
    let secretariat = setup.token("secretariat");
    let failed: Value = setup
        .get("/api/v1/notifications?state=failed", Some(&secretariat))
        .json()
        .unwrap();
    let items = failed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{failed}");
    assert_eq!(items[0]["id"], refused.id.as_str());
    assert!(items[0]["last_error"].as_str().unwrap().contains("550"));
    let viewer = setup.token("viewer");
    let res = setup.get("/api/v1/notifications", Some(&viewer));
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = setup.get(&format!("/api/v1/notifications/{}", refused.id), None);
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn the_notification_list_filters_and_pages() {
    let setup = Setup::new();
    let pool = setup.db.migrated_pool();
    let rows = queue_due(&pool, &recipients("listed", 7));
    let admin = setup.token("admin");
    // Pages of 3 cover all seven once, latest send_after first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/notifications?limit=3&state=pending&cursor={c}"),
            None => "/api/v1/notifications?limit=3&state=pending".to_string(),
        };
        let page: Value = setup.get(&path, Some(&admin)).json().unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let want: BTreeSet<String> = rows.iter().map(|r| r.id.clone()).collect();
    assert_eq!(seen.len(), 7);
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), want);
    // By item, and by a window of send_after that holds nothing.
    let item = rows[2].item_id.clone().unwrap();
    let one: Value = setup
        .get(
            &format!("/api/v1/notifications?item_kind=obligation&item_id={item}"),
            Some(&admin),
        )
        .json()
        .unwrap();
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    assert_eq!(one["items"][0]["id"], rows[2].id.as_str());
    let none: Value = setup
        .get(
            "/api/v1/notifications?from=2030-01-01T00:00:00Z&kind=reminder",
            Some(&admin),
        )
        .json()
        .unwrap();
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    // Bad filters name themselves.
    for (query, field) in [
        ("state=lost", "state"),
        ("kind=postcard", "kind"),
        ("item_kind=party", "item_kind"),
        ("item_id=nope", "item_id"),
        ("contact=nope", "contact"),
        ("limit=0", "limit"),
        ("cursor=zz", "cursor"),
        ("from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z", "to"),
    ] {
        let res = setup.get(&format!("/api/v1/notifications?{query}"), Some(&admin));
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = res.json().unwrap();
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    // Documented, /metrics as Prometheus text.
    let spec: Value = setup.get("/api/v1/openapi.json", None).json().unwrap();
    for path in ["/api/v1/notifications", "/api/v1/notifications/{id}"] {
        assert!(
            spec["paths"][path]["get"].is_object(),
            "{path} undocumented"
        );
    }
    let metrics = &spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"];
    assert!(
        metrics.get("text/plain; version=0.0.4").is_some(),
        "{metrics}"
    );
    let res = setup.get("/api/v1/notifications/not-a-uuid", Some(&admin));
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = setup.get(
        &format!("/api/v1/notifications/{}", uuid::Uuid::new_v4()),
        Some(&admin),
    );
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[test]
fn a_server_down_for_a_while_loses_nothing() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let sink = SmtpSink::start();
    sink.stop();
    let queued = queue_due(&pool, &recipients("outage", 15));
    // Enough attempts to outlast the outage: none may die of it.
    let worker = start_worker(&db, &pool, &sink, &worker_toml("outage", 50));
    wait_until(
        Duration::from_secs(60),
        "every row to fail at least once",
        || {
            all_rows(&pool)
                .iter()
                .all(|r| r.state == state::RETRY || r.attempts >= 2)
        },
    );
    let refused = all_rows(&pool);
    assert!(refused.iter().all(|r| r.state != state::SENT));
    assert!(
        refused.iter().all(|r| r.last_error.is_some()),
        "each failure recorded"
    );
    sink.restart();
    wait_until(Duration::from_secs(60), "every row sent", || {
        sent(&pool) == 15
    });
    worker.stop_and_join();
    let received = sink.received();
    let ids = by_message_id(&received);
    for q in &queued {
        assert_eq!(
            ids.get(&q.message_id).map(Vec::len),
            Some(1),
            "{} arrives exactly once",
            q.message_id
        );
    }
    assert_eq!(received.len(), 15);
    assert!(all_rows(&pool).iter().all(|r| r.attempts >= 2));
}

#[test]
fn a_worker_killed_mid_batch_loses_nothing_and_duplicates_keep_their_message_id() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let sink = SmtpSink::start();
    // Each message is stored, then answered 50 ms later: a kill between the
    // two is a delivery the worker never heard of.
    sink.delay(0.05);
    let queued = queue_due(&pool, &recipients("killed", 60));
    let (mut first, _dir1) = worker_process(&db, &sink, &worker_toml("first", 8));
    sink.wait_for(25, Duration::from_secs(60));
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let rows = all_rows(&pool);
    let stranded = rows
        .iter()
        .filter(|r| r.state == state::SENDING && r.claimed_by.as_deref() == Some("first"))
        .count();
    let sent_before = rows.iter().filter(|r| r.state == state::SENT).count();
    assert!(sent_before < 60, "killed before the end");

    let (mut second, _dir2) = worker_process(&db, &sink, &worker_toml("second", 8));
    wait_until(Duration::from_secs(120), "every row sent", || {
        sent(&pool) == 60
    });
    second.kill().unwrap();
    second.wait().unwrap();

    let received = sink.received();
    let ids = by_message_id(&received);
    let known: BTreeSet<&str> = queued.iter().map(|q| q.message_id.as_str()).collect();
    for id in ids.keys() {
        assert!(known.contains(id.as_str()), "unknown Message-ID {id}");
    }
    for q in &queued {
        let copies = ids
            .get(&q.message_id)
            .unwrap_or_else(|| panic!("{} lost", q.message_id));
        // A duplicate is recognisable: the same Message-ID, to the same recipient.
        for copy in copies {
            assert_eq!(copy.rcpt_tos, vec![q.recipient.clone()]);
        }
    }
    let per_recipient =
        received
            .iter()
            .fold(BTreeMap::<&str, BTreeSet<&str>>::new(), |mut m, r| {
                m.entry(r.rcpt_tos[0].as_str())
                    .or_default()
                    .insert(r.message_id.as_str());
                m
            });
    assert!(
        per_recipient.values().all(|ids| ids.len() == 1),
        "every copy to a recipient carries the one Message-ID of its row"
    );
    let duplicates = received.len() - queued.len();
    let retried = all_rows(&pool).iter().filter(|r| r.attempts > 1).count();
    println!(
        "SIGKILL after {sent_before} recorded deliveries: {stranded} rows left claimed by the \
         dead worker, {retried} rows tried again after its lease ran out, {duplicates} \
         duplicate(s) received, each with its row's Message-ID"
    );
}

#[test]
fn two_worker_processes_deliver_a_thousand_notifications_exactly_once() {
    let db = TestDb::new();
    if db.backend == Backend::Sqlite {
        println!(
            "skipped on SQLite: it runs one worker by design (claims take the database's \
             single write lock); this test runs on PostgreSQL"
        );
        return;
    }
    let pool = db.migrated_pool();
    let sink = SmtpSink::start();
    let queued = queue_due(&pool, &recipients("bulk", 1000));
    let (mut a, _dir_a) = worker_process(&db, &sink, &worker_toml("worker-a", 8));
    let (mut b, _dir_b) = worker_process(&db, &sink, &worker_toml("worker-b", 8));
    wait_until(Duration::from_secs(240), "1000 rows sent", || {
        sent(&pool) == 1000
    });
    // Whatever a worker might still do wrongly, give it the time to do it.
    std::thread::sleep(Duration::from_secs(1));
    for child in [&mut a, &mut b] {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let received = sink.received();
    let ids = by_message_id(&received);
    let twice: Vec<_> = ids.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(received.len(), 1000);
    for q in &queued {
        assert!(ids.contains_key(&q.message_id), "{} lost", q.message_id);
    }
    let rows = all_rows(&pool);
    let by_worker = rows
        .iter()
        .fold(BTreeMap::<String, usize>::new(), |mut m, r| {
            *m.entry(r.claimed_by.clone().unwrap_or_default())
                .or_default() += 1;
            m
        });
    println!("deliveries per worker: {by_worker:?}");
    assert!(
        by_worker.get("worker-a").is_some_and(|n| *n > 0)
            && by_worker.get("worker-b").is_some_and(|n| *n > 0),
        "both workers took part: {by_worker:?}"
    );
    assert!(rows.iter().all(|r| r.attempts == 1), "no row claimed twice");
}

#[test]
fn serve_runs_the_worker_and_a_sigterm_gives_back_what_it_had_not_sent() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let sink = SmtpSink::start();
    // Slow replies, so SIGTERM arrives with most of a batch still claimed.
    sink.delay(0.2);
    let queued = queue_due(&pool, &recipients("served", 30));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serve.toml");
    let toml =
        worker_toml("served", 8).replace("enabled_in_serve = false", "enabled_in_serve = true");
    std::fs::write(
        &config,
        settings_toml(&db, &format!("{}{toml}", sink.mail_toml())),
    )
    .unwrap();
    let mut serve = Running(
        accord_bin()
            .arg("--config")
            .arg(&config)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Sent by the server's own worker, with no `accord worker` running.
    sink.wait_for(3, Duration::from_secs(60));
    let metrics = reqwest::blocking::get(format!("http://127.0.0.1:{port}/metrics"))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("accord_notifications{state=\"sent\"}"),
        "{metrics}"
    );
    let term = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < until, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "serve exited with {status}");
    let rows = all_rows(&pool);
    let received = sink.received();
    let sent: Vec<_> = rows.iter().filter(|r| r.state == state::SENT).collect();
    assert!(sent.len() < queued.len(), "stopped before the end");
    // The message in flight was finished and recorded; the rest were given back.
    assert_eq!(
        sent.len(),
        received.len(),
        "every delivery recorded before exiting"
    );
    assert!(
        rows.iter()
            .all(|r| r.state == state::SENT || (r.state == state::PENDING && r.attempts == 0)),
        "nothing left claimed: {:?}",
        rows.iter()
            .map(|r| (&r.state, r.attempts))
            .collect::<Vec<_>>()
    );
}

/// `/metrics` samples as name{labels} -> value.
fn metrics(setup: &Setup) -> BTreeMap<String, f64> {
    let res = setup.get("/metrics", None);
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    res.text()
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_string(), value.parse().unwrap())
        })
        .collect()
}

#[test]
fn metrics_count_the_outbox_as_the_table_holds_it() {
    let setup = Setup::new();
    let pool = setup.db.migrated_pool();
    let sink = SmtpSink::start();
    let refused = format!("refused@{DOMAIN}");
    let busy = format!("busy@{DOMAIN}");
    sink.reject_recipient(&refused);
    sink.reject_recipient_with(&busy, 451);
    let mut addresses = recipients("metrics", 3);
    addresses.push(refused);
    addresses.push(busy);
    addresses.push(format!("cancelled@{DOMAIN}"));
    let rows = queue_due(&pool, &addresses);
    // One cancelled before it goes out, one not due until tomorrow.
    let cancelled = &rows[5];
    accord::store::notifications::cancel_unsent_for_item(
        &mut pool.get().unwrap(),
        "obligation",
        cancelled.item_id.as_deref().unwrap(),
        now(),
    )
    .unwrap();
    let later = reminder(
        &format!("later@{DOMAIN}"),
        now() + chrono::Duration::days(1),
    );
    assert!(queue(&mut pool.get().unwrap(), &later).unwrap());

    // Two attempts at most: the busy mailbox dies of its 451s.
    let worker = start_worker(&setup.db, &pool, &sink, &worker_toml("metrics", 2));
    wait_until(Duration::from_secs(60), "every due row settled", || {
        let s = states(&pool);
        s.get(state::SENT) == Some(&3)
            && s.get(state::FAILED) == Some(&1)
            && s.get(state::DEAD) == Some(&1)
    });
    worker.stop_and_join();

    // The table, counted here by plain SQL, and /metrics agree.
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::Text)]
        state: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let counted: Vec<Count> =
        diesel::sql_query("SELECT state, COUNT(*) AS n FROM notifications GROUP BY state")
            .load(&mut *pool.get().unwrap())
            .unwrap();
    let table: BTreeMap<String, i64> = counted.into_iter().map(|c| (c.state, c.n)).collect();
    assert_eq!(
        table,
        BTreeMap::from([
            ("cancelled".to_string(), 1),
            ("dead".to_string(), 1),
            ("failed".to_string(), 1),
            ("pending".to_string(), 1),
            ("sent".to_string(), 3),
        ])
    );
    let m = metrics(&setup);
    for s in [
        "pending",
        "sending",
        "sent",
        "retry",
        "failed",
        "dead",
        "cancelled",
    ] {
        let want = table.get(s).copied().unwrap_or(0) as f64;
        assert_eq!(
            m.get(&format!("accord_notifications{{state=\"{s}\"}}")),
            Some(&want),
            "{s}: {m:?}"
        );
    }
    assert_eq!(
        m["accord_notifications_queued"], 1.0,
        "the one due tomorrow"
    );
    assert_eq!(m["accord_notifications_retried"], 1.0, "the busy mailbox");
    assert_eq!(m["accord_notification_retries"], 1.0);
    assert!(m["accord_worker_deliveries_total{outcome=\"sent\"}"] >= 3.0);
    assert_eq!(row(&pool, &rows[4].id).attempts, 2);
    assert!(row(&pool, &rows[4].id).last_error.unwrap().contains("451"));
}

/// Delivers `n` reminders through a worker configured by `sink.mail_toml()`
/// (its TLS mode, trusting its CA, with its credentials) and returns what the
/// sink received, having checked each arrived once.
fn deliver_through(sink: &SmtpSink, n: usize, label: &str) -> Vec<ReceivedMessage> {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let queued = queue_due(&pool, &recipients(label, n));
    let worker = start_worker(&db, &pool, sink, &worker_toml(label, 8));
    wait_until(Duration::from_secs(60), "every row sent", || {
        sent(&pool) == n as i64
    });
    worker.stop_and_join();
    let received = sink.received();
    assert_eq!(received.len(), n, "one email per row");
    let ids = by_message_id(&received);
    for q in &queued {
        assert_eq!(
            ids.get(&q.message_id).map(Vec::len),
            Some(1),
            "{}",
            q.message_id
        );
    }
    received
}

#[test]
fn starttls_with_authentication_delivers_over_tls_as_the_configured_user() {
    let sink = SmtpSink::start_secured(SinkTls::Starttls, Some(("accord-relay", "s3cret pass")));
    for message in deliver_through(&sink, 3, "starttls") {
        assert!(message.tls, "sent after STARTTLS, never in clear");
        assert_eq!(message.auth_user.as_deref(), Some("accord-relay"));
    }
}

#[test]
fn implicit_tls_with_authentication_delivers_over_tls_as_the_configured_user() {
    let sink = SmtpSink::start_secured(SinkTls::Implicit, Some(("accord-relay", "s3cret")));
    for message in deliver_through(&sink, 3, "implicit") {
        assert!(message.tls, "TLS from the first byte");
        assert_eq!(message.auth_user.as_deref(), Some("accord-relay"));
    }
}

/// Waits until the row has been claimed for at least `attempts` attempts.
fn after_attempts(pool: &Pool, id: &str, attempts: i32) {
    wait_until(Duration::from_secs(60), "the attempts", || {
        row(pool, id).attempts >= attempts
    });
}

#[test]
fn a_refused_password_keeps_the_reminder_waiting_until_the_credentials_are_fixed() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let sink = SmtpSink::start_secured(SinkTls::Starttls, Some(("accord-relay", "right")));
    let queued = queue_due(&pool, &recipients("password", 1)).remove(0);
    let wrong = sink
        .mail_toml()
        .replace("password = \"right\"", "password = \"wrong\"");
    assert_ne!(wrong, sink.mail_toml());
    let worker = start_worker_with_mail(&db, &pool, &wrong, &worker_toml("password", 8));
    after_attempts(&pool, &queued.id, 2);
    // Stopped, the worker records the attempt in flight or gives the row back.
    worker.stop_and_join();
    let stored = row(&pool, &queued.id);
    assert!(
        stored.state == state::RETRY || stored.state == state::PENDING,
        "a refused password is the relay's configuration, not the message's: {}",
        stored.state
    );
    let error = stored.last_error.unwrap_or_default();
    assert!(
        error.contains("refused authentication") && error.contains("535"),
        "{error}"
    );
    assert!(sink.received().is_empty());

    // Fixed: the same row goes out, once, with its Message-ID.
    let worker = start_worker(&db, &pool, &sink, &worker_toml("password-fixed", 8));
    wait_until(Duration::from_secs(60), "the row sent", || {
        row(&pool, &queued.id).state == state::SENT
    });
    worker.stop_and_join();
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].message_id, queued.message_id);
}

#[test]
fn an_untrusted_certificate_or_a_server_without_starttls_sends_nothing_in_clear() {
    // The sink's CA not trusted: the handshake fails, the row waits.
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let sink = SmtpSink::start_secured(SinkTls::Starttls, None);
    let untrusted = sink
        .mail_toml()
        .lines()
        .filter(|line| !line.starts_with("ca_file"))
        .collect::<Vec<_>>()
        .join("\n");
    let queued = queue_due(&pool, &recipients("untrusted", 1)).remove(0);
    let worker = start_worker_with_mail(&db, &pool, &untrusted, &worker_toml("untrusted", 8));
    after_attempts(&pool, &queued.id, 1);
    worker.stop_and_join();
    let stored = row(&pool, &queued.id);
    assert_ne!(stored.state, state::SENT);
    assert_ne!(stored.state, state::FAILED, "a TLS failure is retried");
    let error = stored.last_error.unwrap_or_default();
    assert!(
        error.to_lowercase().contains("certificate") || error.to_lowercase().contains("tls"),
        "{error}"
    );
    assert!(sink.received().is_empty());

    // STARTTLS required, and the server does not offer it: nothing goes in clear.
    let plain = SmtpSink::start();
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let demanding = plain
        .mail_toml()
        .replace("tls = \"none\"", "tls = \"starttls\"");
    let queued = queue_due(&pool, &recipients("no-starttls", 1)).remove(0);
    let worker = start_worker_with_mail(&db, &pool, &demanding, &worker_toml("no-starttls", 8));
    after_attempts(&pool, &queued.id, 1);
    worker.stop_and_join();
    let stored = row(&pool, &queued.id);
    assert_ne!(stored.state, state::SENT);
    assert!(plain.received().is_empty(), "nothing sent without TLS");
    assert!(plain.stats().contains("data=0"), "{}", plain.stats());
}

/// A digest row for `recipient` with `members` gathered into it, all due now.
fn queue_digest(
    pool: &Pool,
    recipient: &str,
    members: usize,
) -> (NotificationRow, Vec<NotificationRow>) {
    let mut conn = pool.get().unwrap();
    let due = now() - chrono::Duration::minutes(1);
    let mut digest = reminder(recipient, due);
    digest.kind = "digest".into();
    digest.item_kind = None;
    digest.item_id = None;
    assert!(queue(&mut conn, &digest).unwrap());
    let members = (0..members)
        .map(|_| {
            let mut member = reminder(recipient, due);
            member.digest_id = Some(digest.id.clone());
            assert!(queue(&mut conn, &member).unwrap());
            member
        })
        .collect();
    (digest, members)
}

#[test]
fn members_of_a_digest_that_failed_or_died_end_with_it_saying_why() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let sink = SmtpSink::start();
    sink.reject_recipient("refused@test.example");
    sink.reject_recipient_with("busy@test.example", 451);
    let (refused, refused_members) = queue_digest(&pool, "refused@test.example", 2);
    let (busy, busy_members) = queue_digest(&pool, "busy@test.example", 2);
    let (fine, fine_members) = queue_digest(&pool, "fine@test.example", 2);
    let worker = start_worker(&db, &pool, &sink, &worker_toml("digests", 2));
    wait_until(Duration::from_secs(60), "every digest settled", || {
        row(&pool, &refused.id).state == state::FAILED
            && row(&pool, &busy.id).state == state::DEAD
            && row(&pool, &fine.id).state == state::SENT
    });
    worker.stop_and_join();

    for (members, end, code) in [
        (&refused_members, state::FAILED, "550"),
        (&busy_members, state::DEAD, "451"),
    ] {
        for member in members {
            let stored = row(&pool, &member.id);
            assert_eq!(stored.state, end, "a member ends as its digest did");
            assert_eq!(stored.attempts, 0, "a member is never sent on its own");
            let error = stored.last_error.unwrap_or_default();
            assert!(
                error.contains("its digest") && error.contains(code),
                "{error}"
            );
        }
    }
    for member in &fine_members {
        let stored = row(&pool, &member.id);
        assert_eq!(stored.state, state::SENT);
        assert!(stored.sent_at.is_some());
    }
    let received = sink.received();
    assert_eq!(received.len(), 1, "only the fine digest arrived, once");
    assert_eq!(received[0].message_id, fine.message_id);
    let waiting = states(&pool);
    assert_eq!(
        waiting.get(state::PENDING),
        None,
        "nothing left pending: {waiting:?}"
    );
}
