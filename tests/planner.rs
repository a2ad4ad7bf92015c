//! The planner on both backends: the rows a fixture programme calls for on
//! fixed dates (recipients, local send hours in Asia/Almaty and
//! Europe/Moscow, weekend shifts), idempotence (twice, and two planners at
//! once), re-planning inside the transaction of the write that changes an
//! item, completion and cancellation, digests and escalations, event emails
//! with their iTIP calendars, policies through the API, and the preview.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use accord::db::schema::{events, meetings, notifications, obligations};
use accord::db::Pool;
use accord::notify::payload::Payload;
use accord::notify::planner::{self, PlanOutcome, PlanSettings};
use accord::store::notifications::NotificationRow;
use accord::users::{add_user, NewUser};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use common::*;
use diesel::prelude::*;
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;
use serde_json::{json, Value};

const PASSWORD: &str = "a long enough password";

/// A programme of three items, an event and a meeting, with focal points in
/// Almaty and Moscow, deputies, a contact who reads a daily digest, and a
/// secretariat.
const FIXTURE: &str = r#"
parties:
  - {code: KZ, name: {en: Kazakhstan, ru: Казахстан, kk: Қазақстан}, time_zone: Asia/Almaty}
  - {code: RU, name: {en: Russia, ru: Россия}, time_zone: Europe/Moscow}
organisations:
  - key: kz-mci
    party: KZ
    kind: ministry
    name: {en: Ministry of Culture and Information, ru: Министерство культуры и информации, kk: Мәдениет және ақпарат министрлігі}
    contacts:
      - {name: Айгүл Сапарова, email: focal@mci.kz, language: kk, role: focal_point, time_zone: Asia/Almaty}
      - {name: Ерлан Deputy, email: deputy@mci.kz, language: ru, role: deputy, time_zone: Asia/Almaty}
  - key: ru-mkrf
    party: RU
    kind: ministry
    name: {en: Ministry of Culture, ru: Министерство культуры}
    contacts:
      - {name: Иван Петров, email: focal@mkrf.ru, language: ru, role: focal_point, time_zone: Europe/Moscow}
      - {name: Мария Deputy, email: deputy@mkrf.ru, language: ru, role: deputy, time_zone: Europe/Moscow}
      - {name: Daily Reader, email: digest@mkrf.ru, language: en, role: focal_point, time_zone: Europe/Moscow, notifications: daily_digest}
  - key: sc-office
    party: RU
    kind: other
    name: {en: Secretariat of the Sub-Commission}
    contacts:
      - {name: Sub-Commission Secretariat, email: secretariat@sc.example, language: en, role: secretariat, time_zone: Europe/Moscow}
bodies:
  - key: kz-ru-sc
    kind: sub_commission
    name: {en: Sub-Commission on Cultural Cooperation}
    parties: [KZ, RU]
    secretariat: [secretariat@sc.example]
meetings:
  - {body: kz-ru-sc, number: 5, title: {en: Fifth meeting, ru: Пятое заседание}, date: 2025-11-07, time: "11:00", time_zone: Europe/Moscow, city: Moscow, status: planned}
programmes:
  - key: kz-ru-p
    title: {en: Programme 2025-2026, ru: Программа 2025-2026}
    body: kz-ru-sc
    period: "2025-2026"
    parties: [KZ, RU]
    sections:
      - code: theatre
        title: {en: Theatre}
        obligations:
          - number: "1.1"
            text: {en: Tour of a theatre, ru: Гастроли театра, kk: Театр гастрольдері}
            kind: tour
            timeframe: "2025-10-15"
            assignments:
              - {organisation: kz-mci, role: sending}
              - {organisation: ru-mkrf, role: hosting}
          - number: "1.2"
            text: {en: Days of Culture, ru: Дни культуры}
            kind: days_of_culture
            timeframe: "2025-10-13"
            assignments:
              - {organisation: kz-mci, role: lead}
          - number: "1.3"
            text: {en: Exchange of literature, ru: Обмен литературой}
            kind: information_exchange
            timeframe: "2025-09-01"
            assignments:
              - {organisation: ru-mkrf, role: lead}
events:
  - key: gala-2025
    title: {en: Gala concert, ru: Гала-концерт, kk: Гала-концерт}
    kind: concert
    status: confirmed
    start: 2025-10-09T19:00
    end: 2025-10-09T21:00
    time_zone: Asia/Almaty
    city: Astana
    organisers: [kz-mci]
"#;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// Tuesday 7 October 2025, noon UTC: the server's clock in these tests.
fn now1() -> DateTime<Utc> {
    utc(2025, 10, 7, 12, 0)
}

struct Env {
    db: TestDb,
    pool: Pool,
    server: TestServer,
    client: Client,
    settings: PlanSettings,
}

impl Env {
    fn new() -> Env {
        let db = TestDb::new();
        let pool = db.migrated_pool();
        let mut conn = pool.get().unwrap();
        accord::import::import_str(&mut conn, FIXTURE, &write_context("test")).unwrap();
        for (name, role, org, bodies) in [
            ("admin", "admin", None, vec![]),
            (
                "secretariat",
                "secretariat",
                None,
                vec!["kz-ru-sc".to_string()],
            ),
            ("kz-editor", "editor", Some("kz-mci"), vec![]),
            ("ru-editor", "editor", Some("ru-mkrf"), vec![]),
        ] {
            add_user(
                &mut conn,
                &write_context("test"),
                NewUser {
                    username: name,
                    role,
                    display_name: None,
                    organisation: org,
                    bodies: &bodies,
                    password: PASSWORD,
                },
            )
            .unwrap();
        }
        drop(conn);
        let settings = PlanSettings::from_settings(&db.settings());
        let server = TestServer::start(&db, std::sync::Arc::new(accord::clock::FixedClock(now1())));
        Env {
            db,
            pool,
            server,
            client: Client::new(),
            settings,
        }
    }

    fn plan(&self, now: DateTime<Utc>) -> PlanOutcome {
        let mut conn = self.pool.get().unwrap();
        planner::plan_due(&mut conn, now, &self.settings).unwrap()
    }

    fn rows(&self) -> Vec<NotificationRow> {
        let mut conn = self.pool.get().unwrap();
        notifications::table
            .order((
                notifications::send_after.asc(),
                notifications::dedupe_key.asc(),
            ))
            .select(NotificationRow::as_select())
            .load(&mut *conn)
            .unwrap()
    }

