//! Reminder planning: one planning pass (`notify::planner::plan_in`, what
//! the worker runs before each claim) with 10,000 items due, among 10,000
//! items and among 1,000,000 (the rest not due: far in the future, or done),
//! both measured in the same run. Each pass runs in a transaction that is
//! rolled back, so every iteration queues the same notices.
//!
//! The tables are filled by bulk INSERT ... SELECT over a counter (not
//! through the API), once, into cached databases: target/bench/planning-<n>-<key>.db
//! or the PostgreSQL databases accord_bench_planning_<n>.
//!
//! `scripts/bench-planning` runs it on both backends; by hand:
//! `cargo bench --bench planning -- sqlite [total] [due]` or
//! `cargo bench --bench planning -- postgres://postgres@127.0.0.1:5432/postgres [total] [due]`.

mod support;

use std::time::Duration;

use accord::calendar::Party;
use accord::db::Conn;
use accord::notify::planner::{plan_in, PlanOutcome, PlanSettings};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use criterion::{Criterion, SamplingMode};
use diesel::prelude::*;
use support::Samples;

/// Organisations (one focal point each) the items are assigned to.
const ORGANISATIONS: usize = 100;

/// The planner's "now": a Wednesday, 09:00 UTC.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 4, 9, 0, 0)
        .single()
        .expect("instant")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn main() {
    let Some(rest) = support::args() else {
        return;
    };
    let backend = rest.first().map(String::as_str).unwrap_or("sqlite");
    let total: usize = rest
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let due: usize = rest.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let name = support::backend_name(backend);
    let settings = PlanSettings {
        base_url: "http://localhost:8080".into(),
        message_id_domain: "bench.example".into(),
        organizer: Party {
            email: "accord@bench.example".into(),
            name: Some("accord".into()),
        },
    };

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    let mut group = c.benchmark_group(format!("planning-{}", name.to_lowercase()));
    group.sampling_mode(SamplingMode::Flat);
    let mut medians = Vec::new();
    for items in [due, total] {
        let key = support::fingerprint(&[include_str!("planning.rs"), &format!("{items}/{due}")]);
        let db = format!("planning_{items}");
        let pool = support::cached(backend, &db, &key, |conn| fill(conn, items, due));
        let mut conn = pool.get().expect("connection");
        let outcome = pass(&mut conn, &settings);
        eprintln!("{name}: {due} due among {items}: one pass {outcome}");
        assert!(outcome.queued >= due, "every due item is reminded of");
        let samples = Samples::default();
        group.bench_function(format!("plan-{due}-due-among-{items}"), |b| {
            b.iter_custom(|n| {
                samples.time(n, || {
                    std::hint::black_box(pass(&mut conn, &settings));
                })
            })
        });
        medians.push((items, samples.median(), outcome.queued));
    }
    group.finish();
    println!("figure | value | baseline | ratio | target | met?");
    let (few, few_time, _) = medians[0];
    let (many, many_time, queued) = medians[1];
    support::line(
        &format!(
            "{name}: one planning pass, {due} items due among {many} ({queued} notices) vs among {few}"
        ),
        many_time,
        few_time,
        2.0,
        "<= 2x among 10k",
    );
}

/// One planning pass in a transaction that is rolled back.
fn pass(conn: &mut Conn, settings: &PlanSettings) -> PlanOutcome {
    let mut outcome = PlanOutcome::default();
    let result = conn.transaction::<(), diesel::result::Error, _>(|c| {
        outcome = plan_in(c, now(), settings)?;
        Err(diesel::result::Error::RollbackTransaction)
    });
    match result {
        Err(diesel::result::Error::RollbackTransaction) => outcome,
        other => panic!("planning failed: {other:?}"),
    }
}

/// Typed literals the same INSERT ... SELECT reads on both backends.
struct Lit {
    pg: bool,
}

impl Lit {
    fn date(&self, d: NaiveDate) -> String {
        if self.pg {
            format!("DATE '{d}'")
        } else {
            format!("'{d}'")
        }
    }

    fn stamp(&self) -> String {
        if self.pg {
            "TIMESTAMP '2026-10-01 00:00:00'".into()
        } else {
            "'2026-10-01 00:00:00'".into()
        }
    }
}

