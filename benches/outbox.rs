//! Outbox throughput, each figure beside a baseline measured in the same run:
//!
//! - claim/complete through the worker with a no-op transport, against the
//!   floor of one single-row UPDATE transaction per row on the same table;
//! - emails per second through the worker into a local SMTP server (the
//!   aiosmtpd sink of the tests, on loopback), against the same emails sent
//!   by the same mailer with no outbox at all.
//!
//! `scripts/bench-outbox` runs it on both backends; by hand:
//! `cargo bench --bench outbox -- sqlite 2000 500` or
//! `cargo bench --bench outbox -- postgres://postgres@127.0.0.1:5432/postgres 2000 500`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use accord::clock::SystemClock;
use accord::config::{Settings, Sources};
use accord::db::schema::notifications;
use accord::notify::mailer::Mailer;
use accord::notify::worker::{Stop, Worker};
use accord::store::notifications::{message_id, queue, state, NotificationRow};
use diesel::prelude::*;

fn main() {
    // `cargo test --all-targets` runs bench targets too: measure only under `cargo bench`.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let rest: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let backend = rest.first().map(|s| s.as_str()).unwrap_or("sqlite");
    let rows: usize = rest.get(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let emails: usize = rest.get(2).and_then(|s| s.parse().ok()).unwrap_or(500);

    let db = BenchDb::new(backend);
    let sink = Sink::start();
    let settings = db.settings(sink.port);
    let pool = accord::server::open_pool(&settings).expect("pool");
    accord::server::run_migrations(&pool).expect("migrations");
    let name = if backend == "sqlite" {
        "SQLite"
    } else {
        "PostgreSQL"
    };

    // 1. Claim/complete with a no-op transport.
    let ids = fill(&pool, rows, "noop");
    let worker = Worker::new(
        pool.clone(),
        Arc::new(SystemClock),
        Arc::new(Mailer::noop()),
        settings.worker.clone(),
    );
    let outbox = drain(&worker, &pool, rows);
    reset(&pool);
    let started = Instant::now();
    for id in &ids {
        let mut conn = pool.get().expect("connection");
        accord::db::write_transaction(&mut conn, |c| {
            diesel::update(notifications::table.find(id))
                .set(notifications::state.eq(state::SENT))
                .execute(c)
        })
        .expect("update");
    }
    let floor = rows as f64 / started.elapsed().as_secs_f64();
    println!(
        "{name}: outbox claim/complete, no-op transport: {outbox:.0} rows/s; \
         baseline one UPDATE transaction per row: {floor:.0} rows/s; ratio {:.2}",
        outbox / floor
    );

    // 2. Emails into the SMTP sink on loopback.
    clear(&pool);
    fill(&pool, emails, "smtp");
    let mailer = Mailer::from_settings(&settings.mail).expect("mailer");
    let worker = Worker::new(
        pool.clone(),
        Arc::new(SystemClock),
        Arc::new(Mailer::from_settings(&settings.mail).expect("mailer")),
        settings.worker.clone(),
    );
    let through_outbox = drain(&worker, &pool, emails);
    let rows: Vec<NotificationRow> = notifications::table
        .select(NotificationRow::as_select())
        .load(&mut pool.get().expect("connection"))
        .expect("rows");
    let started = Instant::now();
    for row in &rows {
        mailer.deliver(row).expect("direct delivery");
    }
    let direct = rows.len() as f64 / started.elapsed().as_secs_f64();
    println!(
        "{name}: emails into a local SMTP server through the outbox worker: {through_outbox:.0}/s; \
         baseline the same mailer with no outbox: {direct:.0}/s; ratio {:.2}",
        through_outbox / direct
    );
    drop(sink);
}

/// Runs worker passes until `n` rows are sent; rows per second.
fn drain(worker: &Worker, pool: &accord::db::Pool, n: usize) -> f64 {
    let stop = Stop::default();
    let started = Instant::now();
    loop {
        let pass = worker.pass(&stop).expect("pass");
        if pass.claimed == 0 {
            let sent: i64 = notifications::table
                .filter(notifications::state.eq(state::SENT))
                .count()
                .get_result(&mut pool.get().expect("connection"))
                .expect("count");
            assert_eq!(sent as usize, n, "every row sent");
            break;
        }
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn fill(pool: &accord::db::Pool, n: usize, tag: &str) -> Vec<String> {
    let now = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
    let mut conn = pool.get().expect("connection");
    let payload = serde_json::json!({
        "recipient_name": "Айгерим Сапарова",
        "programme": {"id": "p", "key": "kz-ru-2024-2026",
                      "title": {"ru": "Программа сотрудничества в области культуры на 2024-2026 годы"}},
        "items": [{"kind": "obligation", "id": "o", "number": "1.1",
                   "title": {"ru": "Гастроли театра", "kk": "Театр гастрольдері", "en": "Tour of a theatre"},
                   "field": "obligation_due", "due_on": "2025-06-30", "days_left": 7,
                   "url": "http://localhost:8080/api/v1/obligations/o"}]
    })
    .to_string();
    let mut ids = Vec::with_capacity(n);
    accord::db::write_transaction(&mut conn, |c| {
        for i in 0..n {
            let id = uuid::Uuid::new_v4().to_string();
            let row = NotificationRow {
                message_id: message_id(&id, "bench.example"),
                id: id.clone(),
                dedupe_key: format!("bench:{tag}:{i}"),
                kind: "reminder".into(),
                contact_id: None,
                recipient: format!("focal{i}@example.kz"),
                language: "ru".into(),
                time_zone: "Asia/Almaty".into(),
                programme_id: None,
                item_kind: Some("obligation".into()),
                item_id: Some(format!("item-{i}")),
                occurrence: String::new(),
                due_on: chrono::NaiveDate::from_ymd_opt(2025, 6, 30),
                offset_days: Some(7),
                payload: payload.clone(),
                send_after: now,
                state: state::PENDING.into(),
                attempts: 0,
                lease_until: None,
                claimed_by: None,
                last_error: None,
                digest_id: None,
                created_at: now,
                updated_at: now,
                sent_at: None,
            };
            queue(c, &row)?;
            ids.push(id);
        }
        Ok::<_, diesel::result::Error>(())
    })
    .expect("queue");
    ids
}

fn reset(pool: &accord::db::Pool) {
    diesel::update(notifications::table)
        .set(notifications::state.eq(state::PENDING))
        .execute(&mut pool.get().expect("connection"))
        .expect("reset");
}

fn clear(pool: &accord::db::Pool) {
    diesel::delete(notifications::table)
        .execute(&mut pool.get().expect("connection"))
        .expect("clear");
}

/// A fresh database: a file in a temporary folder, or a new PostgreSQL database.
struct BenchDb {
    url: String,
    admin: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl BenchDb {
    fn new(backend: &str) -> BenchDb {
        let dir = tempfile::tempdir().expect("temporary folder");
        if backend == "sqlite" {
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            return BenchDb {
                url,
                admin: None,
                _dir: dir,
            };
        }
        accord::db::prepare_tls();
        let name = format!("accord_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(backend).expect("PostgreSQL");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create database");
        let (base, _) = backend.rsplit_once('/').expect("a database URL");
        BenchDb {
            url: format!("{base}/{name}"),
            admin: Some((backend.to_string(), name)),
            _dir: dir,
        }
    }

    fn settings(&self, smtp_port: u16) -> Settings {
        let file = self._dir.path().join("bench.toml");
        std::fs::write(
            &file,
            format!(
                "[database]\nurl = \"{}\"\npool_size = 4\n[log]\nlevel = \"warn\"\n\
                 [worker]\nbatch = 50\nlease_secs = 60\nbackoff_base_secs = 1\n\
                 [mail]\ntransport = \"smtp\"\nfrom = \"accord <accord@bench.example>\"\n\
                 message_id_domain = \"bench.example\"\n\
                 [mail.smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\npool_max = 4\ntimeout_secs = 10\n",
                self.url
            ),
        )
        .expect("settings file");
        Settings::load(&Sources {
            profile: None,
            file: Some(file),
            base_dir: Some(self._dir.path().to_path_buf()),
        })
        .expect("settings")
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.admin {
            if let Ok(mut c) = diesel::PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c);
            }
        }
    }
}

/// The tests' SMTP sink (scripts/smtp-sink), on a port of its choosing.
struct Sink {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Sink {
    fn start() -> Sink {
        let root = env!("CARGO_MANIFEST_DIR");
        let dir = tempfile::tempdir().expect("temporary folder");
        let mut child = Command::new(format!("{root}/target/smtp-sink/venv/bin/python"))
            .arg(format!("{root}/scripts/smtp-sink/server.py"))
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP sink (run scripts/smtp-sink/install)");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("the sink's port");
        let port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .expect("`port N`");
        Sink {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(stdin) = self.child.stdin.as_mut() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