    /// Item ids by what the tests call them: numbers of items, keys of events.
    fn labels(&self) -> BTreeMap<String, String> {
        let mut conn = self.pool.get().unwrap();
        let mut labels: BTreeMap<String, String> = obligations::table
            .select((obligations::id, obligations::number))
            .load::<(String, String)>(&mut *conn)
            .unwrap()
            .into_iter()
            .collect();
        for (id, key) in events::table
            .select((events::id, events::key))
            .load::<(String, Option<String>)>(&mut *conn)
            .unwrap()
        {
            labels.insert(id.clone(), key.unwrap_or(id));
        }
        for (id, number) in meetings::table
            .select((meetings::id, meetings::number))
            .load::<(String, i32)>(&mut *conn)
            .unwrap()
        {
            labels.insert(id, format!("meeting-{number}"));
        }
        labels
    }

    fn id_of(&self, label: &str) -> String {
        self.labels()
            .into_iter()
            .find(|(_, l)| l == label)
            .map(|(id, _)| id)
            .unwrap_or_else(|| panic!("no item {label}"))
    }

    /// The live rows as comparable lines: state kind recipient item offset
    /// send_after (and "in <digest kind>" for gathered members).
    fn lines(&self) -> BTreeSet<String> {
        let labels = self.labels();
        let rows = self.rows();
        let kind_of: BTreeMap<String, String> = rows
            .iter()
            .map(|r| (r.id.clone(), r.kind.clone()))
            .collect();
        rows.iter()
            .filter(|r| r.state != "cancelled")
            .map(|r| {
                let item = r
                    .item_id
                    .as_ref()
                    .map(|i| labels.get(i).cloned().unwrap_or_else(|| i.clone()))
                    .unwrap_or_else(|| "-".into());
                let offset = r
                    .offset_days
                    .map(|o| o.to_string())
                    .unwrap_or_else(|| "-".into());
                let gathered = r
                    .digest_id
                    .as_ref()
                    .map(|d| format!(" in {}", kind_of[d]))
                    .unwrap_or_default();
                format!(
                    "{} {} {} {} {} {}{gathered}",
                    r.state,
                    r.kind,
                    r.recipient,
                    item,
                    offset,
                    r.send_after.and_utc().to_rfc3339()
                )
            })
            .collect()
    }

    fn token(&self, user: &str) -> String {
        let res = self
            .client
            .post(self.server.url("/api/v1/auth/token"))
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        if_match: Option<i64>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method.clone(), self.server.url(path))
            .bearer_auth(token);
        if let Some(v) = if_match {
            req = req.header("if-match", format!("\"{v}\""));
        }
        if let Some(b) = body {
            let content_type = if method == reqwest::Method::PATCH {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            req = req.header("content-type", content_type).body(b.to_string());
        }
        req.send().unwrap()
    }

    fn get(&self, path: &str, token: &str) -> Value {
        let res = self.send(reqwest::Method::GET, path, token, None, None);
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.json().unwrap()
    }

    fn payload(&self, row: &NotificationRow) -> Payload {
        serde_json::from_str(&row.payload).unwrap()
    }
}

fn set(lines: &[&str]) -> BTreeSet<String> {
    lines.iter().map(|l| l.to_string()).collect()
}

/// What the fixture calls for around Tuesday 7 October 2025 (window: 6
/// October 12:00Z to 8 October 12:00Z): 09:00 is 04:00Z in Almaty (UTC+5)
/// and 06:00Z in Moscow (UTC+3).
fn expected_on_7_october() -> BTreeSet<String> {
    set(&[
        // 1.1 is due Wednesday 15 October: 7 days before, at 09:00 local.
        "pending reminder focal@mci.kz 1.1 7 2025-10-08T04:00:00+00:00",
        "pending reminder focal@mkrf.ru 1.1 7 2025-10-08T06:00:00+00:00",
        "pending reminder digest@mkrf.ru 1.1 7 2025-10-08T06:00:00+00:00 in digest",
        "pending digest digest@mkrf.ru - - 2025-10-08T06:00:00+00:00",
        // 1.3 was due Monday 1 September: overdue every 7 days from the 2nd
        // (Tuesdays); 36 days overdue, the deputies are told too.
        "pending overdue focal@mkrf.ru 1.3 -36 2025-10-07T06:00:00+00:00",
        "pending overdue deputy@mkrf.ru 1.3 -36 2025-10-07T06:00:00+00:00",
        "pending overdue digest@mkrf.ru 1.3 -36 2025-10-07T06:00:00+00:00 in digest",
        "pending digest digest@mkrf.ru - - 2025-10-07T06:00:00+00:00",
        // The gala starts Thursday 9 October (19:00 in Astana): a day before.
        "pending reminder focal@mci.kz gala-2025 1 2025-10-08T04:00:00+00:00",
        // The meeting of Friday 7 November, to the body's secretariat: 30 days before.
        "pending reminder secretariat@sc.example meeting-5 30 2025-10-08T06:00:00+00:00",
    ])
}