fn exec(conn: &mut Conn, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

/// `items` obligations in one programme, the first `due` due a week after
/// now (a reminder at the 7-day offset falls in the window), the rest half
/// far in the future, half completed long ago; each assigned to one of
/// `ORGANISATIONS` organisations whose focal point wants immediate emails.
fn fill(conn: &mut Conn, items: usize, due: usize) {
    let lit = Lit {
        pg: matches!(conn, Conn::Postgresql(_)),
    };
    let at = lit.stamp();
    let counter = |n: usize| {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {})",
            n.saturating_sub(1)
        )
    };
    conn.transaction::<(), diesel::result::Error, _>(|conn| {
        for (id, code, zone) in [
            ("party-kz", "KZ", "Asia/Almaty"),
            ("party-ru", "RU", "Europe/Moscow"),
        ] {
            exec(
                conn,
                &format!(
                    "INSERT INTO parties (id, code, name, time_zone, version, created_at, updated_at) \
                     VALUES ('{id}', '{code}', '{{\"en\":\"{code}\"}}', '{zone}', 1, {at}, {at})"
                ),
            );
        }
        exec(
            conn,
            &format!(
                "{} INSERT INTO organisations (id, key, party_id, kind, name, time_zone, version, created_at, updated_at) \
                 SELECT 'org-' || i, 'org-' || i, CASE WHEN i % 2 = 0 THEN 'party-kz' ELSE 'party-ru' END, \
                        'ministry', '{{\"en\":\"Organisation ' || i || '\"}}', \
                        CASE WHEN i % 2 = 0 THEN 'Asia/Almaty' ELSE 'Europe/Moscow' END, 1, {at}, {at} FROM n",
                counter(ORGANISATIONS)
            ),
        );
        exec(
            conn,
            &format!(
                "{} INSERT INTO contacts (id, organisation_id, name, email, language, time_zone, role, notifications, active, version, created_at, updated_at) \
                 SELECT 'contact-' || i, 'org-' || i, 'Focal point ' || i, 'focal' || i || '@example.kz', 'ru', \
                        CASE WHEN i % 2 = 0 THEN 'Asia/Almaty' ELSE 'Europe/Moscow' END, \
                        'focal_point', 'immediate', {}, 1, {at}, {at} FROM n",
                counter(ORGANISATIONS),
                if lit.pg { "TRUE" } else { "1" }
            ),
        );
        exec(
            conn,
            &format!(
                "INSERT INTO programmes (id, key, title, period_text, period_start, period_end, version, created_at, updated_at) \
                 VALUES ('programme', 'bench', '{{\"en\":\"Bench programme\"}}', '2024-2028', {}, {}, 1, {at}, {at})",
                lit.date(day(2024, 1, 1)),
                lit.date(day(2028, 12, 31))
            ),
        );
        let due_on = day(2026, 11, 11);
        let parts = [
            // (first, count, lifecycle, earliest, latest)
            (0, due, "planned", due_on, due_on),
            (
                due,
                (items - due) / 2,
                "planned",
                day(2028, 6, 1),
                day(2028, 6, 30),
            ),
            (
                due + (items - due) / 2,
                items - due - (items - due) / 2,
                "completed",
                day(2025, 6, 1),
                day(2025, 6, 30),
            ),
        ];
        for (first, count, lifecycle, earliest, latest) in parts {
            if count == 0 {
                continue;
            }
            exec(
                conn,
                &format!(
                    "{} INSERT INTO obligations (id, programme_id, number, position, text, kind, firmness, \
                       timeframe_kind, timeframe_text, earliest, latest, lifecycle, version, created_at, updated_at, search_text) \
                     SELECT 'o-' || (i + {first}), 'programme', '' || (i + {first}), i + {first}, \
                            '{{\"en\":\"Tour of theatre ' || (i + {first}) || '\"}}', 'tour', 'binding', \
                            'range', '{earliest} - {latest}', {}, {}, '{lifecycle}', 1, {at}, {at}, \
                            'tour of theatre ' || (i + {first}) FROM n",
                    counter(count),
                    lit.date(earliest),
                    lit.date(latest)
                ),
            );
        }
        exec(
            conn,
            &format!(
                "{} INSERT INTO assignments (id, obligation_id, organisation_id, party_id, role) \
                 SELECT 'a-' || i, 'o-' || i, 'org-' || (i % {ORGANISATIONS}), \
                        CASE WHEN i % 2 = 0 THEN 'party-kz' ELSE 'party-ru' END, 'lead' FROM n",
                counter(items)
            ),
        );
        Ok(())
    })
    .expect("fill");
}
