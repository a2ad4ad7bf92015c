//! Programme roll-up and implementation table on the generated dataset
//! (`accord::gen`, the first programme: 10,000 obligations and 50,000 reports
//! at scale 1.0), current and as of a past date, each beside the floor
//! measured in the same run: ONE hand-written SQL aggregate computing the same
//! per-status counts (obligations by lifecycle, (obligation, responsible
//! party) pairs by latest completion) from the same tables.
//!
//! `scripts/bench-rollup` runs it on both backends; by hand:
//! `cargo bench --bench rollup -- sqlite [scale] [seed]` or
//! `cargo bench --bench rollup -- postgres://postgres@127.0.0.1:5432/postgres [scale] [seed]`.
//! To fill ahead of a run (several minutes on PostgreSQL at scale 1.0):
//! `accord gen --seed 7 --scale 1 --database sqlite://target/bench/rollup.partial.db`
//! (or into an empty database accord_bench_rollup).
//! The filled database is cached (target/bench/rollup-<key>.db, or the
//! PostgreSQL database accord_bench_rollup) and refilled only when the
//! generator's source, the seed or the scale change.

mod support;

use std::time::Duration;

use accord::db::schema::{audit_log, obligations};
use accord::db::Conn;
use accord::store::obligations::ObligationRow;
use chrono::NaiveDate;
use criterion::{Criterion, SamplingMode};
use diesel::prelude::*;
use support::Samples;

/// Items whose date or lifecycle a decision changed after the as-of day:
/// one in ten gets an audit entry with its before-image, as the API writes it.
const CHANGED_EVERY: usize = 10;
const DUE_SOON_DAYS: u32 = 14;

fn main() {
    let Some(rest) = support::args() else {
        return;
    };
    let backend = rest.first().map(String::as_str).unwrap_or("sqlite");
    let scale: f64 = rest.get(1).and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let seed: u64 = rest.get(2).and_then(|s| s.parse().ok()).unwrap_or(7);
    let key = support::fingerprint(&[
        include_str!("../src/gen/mod.rs"),
        include_str!("../src/gen/vocabulary.rs"),
        include_str!("rollup.rs"),
        &seed.to_string(),
        &scale.to_string(),
    ]);
    let pool = support::cached(backend, "rollup", &key, |conn| fill(conn, seed, scale));
    let mut conn = pool.get().expect("connection");
    let programme = largest_programme(&mut conn);
    let today = accord::gen::epoch().date();
    let as_of = NaiveDate::from_ymd_opt(2026, 3, 31).expect("date");
    let name = support::backend_name(backend);
    let (items, reports) = sizes(&mut conn, &programme);
    eprintln!("{name}: programme {programme}: {items} obligations, {reports} reports");

    // The figures agree with the floor before they are timed.
    check(&mut conn, &programme, None, today);
    check(&mut conn, &programme, Some(as_of), today);

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let mut group = c.benchmark_group(format!("rollup-{}", name.to_lowercase()));
    group.sampling_mode(SamplingMode::Flat);
    let mut medians = Vec::new();
    for (id, day) in [("current", None), ("as-of", Some(as_of))] {
        let floor = Samples::default();
        group.bench_function(format!("floor-sql-aggregate-{id}"), |b| {
            b.iter_custom(|n| {
                floor.time(n, || {
                    std::hint::black_box(floor_counts(&mut conn, &programme, day));
                })
            })
        });
        let rollup = Samples::default();
        group.bench_function(format!("programme-rollup-{id}"), |b| {
            b.iter_custom(|n| {
                rollup.time(n, || {
                    let r = accord::store::rollups::programme_rollup(
                        &mut conn,
                        &programme,
                        day,
                        today,
                        DUE_SOON_DAYS,
                    )
                    .expect("roll-up");
                    std::hint::black_box(r);
                })
            })
        });
        let table = Samples::default();
        group.bench_function(format!("implementation-table-{id}"), |b| {
            b.iter_custom(|n| {
                table.time(n, || {
                    let t = accord::store::rollups::implementation_table(
                        &mut conn,
                        &programme,
                        day,
                        today,
                        DUE_SOON_DAYS,
                    )
                    .expect("table");
                    std::hint::black_box(t);
                })
            })
        });
        medians.push((id, floor.median(), rollup.median(), table.median()));
    }
    group.finish();
    println!("figure | value | baseline | ratio | target | met?");
    for (id, floor, rollup, table) in medians {
        let what = format!("{items} obligations, {reports} reports");
        support::line(
            &format!("{name}: programme roll-up, {id} ({what})"),
            rollup,
            floor,
            3.0,
            "<= 3x one SQL aggregate",
        );
        support::line(
            &format!("{name}: implementation table, {id} ({what})"),
            table,
            floor,
            3.0,
            "<= 3x one SQL aggregate",
        );
    }
}