#[test]
fn the_fixture_gets_exactly_the_expected_rows_on_fixed_dates() {
    let env = Env::new();
    let outcome = env.plan(now1());
    assert_eq!(env.lines(), expected_on_7_october());
    assert_eq!(outcome.queued, 10, "{outcome:?}");

    // Sunday 5 October, the secretariat's Monday: 1.3 is 35 days overdue on
    // Monday 6 October, listed in one escalation to the secretariat (09:00
    // in Moscow); 1.2 (due Monday 13 October) is 7 days away that Monday.
    let env = Env::new();
    env.plan(utc(2025, 10, 5, 12, 0));
    assert_eq!(
        env.lines(),
        set(&[
            "pending overdue secretariat@sc.example 1.3 -35 2025-10-06T06:00:00+00:00 in escalation",
            "pending escalation secretariat@sc.example - - 2025-10-06T06:00:00+00:00",
            "pending reminder focal@mci.kz 1.2 7 2025-10-06T04:00:00+00:00",
        ])
    );
    let escalation = env
        .rows()
        .into_iter()
        .find(|r| r.kind == "escalation")
        .unwrap();
    let payload = env.payload(&escalation);
    assert_eq!(payload.items.len(), 1);
    assert_eq!(payload.items[0].number.as_deref(), Some("1.3"));
    assert_eq!(payload.items[0].days_left, -35);
    assert_eq!(
        payload.programme.as_ref().unwrap().key.as_deref(),
        Some("kz-ru-p")
    );
    assert_eq!(escalation.language, "en");

    // Friday 10 October: 1.2 is due Monday 13 October; its reminder a day
    // before falls on Sunday and goes out on Friday, 3 days before. The
    // gala's on the day (Thursday 9 October) is still in the window.
    let env = Env::new();
    env.plan(utc(2025, 10, 10, 0, 0));
    assert_eq!(
        env.lines(),
        set(&[
            "pending reminder focal@mci.kz gala-2025 0 2025-10-09T04:00:00+00:00",
            "pending reminder focal@mci.kz 1.2 3 2025-10-10T04:00:00+00:00",
        ])
    );
    let row = &env.rows()[1];
    assert_eq!(row.language, "kk");
    assert_eq!(row.time_zone, "Asia/Almaty");
    assert_eq!(
        row.due_on,
        Some(NaiveDate::from_ymd_opt(2025, 10, 13).unwrap())
    );
    let payload = env.payload(row);
    assert_eq!(payload.recipient_name, "Айгүл Сапарова");
    assert_eq!(payload.items[0].days_left, 3);
    assert_eq!(payload.items[0].field, "obligation_due");
    assert_eq!(payload.items[0].responsible, vec!["kz-mci".to_string()]);
    assert_eq!(
        payload.items[0].url,
        format!(
            "http://localhost:8080/api/v1/obligations/{}",
            env.id_of("1.2")
        )
    );
    assert!(
        row.message_id.ends_with("@accord.local>"),
        "{}",
        row.message_id
    );

    // The meeting's reminder speaks of its time, 11:00 in Moscow.
    let env = Env::new();
    env.plan(now1());
    let meeting = env
        .rows()
        .into_iter()
        .find(|r| r.item_kind.as_deref() == Some("meeting"))
        .unwrap();
    let payload = env.payload(&meeting);
    assert_eq!(payload.items[0].starts_at, Some(utc(2025, 11, 7, 8, 0)));
    assert_eq!(payload.items[0].field, "meeting");
    assert_eq!(meeting.language, "en");
}

fn meeting_id(env: &Env) -> String {
    use accord::db::schema::meetings;
    let mut conn = env.pool.get().unwrap();
    meetings::table
        .select(meetings::id)
        .first::<String>(&mut *conn)
        .unwrap()
}

#[test]
fn planning_twice_writes_nothing_new() {
    let env = Env::new();
    let first = env.plan(now1());
    assert!(first.queued > 0);
    let before = env.rows();
    let counts = table_counts(&env.pool);
    let again = env.plan(now1());
    assert_eq!(again, PlanOutcome::default());
    // An hour later the window has moved, but nothing new falls in it.
    let later = env.plan(now1() + chrono::Duration::hours(1));
    assert_eq!(later, PlanOutcome::default());
    assert_eq!(env.rows(), before, "no row rewritten");
    assert_eq!(table_counts(&env.pool), counts);
}

#[test]
fn two_planners_at_once_write_each_row_once() {
    let env = Env::new();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let pool = env.pool.clone();
            let settings = env.settings.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                let mut queued = 0;
                for minutes in 0..3 {
                    let now = now1() + chrono::Duration::minutes(minutes);
                    queued += planner::plan_due(&mut conn, now, &settings).unwrap().queued;
                }
                queued
            })
        })
        .collect();
    let queued: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let rows = env.rows();
    assert_eq!(queued, rows.len(), "each row queued by exactly one planner");
    let keys: BTreeSet<&str> = rows.iter().map(|r| r.dedupe_key.as_str()).collect();
    assert_eq!(keys.len(), rows.len());
    assert_eq!(env.lines(), expected_on_7_october());
}

/// The obligation as the API shows it (for its version).
fn item(env: &Env, token: &str, label: &str) -> Value {
    env.get(&format!("/api/v1/obligations/{}", env.id_of(label)), token)
}

