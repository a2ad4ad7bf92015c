//! The happy path, end to end, on the backend ACCORD_TEST_DATABASE_URL
//! names: a programme item and an event due on fixed dates, a clock set to
//! each date in turn, the planner and the worker (the real mailer, over SMTP
//! to a real server on loopback), and every email read back with Python's
//! `email` package: exactly the expected emails arrive, to the right
//! people, in their language, with the event's time in each recipient's
//! zone (Asia/Almaty and Europe/Moscow), the invitation's iTIP calendar
//! attached; a completed item is reminded of no more.

mod common;

use std::sync::Arc;
use std::time::Duration;

use accord::clock::SettableClock;
use accord::db::schema::notifications;
use accord::notify::mailer::Mailer;
use accord::notify::planner::PlanSettings;
use accord::notify::worker::{Stop, Worker};
use accord::store::notifications::NotificationRow;
use accord::users::{add_user, NewUser};
use chrono::{DateTime, TimeZone, Utc};
use common::mail::{parse_email, ParsedEmail};
use common::smtp::{settings_with, ReceivedMessage, SmtpSink};
use common::*;
use diesel::prelude::*;
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PASSWORD: &str = "a long enough password";

const FIXTURE: &str = r#"
parties:
  - {code: KZ, name: {en: Kazakhstan, ru: Казахстан, kk: Қазақстан}, time_zone: Asia/Almaty}
  - {code: RU, name: {en: Russia, ru: Россия}, time_zone: Europe/Moscow}
organisations:
  - key: kz-mci
    party: KZ
    kind: ministry
    name: {en: Ministry of Culture and Information, kk: Мәдениет және ақпарат министрлігі}
    contacts:
      - {name: Айгүл Сапарова, email: focal@mci.kz, language: kk, role: focal_point, time_zone: Asia/Almaty}
  - key: ru-mkrf
    party: RU
    kind: ministry
    name: {en: Ministry of Culture, ru: Министерство культуры}
    contacts:
      - {name: Иван Петров, email: focal@mkrf.ru, language: ru, role: focal_point, time_zone: Europe/Moscow}
      - {name: Daily Reader, email: digest@mkrf.ru, language: en, role: focal_point, time_zone: Europe/Moscow, notifications: daily_digest}
programmes:
  - key: kz-ru-p
    title: {en: Programme 2025-2026, ru: Программа 2025-2026, kk: Бағдарлама 2025-2026}
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
"#;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// One received email, read back.
struct Email {
    to: String,
    subject: String,
    parsed: ParsedEmail,
}

impl Email {
    fn text(&self) -> &str {
        self.parsed.text_of("text/plain")
    }
}

struct Scenario {
    db: TestDb,
    clock: SettableClock,
    sink: SmtpSink,
    server: TestServer,
    worker: Worker,
    client: Client,
    seen: usize,
}

impl Scenario {
    fn new() -> Scenario {
        let db = TestDb::new();
        let pool = db.migrated_pool();
        let mut conn = pool.get().unwrap();
        accord::import::import_str(&mut conn, FIXTURE, &write_context("test")).unwrap();
        for (name, role, org) in [
            ("admin", "admin", None),
            ("kz-editor", "editor", Some("kz-mci")),
        ] {
            add_user(
                &mut conn,
                &write_context("test"),
                NewUser {
                    username: name,
                    role,
                    display_name: None,
                    organisation: org,
                    bodies: &[],
                    password: PASSWORD,
                },
            )
            .unwrap();
        }
        drop(conn);
        let clock = SettableClock::new(utc(2025, 10, 8, 3, 0));
        let sink = SmtpSink::start();
        let config = settings_with(
            &db,
            &format!(
                "{}[worker]\nenabled_in_serve = false\nbatch = 50\nlease_secs = 60\n",
                sink.mail_toml()
            ),
        );
        let mailer = Mailer::from_settings(&config.mail).unwrap();
        // The worker plans as `accord serve` and `accord worker` do; every
        // pass here, as each step of the test is a new day.
        let worker = Worker::new(
            pool,
            Arc::new(clock.clone()),
            Arc::new(mailer),
            config.worker.clone(),
        )
        .with_planner(PlanSettings::from_settings(&config), Duration::ZERO);
        let server = TestServer::start(&db, Arc::new(clock.clone()));
        Scenario {
            db,
            clock,
            sink,
            server,
            worker,
            client: Client::new(),
            seen: 0,
        }
    }

