//! What the roll-up and planning benches share: a cached database (an SQLite
//! file under target/bench/ or a PostgreSQL database `accord_bench_<name>`)
//! filled once and reused while its key (what filled it) is unchanged, and
//! medians of criterion's samples for the `figure | value | baseline | ratio |
//! target | met?` lines.

#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use accord::db::{Conn, DatabaseUrl, Pool, PoolSettings};
use diesel::prelude::*;

/// Arguments after `--bench` that are not flags: backend (`sqlite` or a
/// postgres:// URL of a server to create databases on), then the rest.
pub fn args() -> Option<Vec<String>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --all-targets` runs bench targets too: measure only under `cargo bench`.
    if !args.iter().any(|a| a == "--bench") {
        return None;
    }
    Some(args.into_iter().filter(|a| !a.starts_with("--")).collect())
}

pub fn backend_name(backend: &str) -> &'static str {
    if backend == "sqlite" {
        "SQLite"
    } else {
        "PostgreSQL"
    }
}

/// A stable hash of text (FNV-1a), to key caches by what filled them.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for b in p.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    format!("{h:016x}")
}

#[derive(QueryableByName)]
struct Marker {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
}

fn marker(conn: &mut Conn) -> Option<String> {
    diesel::sql_query("SELECT key FROM bench_marker")
        .get_result::<Marker>(conn)
        .ok()
        .map(|m| m.key)
}

fn open_pool(url: &str) -> Pool {
    let url = DatabaseUrl::parse(url).expect("database URL");
    let pool = accord::db::pool(
        &url,
        &PoolSettings {
            max_size: 2,
            connect_timeout: Duration::from_secs(30),
            sqlite_busy_timeout: Duration::from_secs(30),
        },
    )
    .expect("pool");
    accord::server::run_migrations(&pool).expect("migrations");
    pool
}

/// The database `name` on `backend`, filled by `fill` unless it already holds
/// a complete fill with this `key`. Migrations added since are applied.
pub fn cached(backend: &str, name: &str, key: &str, fill: impl FnOnce(&mut Conn)) -> Pool {
    if backend == "sqlite" {
        let dir = format!("{}/target/bench", env!("CARGO_MANIFEST_DIR"));
        std::fs::create_dir_all(&dir).expect("target/bench");
        let path = format!("{dir}/{name}-{key}.db");
        if !std::path::Path::new(&path).exists() {
            // Older fills of this name are stale: remove them.
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    let f = e.file_name().to_string_lossy().to_string();
                    if f.starts_with(&format!("{name}-")) {
                        let _ = std::fs::remove_file(e.path());
                    }
                }
            }
            // A fill in progress (or one `accord gen` wrote there) is completed, not redone.
            let partial = format!("{dir}/{name}.partial.db");
            {
                let pool = open_pool(&format!("sqlite://{partial}"));
                let mut conn = pool.get().expect("connection");
                eprintln!("filling {path} (once; reused while its key holds)");
                let started = Instant::now();
                fill(&mut conn);
                diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&mut conn)
                    .ok();
                diesel::sql_query("ANALYZE").execute(&mut conn).ok();
                eprintln!("filled in {:.0} s", started.elapsed().as_secs_f64());
            }
            let _ = std::fs::remove_file(format!("{partial}-wal"));
            let _ = std::fs::remove_file(format!("{partial}-shm"));
            std::fs::rename(&partial, &path).expect("rename the filled file");
        }
        return open_pool(&format!("sqlite://{path}"));
    }
    accord::db::prepare_tls();
    let database = format!("accord_bench_{name}");
    let (base, _) = backend.rsplit_once('/').expect("a postgres:// URL");
    let url = format!("{base}/{database}");
    let mut admin = diesel::PgConnection::establish(backend).expect("PostgreSQL");
    let exists = diesel::sql_query(format!(
        "SELECT datname AS key FROM pg_database WHERE datname = '{database}'"
    ))
    .load::<Marker>(&mut admin)
    .expect("pg_database")
    .len()
        == 1;
    if exists {
        let pool = open_pool(&url);
        let mut conn = pool.get().expect("connection");
        match marker(&mut conn) {
            Some(k) if k == key => {
                drop(conn);
                return pool;
            }
            Some(_) => {
                drop(conn);
                drop(pool);
                diesel::sql_query(format!("DROP DATABASE {database} WITH (FORCE)"))
                    .execute(&mut admin)
                    .expect("drop a stale bench database");
                diesel::sql_query(format!("CREATE DATABASE {database}"))
                    .execute(&mut admin)
                    .expect("create the bench database");
            }
            // Not marked: a fill in progress (or one `accord gen` wrote), completed below.
            None => {}
        }
    } else {
        diesel::sql_query(format!("CREATE DATABASE {database}"))
            .execute(&mut admin)
            .expect("create the bench database");
    }
    let pool = open_pool(&url);
    let mut conn = pool.get().expect("connection");
    eprintln!("filling database {database} (once; kept while its key holds)");
    let started = Instant::now();
    fill(&mut conn);
    diesel::sql_query("CREATE TABLE bench_marker (key TEXT NOT NULL)")
        .execute(&mut conn)
        .expect("marker table");
    diesel::sql_query(format!("INSERT INTO bench_marker VALUES ('{key}')"))
        .execute(&mut conn)
        .expect("marker");
    diesel::sql_query("ANALYZE").execute(&mut conn).ok();
    eprintln!("filled in {:.0} s", started.elapsed().as_secs_f64());
    drop(conn);
    pool
}

/// Per-iteration times of one criterion benchmark, kept for its median.
#[derive(Clone, Default)]
pub struct Samples(Rc<RefCell<Vec<f64>>>);

impl Samples {
    /// Runs `work` `iters` times, records the mean of this sample, returns the total.
    pub fn time(&self, iters: u64, mut work: impl FnMut()) -> Duration {
        let started = Instant::now();
        for _ in 0..iters {
            work();
        }
        let total = started.elapsed();
        self.0
            .borrow_mut()
            .push(total.as_secs_f64() / iters.max(1) as f64);
        total
    }

    /// Median seconds per iteration.
    pub fn median(&self) -> f64 {
        let mut v = self.0.borrow().clone();
        v.sort_by(|a, b| a.total_cmp(b));
        if v.is_empty() {
            return f64::NAN;
        }
        v[v.len() / 2]
    }
}

pub fn ms(seconds: f64) -> String {
    format!("{:.1} ms", seconds * 1000.0)
}

/// One line for BENCHMARKS.md: `figure | value | baseline | ratio | target | met?`.
pub fn line(figure: &str, value: f64, baseline: f64, max_ratio: f64, target: &str) {
    let ratio = value / baseline;
    println!(
        "| {figure} | {} | {} | {ratio:.2} | {target} | {} |",
        ms(value),
        ms(baseline),
        if ratio <= max_ratio { "yes" } else { "no" }
    );
}