#[test]
fn changing_a_due_date_replans_in_the_same_request_and_moving_back_revives() {
    let env = Env::new();
    env.plan(now1());
    let admin = env.token("admin");
    let before: BTreeMap<String, NotificationRow> = env
        .rows()
        .into_iter()
        .map(|r| (r.dedupe_key.clone(), r))
        .collect();
    let one = item(&env, &admin, "1.1");
    let res = env.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/obligations/{}", one["id"].as_str().unwrap()),
        &admin,
        Some(one["version"].as_i64().unwrap()),
        Some(json!({"timeframe": "2025-10-14"})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    // Right after the one request: 1.1's old reminders are cancelled, the
    // new ones (7 days before Tuesday 14 October: today) pending; the digest
    // of the 8th lost its only member and is cancelled, the 7th's gained one.
    let mut expected = expected_on_7_october();
    for gone in [
        "pending reminder focal@mci.kz 1.1 7 2025-10-08T04:00:00+00:00",
        "pending reminder focal@mkrf.ru 1.1 7 2025-10-08T06:00:00+00:00",
        "pending reminder digest@mkrf.ru 1.1 7 2025-10-08T06:00:00+00:00 in digest",
        "pending digest digest@mkrf.ru - - 2025-10-08T06:00:00+00:00",
    ] {
        assert!(expected.remove(gone), "{gone}");
    }
    expected.extend(set(&[
        "pending reminder focal@mci.kz 1.1 7 2025-10-07T04:00:00+00:00",
        "pending reminder focal@mkrf.ru 1.1 7 2025-10-07T06:00:00+00:00",
        "pending reminder digest@mkrf.ru 1.1 7 2025-10-07T06:00:00+00:00 in digest",
    ]));
    assert_eq!(env.lines(), expected);
    let rows = env.rows();
    let digest = rows
        .iter()
        .find(|r| r.kind == "digest" && r.state == "pending")
        .unwrap();
    let listed: Vec<Option<String>> = env
        .payload(digest)
        .items
        .iter()
        .map(|i| i.number.clone())
        .collect();
    assert_eq!(
        listed,
        vec![Some("1.3".to_string()), Some("1.1".to_string())]
    );
    let cancelled: Vec<&NotificationRow> = rows.iter().filter(|r| r.state == "cancelled").collect();
    assert_eq!(
        cancelled.len(),
        4,
        "three reminders and the digest of the 8th"
    );

    // Back to 15 October: the same rows come back, with their Message-IDs.
    let one = item(&env, &admin, "1.1");
    let res = env.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/obligations/{}", one["id"].as_str().unwrap()),
        &admin,
        Some(one["version"].as_i64().unwrap()),
        Some(json!({"timeframe": "2025-10-15"})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(env.lines(), expected_on_7_october());
    for row in env.rows().iter().filter(|r| r.state == "pending") {
        let old = &before[&row.dedupe_key];
        assert_eq!(row.id, old.id, "{}", row.dedupe_key);
        assert_eq!(row.message_id, old.message_id);
    }
    // And the planner agrees: nothing more to do.
    assert_eq!(env.plan(now1()), PlanOutcome::default());
}

#[test]
fn planner_passes_and_rewrites_at_once_all_succeed_and_end_as_one_would() {
    // Passes and re-plans touch the same rows (1.1's reminders, the digests
    // they are gathered in); each takes the planning lock first, so none
    // waits on the other's rows (no deadlock, no aborted write).
    let env = Env::new();
    env.plan(now1());
    let admin = env.token("admin");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // SQLite runs one worker (its writers queue on one lock, and a tight loop
    // of passes would starve the API past its busy timeout); PostgreSQL two.
    let planners = match env.db.backend {
        accord::db::Backend::Sqlite => 1,
        accord::db::Backend::Postgres => 2,
    };
    let passes: Vec<_> = (0..planners)
        .map(|_| {
            let pool = env.pool.clone();
            let settings = env.settings.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                let mut passes = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || passes == 0 {
                    planner::plan_due(&mut conn, now1(), &settings).unwrap();
                    passes += 1;
                    // A worker pauses between passes (poll_ms); so do these.
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                passes
            })
        })
        .collect();
    for round in 0..12 {
        let one = item(&env, &admin, "1.1");
        let day = if round % 2 == 0 {
            "2025-10-14"
        } else {
            "2025-10-15"
        };
        let res = env.send(
            reqwest::Method::PATCH,
            &format!("/api/v1/obligations/{}", one["id"].as_str().unwrap()),
            &admin,
            Some(one["version"].as_i64().unwrap()),
            Some(json!({ "timeframe": day })),
        );
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "round {round}: {}",
            res.text().unwrap()
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for pass in passes {
        assert!(pass.join().unwrap() > 0);
    }
    // Back on 15 October: exactly the rows a single planner would have left.
    assert_eq!(env.lines(), expected_on_7_october());
    assert_eq!(env.plan(now1()), PlanOutcome::default());
}

#[test]
fn an_import_that_moves_a_date_replans_at_once_with_mail_settings_or_at_the_next_pass() {
    let env = Env::new();
    env.plan(now1());
    let ctx = accord::store::WriteContext {
        actor: "test:import".into(),
        at: now1().naive_utc(),
        request_id: None,
    };
    let moved = FIXTURE.replacen("timeframe: \"2025-10-15\"", "timeframe: \"2025-10-14\"", 1);
    assert_ne!(moved, FIXTURE);
    let old = "pending reminder focal@mci.kz 1.1 7 2025-10-08T04:00:00+00:00";
    let new = "pending reminder focal@mci.kz 1.1 7 2025-10-07T04:00:00+00:00";

    // `accord import` (with the mail settings): re-planned in the import's
    // transaction, as an API write is; the next pass finds nothing to do.
    let mut conn = env.pool.get().unwrap();
    accord::import::import_str_replanned(&mut conn, &moved, &ctx, &env.settings).unwrap();
    let lines = env.lines();
    assert!(!lines.contains(old) && lines.contains(new), "{lines:#?}");
    assert_eq!(env.plan(now1()), PlanOutcome::default());

    // Without them (the library call): the stale rows are cancelled in the
    // import's transaction, and the next pass queues what holds again.
    accord::import::import_str(&mut conn, FIXTURE, &ctx).unwrap();
    let lines = env.lines();
    assert!(!lines.contains(old) && !lines.contains(new), "{lines:#?}");
    env.plan(now1());
    assert_eq!(env.lines(), expected_on_7_october());
}

#[test]
fn a_failed_write_leaves_the_outbox_as_it_was() {
    let env = Env::new();
    env.plan(now1());
    let admin = env.token("admin");
    let before = env.rows();
    let one = item(&env, &admin, "1.1");
    // A stale If-Match: the change and its re-planning roll back together.
    let res = env.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/obligations/{}", one["id"].as_str().unwrap()),
        &admin,
        Some(one["version"].as_i64().unwrap() + 5),
        Some(json!({"timeframe": "2025-10-14"})),
    );
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(env.rows(), before);
}

fn report(env: &Env, token: &str, label: &str, party: &str) -> Response {
    env.send(
        reqwest::Method::POST,
        &format!("/api/v1/obligations/{}/reports", env.id_of(label)),
        token,
        None,
        Some(json!({
            "party": party, "lifecycle": "completed", "completion": "complete",
            "as_of": "2025-10-07"
        })),
    )
}

#[test]
fn completing_an_item_cancels_its_reminders_party_by_party() {
    let env = Env::new();
    env.plan(now1());
    let kz = env.token("kz-editor");
    let ru = env.token("ru-editor");
    // Kazakhstan's side is done: its focal point hears no more of 1.1;
    // Russia's side still does.
    assert_eq!(report(&env, &kz, "1.1", "KZ").status(), StatusCode::CREATED);
    let mut expected = expected_on_7_october();
    assert!(expected.remove("pending reminder focal@mci.kz 1.1 7 2025-10-08T04:00:00+00:00"));
    assert_eq!(env.lines(), expected);
    // Both sides done: nothing about 1.1 is left, and its digest goes too.
    assert_eq!(report(&env, &ru, "1.1", "RU").status(), StatusCode::CREATED);
    for gone in [
        "pending reminder focal@mkrf.ru 1.1 7 2025-10-08T06:00:00+00:00",
        "pending reminder digest@mkrf.ru 1.1 7 2025-10-08T06:00:00+00:00 in digest",
        "pending digest digest@mkrf.ru - - 2025-10-08T06:00:00+00:00",
    ] {
        assert!(expected.remove(gone), "{gone}");
    }
    assert_eq!(env.lines(), expected);
    let id = env.id_of("1.1");
    for row in env
        .rows()
        .iter()
        .filter(|r| r.item_id.as_deref() == Some(&id))
    {
        assert_eq!(row.state, "cancelled", "{}", row.dedupe_key);
    }
    // The planner plans nothing about a completed item.
    assert_eq!(env.plan(now1()).queued, 0);
    // Completing the overdue item empties the other digest as well.
    assert_eq!(report(&env, &ru, "1.3", "RU").status(), StatusCode::CREATED);
    assert_eq!(
        env.lines(),
        set(&[
            "pending reminder focal@mci.kz gala-2025 1 2025-10-08T04:00:00+00:00",
            "pending reminder secretariat@sc.example meeting-5 30 2025-10-08T06:00:00+00:00",
        ])
    );
}

#[test]
fn a_decision_that_cancels_an_item_cancels_its_reminders() {
    let env = Env::new();
    env.plan(now1());
    let admin = env.token("admin");
    let meeting = meeting_id(&env);
    let res = env.send(
        reqwest::Method::POST,
        &format!("/api/v1/meetings/{meeting}/decisions"),
        &admin,
        None,
        Some(json!({
            "number": "3", "kind": "cancel", "text": {"en": "The exchange is cancelled"},
            "effects": [{"obligation": env.id_of("1.3")}]
        })),
    );
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().unwrap());
    assert!(
        !env.lines().iter().any(|l| l.contains(" 1.3 ")),
        "{:?}",
        env.lines()
    );
}