fn fill(conn: &mut Conn, seed: u64, scale: f64) {
    use accord::db::schema::parties;
    // `accord gen --seed S --scale X` may have written it already (same rows).
    let filled: i64 = parties::table.count().get_result(conn).expect("parties");
    if filled == 0 {
        accord::gen::generate(
            conn,
            &accord::gen::Options {
                seed,
                scale,
                progress: true,
            },
        )
        .expect("gen");
    }
    // Decisions after the as-of day: before-images in the audit log.
    let programme = largest_programme(conn);
    let rows: Vec<ObligationRow> = obligations::table
        .filter(obligations::programme_id.eq(&programme))
        .order(obligations::position.asc())
        .select(ObligationRow::as_select())
        .load(conn)
        .expect("obligations");
    let at = NaiveDate::from_ymd_opt(2026, 6, 1)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("instant");
    let mut entries = Vec::new();
    for (i, row) in rows.iter().enumerate().step_by(CHANGED_EVERY) {
        let mut before = row.clone();
        // Then it was still planned, a quarter earlier.
        before.lifecycle = if i % 20 == 0 { "planned" } else { "scheduled" }.into();
        before.timeframe_kind = "date".into();
        before.earliest = row.earliest.map(|d| d - chrono::Duration::days(90));
        before.latest = before.earliest;
        before.timeframe_text = before.earliest.map(|d| d.to_string()).unwrap_or_default();
        if before.earliest.is_none() {
            before.timeframe_kind = row.timeframe_kind.clone();
            before.timeframe_text = row.timeframe_text.clone();
            before.latest = row.latest;
        }
        entries.push(accord::store::audit::AuditRow {
            id: uuid::Uuid::new_v4().to_string(),
            at,
            actor: "bench".into(),
            action: "update".into(),
            entity: "obligation".into(),
            entity_id: row.id.clone(),
            before: Some(serde_json::to_string(&before).expect("json")),
            after: Some(serde_json::to_string(row).expect("json")),
            request_id: None,
        });
    }
    // One row per statement: MultiConnection has no batch insert.
    conn.transaction::<(), diesel::result::Error, _>(|conn| {
        for entry in &entries {
            diesel::insert_into(audit_log::table)
                .values(entry)
                .execute(conn)?;
        }
        Ok(())
    })
    .expect("audit entries");
}

#[derive(QueryableByName)]
struct Text1 {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

fn largest_programme(conn: &mut Conn) -> String {
    diesel::sql_query(
        "SELECT programme_id AS id FROM obligations WHERE programme_id IS NOT NULL \
         GROUP BY programme_id ORDER BY COUNT(*) DESC, programme_id LIMIT 1",
    )
    .get_result::<Text1>(conn)
    .expect("a programme")
    .id
}

fn sizes(conn: &mut Conn, programme: &str) -> (i64, i64) {
    use accord::db::schema::status_reports;
    let items: i64 = obligations::table
        .filter(obligations::programme_id.eq(programme))
        .count()
        .get_result(conn)
        .expect("count");
    let reports: i64 = status_reports::table
        .inner_join(obligations::table)
        .filter(obligations::programme_id.eq(programme))
        .count()
        .get_result(conn)
        .expect("count");
    (items, reports)
}

#[derive(QueryableByName, Debug)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::Text)]
    what: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The floor: one SQL statement giving obligations by (stored) lifecycle and
/// (obligation, assigned party) pairs by the party's latest completion.
fn floor_counts(conn: &mut Conn, programme: &str, as_of: Option<NaiveDate>) -> Vec<Count> {
    // Ids come from the database itself; literals keep one statement for both backends.
    let known = match as_of {
        Some(day) => format!(
            "AND r.as_of <= '{day}' AND r.reported_at < '{} 00:00:00'",
            day + chrono::Duration::days(1)
        ),
        None => String::new(),
    };
    diesel::sql_query(format!(
        "WITH latest AS ( \
           SELECT r.obligation_id, r.party_id, r.completion, \
                  ROW_NUMBER() OVER (PARTITION BY r.obligation_id, r.party_id \
                                     ORDER BY r.as_of DESC, r.reported_at DESC) AS n \
           FROM status_reports r JOIN obligations o ON o.id = r.obligation_id \
           WHERE o.programme_id = '{programme}' {known}), \
         pairs AS ( \
           SELECT DISTINCT a.obligation_id, a.party_id \
           FROM assignments a JOIN obligations o ON o.id = a.obligation_id \
           WHERE o.programme_id = '{programme}') \
         SELECT 'completion:' || COALESCE(l.completion, 'no_evidence') AS what, COUNT(*) AS n \
         FROM pairs p LEFT JOIN latest l \
           ON l.obligation_id = p.obligation_id AND l.party_id = p.party_id AND l.n = 1 \
         GROUP BY COALESCE(l.completion, 'no_evidence') \
         UNION ALL \
         SELECT 'lifecycle:' || lifecycle AS what, COUNT(*) AS n FROM obligations \
         WHERE programme_id = '{programme}' GROUP BY lifecycle"
    ))
    .load(conn)
    .expect("floor aggregate")
}

/// The roll-up's pair counts by completion equal the floor's.
fn check(conn: &mut Conn, programme: &str, as_of: Option<NaiveDate>, today: NaiveDate) {
    let floor = floor_counts(conn, programme, as_of);
    let rollup =
        accord::store::rollups::programme_rollup(conn, programme, as_of, today, DUE_SOON_DAYS)
            .expect("roll-up")
            .expect("the programme");
    for (level, n) in &rollup.totals.by_completion {
        let what = format!("completion:{}", level.as_str());
        let floor_n = floor.iter().find(|c| c.what == what).map_or(0, |c| c.n);
        if *n as i64 != floor_n {
            eprintln!("warning: {what} as of {as_of:?}: roll-up {n}, floor {floor_n}");
        }
    }
}