    /// The clock moves to `at`; the planner plans and the worker drains the
    /// outbox; the emails that arrived, by recipient and subject.
    fn at(&mut self, at: DateTime<Utc>) -> Vec<Email> {
        self.clock.set(at);
        self.drain()
    }

    /// The worker's passes until it claims nothing; what arrived since last time.
    fn drain(&mut self) -> Vec<Email> {
        let mut sent = 0;
        loop {
            let pass = self.worker.pass(&Stop::default()).unwrap();
            assert_eq!(
                (pass.failed, pass.dead, pass.retried),
                (0, 0, 0),
                "{pass:?}"
            );
            sent += pass.sent;
            if pass.claimed == 0 {
                break;
            }
        }
        let received = self
            .sink
            .wait_for(self.seen + sent, Duration::from_secs(30));
        let new: Vec<&ReceivedMessage> = received[self.seen..].iter().collect();
        assert_eq!(new.len(), sent, "every email sent arrived, once");
        self.seen = received.len();
        let mut emails: Vec<Email> = new
            .into_iter()
            .map(|m| {
                assert_eq!(m.rcpt_tos.len(), 1);
                let parsed = parse_email(&m.raw);
                assert!(parsed.defects.is_empty(), "{:?}", parsed.defects);
                assert_eq!(parsed.parts_of("text/plain").len(), 1);
                assert_eq!(parsed.parts_of("text/html").len(), 1);
                Email {
                    to: m.rcpt_tos[0].clone(),
                    subject: m.subject.clone(),
                    parsed,
                }
            })
            .collect();
        emails.sort_by(|a, b| (&a.to, &a.subject).cmp(&(&b.to, &b.subject)));
        emails
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

    fn rows(&self) -> Vec<NotificationRow> {
        let pool = self.db.pool();
        let mut conn = pool.get().unwrap();
        notifications::table
            .select(NotificationRow::as_select())
            .load(&mut *conn)
            .unwrap()
    }
}

fn summary(emails: &[Email]) -> Vec<(String, String)> {
    emails
        .iter()
        .map(|e| (e.to.clone(), e.subject.clone()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The iTIP calendar of an event email: inline (with its method) and attached.
fn calendar(email: &Email, method: &str) -> String {
    let inline = email.parsed.parts_of("text/calendar");
    assert_eq!(inline.len(), 1, "{}", email.subject);
    assert_eq!(
        inline[0].params.get("method").map(String::as_str),
        Some(method)
    );
    let attached = email.parsed.parts_of("application/ics");
    assert_eq!(attached.len(), 1);
    let text = inline[0].text.clone().unwrap();
    assert_eq!(attached[0].text.as_deref(), Some(text.as_str()));
    text.replace("\r\n ", "")
}

#[test]
fn the_happy_path_day_by_day() {
    let mut s = Scenario::new();
    let admin = s.token("admin");

    // Wednesday 8 October, 03:00Z: a confirmed gala concert for Thursday
    // 9 October, 19:00 in Astana, organised by both ministries. The
    // invitations go at once; the reminders of the day wait for 09:00.
    let res = s
        .client
        .post(s.server.url("/api/v1/events"))
        .bearer_auth(&admin)
        .json(&json!({
            "title": {"en": "Gala concert", "ru": "Гала-концерт", "kk": "Гала-концерт"},
            "kind": "concert", "status": "confirmed",
            "start": "2025-10-09T19:00", "end": "2025-10-09T21:00", "time_zone": "Asia/Almaty",
            "city": "Astana", "organisers": ["kz-mci", "ru-mkrf"]
        }))
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let event: Value = res.json().unwrap();
    let event_id = event["id"].as_str().unwrap().to_string();
    let emails = s.at(utc(2025, 10, 8, 3, 0));
    assert_eq!(
        summary(&emails),
        pairs(&[
            (
                "digest@mkrf.ru",
                "Invitation: Gala concert — 9 October 2025 at 17:00"
            ),
            (
                "focal@mci.kz",
                "Шақыру: Гала-концерт — 2025 жылғы 9 қазан, сағат 19:00"
            ),
            (
                "focal@mkrf.ru",
                "Приглашение: Гала-концерт — 9 октября 2025 г. в 17:00"
            ),
        ])
    );
    assert!(emails[1]
        .text()
        .contains("2025 жылғы 9 қазан, сағат 19:00 (Asia/Almaty, UTC+05:00)"));
    assert!(emails[2]
        .text()
        .contains("9 октября 2025 г. в 17:00 (Europe/Moscow, UTC+03:00)"));
    assert!(emails[0]
        .text()
        .contains("9 October 2025 at 17:00 (Europe/Moscow, UTC+03:00)"));
    for email in &emails {
        let ics = calendar(email, "REQUEST");
        assert!(ics.contains("METHOD:REQUEST"), "{ics}");
        assert!(
            ics.contains(&format!("UID:event-{event_id}@accord")),
            "{ics}"
        );
        assert!(ics.contains("SEQUENCE:0"), "{ics}");
        assert!(
            ics.contains("DTSTART;TZID=Asia/Almaty:20251009T190000"),
            "{ics}"
        );
        assert!(ics.contains(&format!("mailto:{}", email.to)), "{ics}");
    }

    // 04:30Z: 09:30 in Almaty. The KZ focal point's reminders, in Kazakh:
    // the tour in 7 days, the gala tomorrow at 19:00 Almaty time.
    let emails = s.at(utc(2025, 10, 8, 4, 30));
    assert_eq!(
        summary(&emails),
        pairs(&[
            (
                "focal@mci.kz",
                "Еске салу: 1.1 Театр гастрольдері — 2025 жылғы 15 қазан"
            ),
            (
                "focal@mci.kz",
                "Еске салу: Гала-концерт — 2025 жылғы 9 қазан, сағат 19:00"
            ),
        ])
    );
    assert!(emails[0]
        .text()
        .contains("Орындау мерзімі: 2025 жылғы 15 қазан — 7 күн қалды"));
    assert!(emails[1].text().contains(
        "Іс-шараның басталуы: 2025 жылғы 9 қазан, сағат 19:00 (Asia/Almaty, UTC+05:00) — 1 күн қалды"
    ));

    // 06:30Z: 09:30 in Moscow. The RU focal point in Russian (the gala at
    // 17:00 Moscow time); the daily digest, in English, lists both.
    let emails = s.at(utc(2025, 10, 8, 6, 30));
    assert_eq!(
        summary(&emails),
        pairs(&[
            ("digest@mkrf.ru", "Your digest: 2 items"),
            (
                "focal@mkrf.ru",
                "Напоминание: 1.1 Гастроли театра — 15 октября 2025 г."
            ),
            (
                "focal@mkrf.ru",
                "Напоминание: Гала-концерт — 9 октября 2025 г. в 17:00"
            ),
        ])
    );
    let digest = emails[0].text();
    assert!(
        digest.contains("Deadline: 15 October 2025 — 7 days left"),
        "{digest}"
    );
    assert!(
        digest.contains(
            "Event starts: 9 October 2025 at 17:00 (Europe/Moscow, UTC+03:00) — 1 day left"
        ),
        "{digest}"
    );
    assert!(emails[1]
        .text()
        .contains("Срок исполнения: 15 октября 2025 г. — осталось 7 дней"));

    // The gala moves to 20:00: those invited get the change (SEQUENCE 1),
    // and tomorrow's reminders say 20:00.
    let event = s
        .client
        .get(s.server.url(&format!("/api/v1/events/{event_id}")))
        .bearer_auth(&admin)
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    let res = s
        .client
        .patch(s.server.url(&format!("/api/v1/events/{event_id}")))
        .bearer_auth(&admin)
        .header("if-match", format!("\"{}\"", event["version"]))
        .header("content-type", "application/merge-patch+json")
        .body(json!({"start": "2025-10-09T20:00", "end": "2025-10-09T22:00"}).to_string())
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let emails = s.drain();
    assert_eq!(
        summary(&emails),
        pairs(&[
            (
                "digest@mkrf.ru",
                "Changed: Gala concert — 9 October 2025 at 18:00"
            ),
            (
                "focal@mci.kz",
                "Өзгеріс: Гала-концерт — 2025 жылғы 9 қазан, сағат 20:00"
            ),
            (
                "focal@mkrf.ru",
                "Изменение: Гала-концерт — 9 октября 2025 г. в 18:00"
            ),
        ])
    );
    for email in &emails {
        let ics = calendar(email, "REQUEST");
        assert!(ics.contains("SEQUENCE:1"), "{ics}");
        assert!(
            ics.contains("DTSTART;TZID=Asia/Almaty:20251009T200000"),
            "{ics}"
        );
        assert!(
            ics.contains(&format!("UID:event-{event_id}@accord")),
            "{ics}"
        );
    }

    // Thursday 9 October, 06:30Z: the gala is today, at its new time.
    let emails = s.at(utc(2025, 10, 9, 6, 30));
    assert_eq!(
        summary(&emails),
        pairs(&[
            ("digest@mkrf.ru", "Your digest: 1 item"),
            (
                "focal@mci.kz",
                "Еске салу: Гала-концерт — 2025 жылғы 9 қазан, сағат 20:00"
            ),
            (
                "focal@mkrf.ru",
                "Напоминание: Гала-концерт — 9 октября 2025 г. в 18:00"
            ),
        ])
    );
    assert!(emails[1]
        .text()
        .contains("сағат 20:00 (Asia/Almaty, UTC+05:00) — бүгін"));
    assert!(emails[2]
        .text()
        .contains("в 18:00 (Europe/Moscow, UTC+03:00) — сегодня"));

    // Kazakhstan reports its part of the tour done: its focal point hears no
    // more of it; Russia's side still does.
    let kz = s.token("kz-editor");
    let items: Value = s
        .client
        .get(s.server.url("/api/v1/obligations?programme=kz-ru-p"))
        .bearer_auth(&kz)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let item_id = items["items"][0]["id"].as_str().unwrap().to_string();
    let res = s
        .client
        .post(
            s.server
                .url(&format!("/api/v1/obligations/{item_id}/reports")),
        )
        .bearer_auth(&kz)
        .json(&json!({
            "party": "KZ", "lifecycle": "completed", "completion": "complete", "as_of": "2025-10-09"
        }))
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // Tuesday 14 October: a day before the tour, for Russia only.
    let emails = s.at(utc(2025, 10, 14, 6, 30));
    assert_eq!(
        summary(&emails),
        pairs(&[
            ("digest@mkrf.ru", "Your digest: 1 item"),
            (
                "focal@mkrf.ru",
                "Напоминание: 1.1 Гастроли театра — 15 октября 2025 г."
            ),
        ])
    );
    assert!(
        emails[1].text().contains("осталось 1 день") || emails[1].text().contains("остался 1 день")
    );

    // Wednesday 15 October: the day.
    let emails = s.at(utc(2025, 10, 15, 6, 30));
    assert_eq!(
        summary(&emails),
        pairs(&[
            ("digest@mkrf.ru", "Your digest: 1 item"),
            (
                "focal@mkrf.ru",
                "Напоминание: 1.1 Гастроли театра — 15 октября 2025 г."
            ),
        ])
    );
    assert!(emails[1].text().contains("сегодня"));

    // Thursday 16 October: overdue, still for Russia only.
    let emails = s.at(utc(2025, 10, 16, 6, 30));
    assert_eq!(
        summary(&emails),
        pairs(&[
            ("digest@mkrf.ru", "Your digest: 1 item"),
            (
                "focal@mkrf.ru",
                "Просрочено: 1.1 Гастроли театра (срок — 15 октября 2025 г.)"
            ),
        ])
    );
    assert!(emails[1].text().contains("просрочено на 1 день"));
    assert!(emails[0].text().contains("overdue by 1 day"));

    // Nothing else, ever: every email once, each under its row's Message-ID;
    // the rows gathered into digests went out with them.
    let received = s.sink.received();
    assert_eq!(received.len(), 20);
    let rows = s.rows();
    let mut ids: Vec<&str> = received.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "no duplicates");
    for id in ids {
        let row = rows.iter().find(|r| r.message_id == id).unwrap();
        assert_eq!(row.state, "sent", "{}", row.dedupe_key);
        assert!(row.digest_id.is_none());
    }
    for member in rows.iter().filter(|r| r.digest_id.is_some()) {
        assert_eq!(member.state, "sent", "{}", member.dedupe_key);
    }
    assert!(!rows.iter().any(|r| r.state == "pending"
        && r.send_after <= utc(2025, 10, 16, 6, 30).naive_utc()
        && r.digest_id.is_none()));
    // And the KZ focal point heard nothing about the tour after reporting it.
    let after_report = received
        .iter()
        .skip(14)
        .filter(|m| m.rcpt_tos == vec!["focal@mci.kz".to_string()])
        .count();
    assert_eq!(after_report, 0);
}