#[test]
fn event_emails_carry_itip_and_a_cancelled_event_cancels_its_reminders() {
    let env = Env::new();
    let admin = env.token("admin");
    let res = env.send(
        reqwest::Method::POST,
        "/api/v1/events",
        &admin,
        None,
        Some(json!({
            "title": {"en": "Opening of the exhibition", "ru": "Открытие выставки"},
            "kind": "exhibition", "status": "confirmed",
            "start": "2025-10-08T18:00", "end": "2025-10-08T20:00", "time_zone": "Europe/Moscow",
            "organisers": ["ru-mkrf", "kz-mci"]
        })),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let event: Value = res.json().unwrap();
    let id = event["id"].as_str().unwrap().to_string();
    let rows = env.rows();
    let invitations: Vec<&NotificationRow> = rows
        .iter()
        .filter(|r| r.kind == "event_invitation")
        .collect();
    let to: BTreeSet<&str> = invitations.iter().map(|r| r.recipient.as_str()).collect();
    // The organisers' focal points, each in their own language.
    assert_eq!(
        to,
        BTreeSet::from(["digest@mkrf.ru", "focal@mci.kz", "focal@mkrf.ru"])
    );
    let kk = invitations
        .iter()
        .find(|r| r.recipient == "focal@mci.kz")
        .unwrap();
    let ics = env.payload(kk).ics.unwrap();
    assert!(ics.contains("METHOD:REQUEST"), "{ics}");
    assert!(ics.contains(&format!("UID:event-{id}@accord")), "{ics}");
    assert!(ics.contains("SEQUENCE:0"), "{ics}");
    assert!(ics.contains("ATTENDEE"), "{ics}");
    // Its reminders: a day before (7 October, today) and on the day, at
    // 09:00 in each recipient's zone.
    let reminders: BTreeSet<String> = env
        .lines()
        .into_iter()
        .filter(|l| l.contains(&id) && l.contains(" reminder "))
        .collect();
    assert_eq!(
        reminders,
        set(&[
            &format!("pending reminder focal@mci.kz {id} 1 2025-10-07T04:00:00+00:00"),
            &format!("pending reminder focal@mkrf.ru {id} 1 2025-10-07T06:00:00+00:00"),
            &format!("pending reminder digest@mkrf.ru {id} 1 2025-10-07T06:00:00+00:00 in digest"),
            &format!("pending reminder focal@mci.kz {id} 0 2025-10-08T04:00:00+00:00"),
            &format!("pending reminder focal@mkrf.ru {id} 0 2025-10-08T06:00:00+00:00"),
            &format!("pending reminder digest@mkrf.ru {id} 0 2025-10-08T06:00:00+00:00 in digest"),
        ])
    );
    // The worker sends the invitations (as it would).
    {
        let mut conn = env.pool.get().unwrap();
        diesel::update(notifications::table.filter(notifications::kind.eq("event_invitation")))
            .set((
                notifications::state.eq("sent"),
                notifications::sent_at.eq(Some(now1().naive_utc())),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    // Moved by an hour: a change (REQUEST, SEQUENCE 1) to those invited.
    let res = env.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/events/{id}"),
        &admin,
        Some(event["version"].as_i64().unwrap()),
        Some(json!({"start": "2025-10-08T19:00", "end": "2025-10-08T21:00"})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let event: Value = res.json().unwrap();
    let changes: Vec<NotificationRow> = env
        .rows()
        .into_iter()
        .filter(|r| r.kind == "event_change")
        .collect();
    assert_eq!(changes.len(), 3);
    let ics = env.payload(&changes[0]).ics.unwrap();
    assert!(
        ics.contains("METHOD:REQUEST") && ics.contains("SEQUENCE:1"),
        "{ics}"
    );
    // Its reminders, not tried yet, now say 19:00 in Moscow (16:00Z).
    for r in env
        .rows()
        .iter()
        .filter(|r| r.item_id.as_deref() == Some(&id) && r.kind == "reminder")
    {
        assert_eq!(
            env.payload(r).items[0].starts_at,
            Some(utc(2025, 10, 8, 16, 0)),
            "{}",
            r.dedupe_key
        );
    }
    // Cancelled: every reminder of it is cancelled, and a CANCEL goes out.
    let res = env.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/events/{id}"),
        &admin,
        Some(event["version"].as_i64().unwrap()),
        Some(json!({"status": "cancelled"})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let rows = env.rows();
    for r in rows.iter().filter(|r| r.item_id.as_deref() == Some(&id)) {
        match r.kind.as_str() {
            "reminder" => assert_eq!(r.state, "cancelled", "{}", r.dedupe_key),
            // Unsent changes are replaced by the cancellation.
            "event_change" => assert_eq!(r.state, "cancelled", "{}", r.dedupe_key),
            "event_invitation" => assert_eq!(r.state, "sent"),
            "event_cancellation" => assert_eq!(r.state, "pending"),
            other => panic!("{other}"),
        }
    }
    let cancellations: Vec<&NotificationRow> = rows
        .iter()
        .filter(|r| r.kind == "event_cancellation")
        .collect();
    assert_eq!(cancellations.len(), 3);
    let ics = env.payload(cancellations[0]).ics.unwrap();
    assert!(ics.contains("METHOD:CANCEL"), "{ics}");
    assert!(ics.contains(&format!("UID:event-{id}@accord")), "{ics}");
    assert!(
        ics.contains("STATUS:CANCELLED") && ics.contains("SEQUENCE:2"),
        "{ics}"
    );
    // The planner plans nothing more about a cancelled event.
    env.plan(now1());
    assert!(!env
        .lines()
        .iter()
        .any(|l| l.contains(&id) && l.contains(" reminder ")));
}

#[test]
fn deleting_an_event_cancels_its_reminders_and_tells_those_invited() {
    let env = Env::new();
    env.plan(now1());
    let admin = env.token("admin");
    let id = env.id_of("gala-2025");
    // Imported, it was never announced: editing it invites the focal point.
    let event = env.get(&format!("/api/v1/events/{id}"), &admin);
    let res = env.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/events/{id}"),
        &admin,
        Some(event["version"].as_i64().unwrap()),
        Some(json!({"venue": "Astana Opera"})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let event: Value = res.json().unwrap();
    let invited: Vec<NotificationRow> = env
        .rows()
        .into_iter()
        .filter(|r| r.kind == "event_invitation")
        .collect();
    assert_eq!(invited.len(), 1);
    assert_eq!(invited[0].recipient, "focal@mci.kz");
    {
        let mut conn = env.pool.get().unwrap();
        diesel::update(notifications::table.find(&invited[0].id))
            .set(notifications::state.eq("sent"))
            .execute(&mut *conn)
            .unwrap();
    }
    let res = env.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/events/{id}"),
        &admin,
        Some(event["version"].as_i64().unwrap()),
        None,
    );
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let rows = env.rows();
    let reminder = rows
        .iter()
        .find(|r| r.item_id.as_deref() == Some(&id) && r.kind == "reminder")
        .unwrap();
    assert_eq!(reminder.state, "cancelled");
    let cancellation = rows
        .iter()
        .find(|r| r.kind == "event_cancellation")
        .unwrap();
    assert_eq!(cancellation.recipient, "focal@mci.kz");
    let ics = env.payload(cancellation).ics.unwrap();
    assert!(
        ics.contains("METHOD:CANCEL") && ics.contains("STATUS:CANCELLED"),
        "{ics}"
    );
}

#[test]
fn lead_times_and_meetings_are_replanned_with_their_anchors() {
    let env = Env::new();
    let admin = env.token("admin");
    // "List of the delegation 8 days before" the tour (1.1, due 15
    // October): due Tuesday 7 October, reminded on the day (today); the
    // reminder a day before (6 October, 09:00) is older than the window.
    let res = env.send(
        reqwest::Method::POST,
        "/api/v1/lead-times",
        &admin,
        None,
        Some(json!({
            "obligation": env.id_of("1.1"), "anchor": "end", "days_before": 8,
            "title": {"en": "Delegation list", "ru": "Список делегации"}, "party": "KZ"
        })),
    );
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().unwrap());
    let rule: Value = res.json().unwrap();
    let rule_id = rule["id"].as_str().unwrap().to_string();
    // Only KZ's organisations: the KZ focal point, in Almaty.
    let lines: BTreeSet<String> = env
        .lines()
        .into_iter()
        .filter(|l| l.contains(&rule_id))
        .collect();
    assert_eq!(
        lines,
        set(&[&format!(
            "pending reminder focal@mci.kz {rule_id} 0 2025-10-07T04:00:00+00:00"
        )])
    );
    let row = env
        .rows()
        .into_iter()
        .find(|r| r.item_id.as_deref() == Some(&rule_id))
        .unwrap();
    let title = &env.payload(&row).items[0].title;
    assert_eq!(title["en"], "Delegation list — Tour of a theatre");
    // Its anchor moves two weeks later: the lead time's reminders go.
    let one = item(&env, &admin, "1.1");
    let res = env.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/obligations/{}", one["id"].as_str().unwrap()),
        &admin,
        Some(one["version"].as_i64().unwrap()),
        Some(json!({"timeframe": "2025-10-30"})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!env.lines().iter().any(|l| l.contains(&rule_id)));
    // Deleted with If-Match: nothing left of it either way.
    let res = env.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/lead-times/{rule_id}"),
        &admin,
        Some(rule["version"].as_i64().unwrap()),
        None,
    );
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // The meeting moves to 6 November: 30 days before is 7 October (today).
    let meeting = meeting_id(&env);
    env.plan(utc(2025, 10, 8, 0, 0));
    let m = env.get(&format!("/api/v1/meetings/{meeting}"), &admin);
    let res = env.send(
        reqwest::Method::PATCH,
        &format!("/api/v1/meetings/{meeting}"),
        &admin,
        Some(m["version"].as_i64().unwrap()),
        Some(json!({"date": "2025-11-06"})),
    );
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().unwrap());
    let lines: BTreeSet<String> = env
        .lines()
        .into_iter()
        .filter(|l| l.contains("meeting-5"))
        .collect();
    assert_eq!(
        lines,
        set(&["pending reminder secretariat@sc.example meeting-5 30 2025-10-07T06:00:00+00:00"])
    );
}

#[test]
fn policies_through_the_api() {
    let env = Env::new();
    let admin = env.token("admin");
    let secretariat = env.token("secretariat");
    let editor = env.token("kz-editor");
    // The defaults, not stored.
    let global = env.get("/api/v1/reminder-policy", &editor);
    assert_eq!(global["offsets"], json!([30, 7, 1, 0]));
    assert_eq!(global["stored"], json!(false));
    assert_eq!(global["send_hour"], json!(9));
    assert!(global["version"].is_null());
    let res = env
        .client
        .get(env.server.url("/api/v1/reminder-policy"))
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let policy = json!({
        "offsets": [14, 2], "fields": ["obligation_due", "event_start"],
        "overdue_every_days": 3, "deputies_after_days": 3, "secretariat_after_days": 6,
        "send_hour": 10, "skip_weekends": false
    });
    // Only admins write the global one.
    let res = env.send(
        reqwest::Method::PUT,
        "/api/v1/reminder-policy",
        &secretariat,
        None,
        Some(policy.clone()),
    );
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Validation names each field.
    let res = env.send(
        reqwest::Method::PUT,
        "/api/v1/reminder-policy",
        &admin,
        None,
        Some(json!({
            "offsets": [7, 7, 400], "fields": ["birthday"], "overdue_every_days": 1,
            "deputies_after_days": 1, "secretariat_after_days": 1, "send_hour": 24,
            "skip_weekends": true
        })),
    );
    let (status, problem) = api::problem(res);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["offsets[1]", "offsets[2]", "fields[0]", "send_hour"]
    );
    // Created without If-Match; after that If-Match is required.
    let res = env.send(
        reqwest::Method::PUT,
        "/api/v1/reminder-policy",
        &admin,
        None,
        Some(policy.clone()),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let res = env.send(
        reqwest::Method::PUT,
        "/api/v1/reminder-policy",
        &admin,
        None,
        Some(policy.clone()),
    );
    assert_eq!(res.status(), StatusCode::PRECONDITION_REQUIRED);
    let res = env.send(
        reqwest::Method::PUT,
        "/api/v1/reminder-policy",
        &admin,
        Some(7),
        Some(policy.clone()),
    );
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    let global = env.get("/api/v1/reminder-policy", &editor);
    assert_eq!(global["offsets"], json!([14, 2]));
    assert_eq!(global["id"], json!("global"));
    assert_eq!(global["version"], json!(1));

    // A programme inherits it until its secretariat writes its own.
    let p = env.get("/api/v1/programmes/kz-ru-p/reminder-policy", &editor);
    assert_eq!(p["inherited_from"], json!("global"));
    assert_eq!(p["offsets"], json!([14, 2]));
    let own = json!({
        "offsets": [8], "fields": ["obligation_due"], "overdue_every_days": 0,
        "deputies_after_days": 7, "secretariat_after_days": 14, "send_hour": 8,
        "skip_weekends": true
    });
    let res = env.send(
        reqwest::Method::PUT,
        "/api/v1/programmes/kz-ru-p/reminder-policy",
        &editor,
        None,
        Some(own.clone()),
    );
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = env.send(
        reqwest::Method::PUT,
        "/api/v1/programmes/kz-ru-p/reminder-policy",
        &secretariat,
        None,
        Some(own.clone()),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let p: Value = res.json().unwrap();
    assert_eq!(p["stored"], json!(true));
    assert_eq!(p["programme"], json!("kz-ru-p"));
    // Written in the same transaction as the re-planning: 1.3 (due 1
    // September) gets no overdue repeats (0: once, long ago), 1.1 (due 15
    // October) is reminded 8 days before, today, at 08:00 local; the gala
    // (no programme) follows the global policy (2 days before: today, 10:00).
    assert_eq!(
        env.lines(),
        set(&[
            "pending reminder focal@mci.kz 1.1 8 2025-10-07T03:00:00+00:00",
            "pending reminder focal@mkrf.ru 1.1 8 2025-10-07T05:00:00+00:00",
            "pending reminder digest@mkrf.ru 1.1 8 2025-10-07T05:00:00+00:00 in digest",
            "pending digest digest@mkrf.ru - - 2025-10-07T05:00:00+00:00",
            "pending reminder focal@mci.kz gala-2025 2 2025-10-07T05:00:00+00:00",
        ])
    );
    // The audit log has both policies.
    let audit = env.get("/api/v1/audit?entity=reminder_policy", &admin);
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(2), "{audit}");
    // Deleted: the global one applies again, and the programme's rows go.
    let res = env.send(
        reqwest::Method::DELETE,
        "/api/v1/programmes/kz-ru-p/reminder-policy",
        &secretariat,
        Some(1),
        None,
    );
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(!env.lines().iter().any(|l| l.contains(" 1.1 8 ")));
    let res = env.send(
        reqwest::Method::DELETE,
        "/api/v1/programmes/kz-ru-p/reminder-policy",
        &secretariat,
        Some(1),
        None,
    );
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[test]
fn a_body_names_its_secretariat_through_the_api() {
    let env = Env::new();
    let admin = env.token("admin");
    let body = env.get("/api/v1/bodies/kz-ru-sc", &admin);
    assert_eq!(body["secretariat"].as_array().map(Vec::len), Some(1));
    let res = env.send(
        reqwest::Method::PATCH,
        "/api/v1/bodies/kz-ru-sc",
        &admin,
        Some(body["version"].as_i64().unwrap()),
        Some(json!({"secretariat": ["not-a-uuid", uuid::Uuid::new_v4().to_string()]})),
    );
    let (status, problem) = api::problem(res);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "secretariat[0]");
    assert_eq!(problem["errors"][1]["field"], "secretariat[1]");
    // No secretariat: no escalation on Monday 6 October, no meeting reminder.
    let res = env.send(
        reqwest::Method::PATCH,
        "/api/v1/bodies/kz-ru-sc",
        &admin,
        Some(body["version"].as_i64().unwrap()),
        Some(json!({"secretariat": []})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let after: Value = res.json().unwrap();
    assert_eq!(
        after["version"],
        json!(body["version"].as_i64().unwrap() + 1)
    );
    env.plan(utc(2025, 10, 5, 12, 0));
    env.plan(now1());
    let lines = env.lines();
    assert!(lines.contains("pending reminder focal@mci.kz 1.2 7 2025-10-06T04:00:00+00:00"));
    assert!(
        !lines.iter().any(|l| l.contains("secretariat@")),
        "{lines:?}"
    );
}

#[test]
fn the_preview_prints_a_day_without_writing_anything() {
    let env = Env::new();
    let counts = table_counts(&env.pool);
    let mut conn = env.pool.get().unwrap();
    let rows = planner::preview(
        &mut conn,
        NaiveDate::from_ymd_opt(2025, 10, 8).unwrap(),
        &env.settings,
    )
    .unwrap();
    drop(conn);
    assert_eq!(table_counts(&env.pool), counts, "a preview writes nothing");
    let to: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.recipient.as_str(), r.kind.as_str()))
        .collect();
    assert_eq!(
        to,
        vec![
            ("digest@mkrf.ru", "digest"),
            ("focal@mci.kz", "reminder"),
            ("focal@mci.kz", "reminder"),
            ("focal@mkrf.ru", "reminder"),
            ("secretariat@sc.example", "reminder"),
        ]
    );
    let text = planner::describe(&rows);
    // In each recipient's language, at their local hour.
    assert!(
        text.contains("== focal@mci.kz (kk, Asia/Almaty): 2 email(s)"),
        "{text}"
    );
    assert!(
        text.contains("reminder at 2025-10-08 09:00 +05:00"),
        "{text}"
    );
    assert!(
        text.contains("reminder at 2025-10-08 09:00 +03:00"),
        "{text}"
    );
    assert!(text.contains("Гастроли театра"), "{text}");
    assert!(text.contains("Театр гастрольдері"), "{text}");
    assert!(text.contains("Your digest"), "{text}");
    // The same through the command line, on the same database.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["remind", "--preview", "--at", "2025-10-08"])
        .env("ACCORD__DATABASE__URL", &env.db.url)
        .env("ACCORD__LOG__LEVEL", "warn")
        .current_dir(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
    assert_eq!(table_counts(&env.pool), counts);
    // `accord remind` plans for real (now: nothing due in 2025 any more is
    // in its window but the overdue 1.3, whose repeats come on Tuesdays).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["remind"])
        .env("ACCORD__DATABASE__URL", &env.db.url)
        .env("ACCORD__LOG__LEVEL", "warn")
        .current_dir(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8(out.stdout).unwrap().contains("queued"));
}

const MORE: &str = r#"
agreements:
  - key: kz-ru-2021
    kind: agreement
    title: {en: Agreement on cultural cooperation, ru: Соглашение о культурном сотрудничестве}
    parties: [KZ, RU]
    signatories: [kz-mci]
    in_force: 2021-04-15
    term_months: 60
    renewal_months: 60
    notice_months: 6
programmes:
  - key: kz-ru-y
    title: {en: Yearly programme}
    period: "2025-2026"
    parties: [KZ, RU]
    sections:
      - code: lib
        title: {en: Libraries}
        obligations:
          - number: "2.1"
            text: {en: Exchange of catalogues}
            kind: information_exchange
            timeframe: "2025-10-09"
            recurrence: yearly
            assignments:
              - {organisation: ru-mkrf, role: lead}
"#;

#[test]
fn yearly_occurrences_series_and_agreement_notices_are_reminded_of() {
    let env = Env::new();
    {
        let mut conn = env.pool.get().unwrap();
        accord::import::import_str(&mut conn, MORE, &write_context("test")).unwrap();
    }
    let admin = env.token("admin");
    // Daily at 10:00 in Moscow, 1 to 10 October.
    let res = env.send(
        reqwest::Method::POST,
        "/api/v1/events",
        &admin,
        None,
        Some(json!({
            "key": "daily-readings", "title": {"en": "Readings"}, "kind": "festival",
            "status": "tentative", "start": "2025-10-01T10:00", "end": "2025-10-01T11:00",
            "time_zone": "Europe/Moscow", "rrule": "FREQ=DAILY;COUNT=10", "organisers": ["ru-mkrf"]
        })),
    );
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().unwrap());
    let series: Value = res.json().unwrap();
    let series_id = series["id"].as_str().unwrap().to_string();
    env.plan(now1());
    let rows = env.rows();
    let of = |kind: &str, recipient: &str| -> BTreeSet<(String, String, i32)> {
        rows.iter()
            .filter(|r| {
                r.item_kind.as_deref() == Some(kind)
                    && r.recipient == recipient
                    && r.state == "pending"
            })
            .map(|r| {
                (
                    r.occurrence.clone(),
                    r.due_on.unwrap().to_string(),
                    r.offset_days.unwrap(),
                )
            })
            .collect()
    };
    // Each occurrence of the series on its own: 7 October on the day and 8
    // October a day before (the 7th), 8 October on the day and 9 October a
    // day before (the 8th).
    assert_eq!(
        of("event", "focal@mkrf.ru")
            .into_iter()
            .filter(|o| !o.0.is_empty())
            .collect::<BTreeSet<_>>(),
        BTreeSet::from([
            ("2025-10-07T10:00".to_string(), "2025-10-07".to_string(), 0),
            ("2025-10-08T10:00".to_string(), "2025-10-08".to_string(), 1),
            ("2025-10-08T10:00".to_string(), "2025-10-08".to_string(), 0),
            ("2025-10-09T10:00".to_string(), "2025-10-09".to_string(), 1),
        ])
    );
    // The yearly item's 2025 occurrence, a day before 9 October.
    assert_eq!(
        of("obligation", "focal@mkrf.ru")
            .into_iter()
            .filter(|o| o.0 == "2025")
            .collect::<Vec<_>>(),
        vec![("2025".to_string(), "2025-10-09".to_string(), 1)]
    );
    // The agreement renews on 15 April 2026 unless notice is given six
    // months before: 15 October 2025, a week away, to its signatory.
    assert_eq!(
        of("agreement", "focal@mci.kz"),
        BTreeSet::from([(String::new(), "2025-10-15".to_string(), 7)])
    );
    let notice = rows
        .iter()
        .find(|r| r.item_kind.as_deref() == Some("agreement"))
        .unwrap();
    assert_eq!(env.payload(notice).items[0].field, "agreement_notice");

    // One occurrence cancelled: its reminders go, the others stay.
    let res = env.send(
        reqwest::Method::PUT,
        &format!("/api/v1/events/{series_id}/occurrences/2025-10-08T10:00"),
        &admin,
        Some(series["version"].as_i64().unwrap()),
        Some(json!({"start": "2025-10-08T10:00", "status": "cancelled"})),
    );
    assert!(res.status().is_success(), "{}", res.text().unwrap());
    let pending: BTreeSet<String> = env
        .rows()
        .iter()
        .filter(|r| r.item_id.as_deref() == Some(&series_id) && r.state == "pending")
        .filter(|r| r.recipient == "focal@mkrf.ru" && r.kind == "reminder")
        .map(|r| r.occurrence.clone())
        .collect();
    assert_eq!(
        pending,
        BTreeSet::from([
            "2025-10-07T10:00".to_string(),
            "2025-10-09T10:00".to_string()
        ])
    );

    // Russia reports the 2025 occurrence done: its reminder goes, the item stays.
    let ru = env.token("ru-editor");
    let res = env.send(
        reqwest::Method::POST,
        &format!("/api/v1/obligations/{}/reports", env.id_of("2.1")),
        &ru,
        None,
        Some(json!({
            "party": "RU", "lifecycle": "completed", "completion": "complete",
            "as_of": "2025-10-07", "occurrence_year": 2025
        })),
    );
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().unwrap());
    let id = env.id_of("2.1");
    assert!(env
        .rows()
        .iter()
        .filter(|r| r.item_id.as_deref() == Some(&id))
        .all(|r| r.state == "cancelled"));
    // A year later, the 2026 occurrence is reminded of as usual.
    env.plan(utc(2026, 10, 7, 12, 0));
    assert!(env.rows().iter().any(|r| r.item_id.as_deref() == Some(&id)
        && r.occurrence == "2026"
        && r.state == "pending"));
}
