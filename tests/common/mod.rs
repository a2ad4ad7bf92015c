//! Test harness: a fresh database of the backend under test and the real
//! server on port 0. The backend comes from ACCORD_TEST_DATABASE_URL: unset or
//! `sqlite` for SQLite files, or a `postgres://` URL of a server on which each
//! test creates (and drops) its own database.
#![allow(dead_code)]

pub mod api;
pub mod ics;
pub mod mail;
pub mod smtp;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use accord::clock::{FixedClock, SharedClock};
use accord::config::{Settings, Sources};
use accord::db::{Backend, DatabaseUrl};
use accord::store::WriteContext;
use chrono::{TimeZone, Utc};
use diesel::{Connection, RunQueryDsl};

pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    admin_url: Option<String>,
    name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn new() -> TestDb {
        let wanted = std::env::var("ACCORD_TEST_DATABASE_URL").unwrap_or_default();
        if wanted.starts_with("postgres://") || wanted.starts_with("postgresql://") {
            let name = format!("accord_test_{}", uuid::Uuid::new_v4().simple());
            accord::db::prepare_tls();
            let mut admin = diesel::PgConnection::establish(&wanted).unwrap_or_else(|e| {
                panic!("ACCORD_TEST_DATABASE_URL={wanted} does not answer: {e}")
            });
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .unwrap();
            let url = replace_database(&wanted, &name);
            TestDb {
                url,
                backend: Backend::Postgres,
                admin_url: Some(wanted),
                name: Some(name),
                _dir: None,
            }
        } else {
            assert!(
                wanted.is_empty() || wanted == "sqlite",
                "ACCORD_TEST_DATABASE_URL must be `sqlite` or a postgres:// URL"
            );
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("accord.db").display());
            TestDb {
                url,
                backend: Backend::Sqlite,
                admin_url: None,
                name: None,
                _dir: Some(dir),
            }
        }
    }

    pub fn settings(&self) -> Settings {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("test.toml");
        std::fs::write(
            &file,
            format!(
                "[server]\nlisten = \"127.0.0.1:0\"\nworkers = 2\nshutdown_timeout_secs = 1\n[database]\nurl = \"{}\"\npool_size = 4\n[log]\nlevel = \"warn\"\n",
                self.url
            ),
        )
        .unwrap();
        Settings::load(&Sources {
            profile: None,
            file: Some(file),
            base_dir: Some(dir.path().to_path_buf()),
        })
        .unwrap()
    }

    pub fn pool(&self) -> accord::db::Pool {
        accord::server::open_pool(&self.settings()).unwrap()
    }

    /// A migrated connection pool.
    pub fn migrated_pool(&self) -> accord::db::Pool {
        let pool = self.pool();
        accord::server::run_migrations(&pool).unwrap();
        pool
    }

    pub fn database_url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.url).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let (Some(admin), Some(name)) = (&self.admin_url, &self.name) {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let (scheme, rest) = base.split_once("://").unwrap();
    let host = rest.split('/').next().unwrap();
    let mut out = format!("{scheme}://{host}/{name}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// 2025-06-15 12:00Z unless a test says otherwise.
pub fn fixed_clock(y: i32, m: u32, d: u32) -> SharedClock {
    Arc::new(FixedClock(Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()))
}

pub struct TestServer {
    pub base: String,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start(db: &TestDb, clock: SharedClock) -> TestServer {
        let state = accord::server::prepare(db.settings(), clock).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = accord::server::http_server(state, listener).unwrap();
                tx.send(server.handle()).unwrap();
                let _ = server.await;
            })
        });
        let handle = rx.recv().unwrap();
        TestServer {
            base,
            handle,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        reqwest::blocking::get(self.url(path)).unwrap()
    }

    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let res = self.get(path);
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_web::rt::System::new().block_on(handle.stop(true));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn write_context(actor: &str) -> WriteContext {
    WriteContext {
        actor: actor.to_string(),
        at: Utc
            .with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
            .unwrap()
            .naive_utc(),
        request_id: None,
    }
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Row counts of every table, to show that a failed write changed nothing.
pub fn table_counts(pool: &accord::db::Pool) -> Vec<(String, i64)> {
    use diesel::sql_types::BigInt;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = pool.get().unwrap();
    TABLES
        .iter()
        .map(|t| {
            let n: N = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {t}"))
                .get_result(&mut *conn)
                .unwrap();
            (t.to_string(), n.n)
        })
        .collect()
}

pub const TABLES: &[&str] = &[
    "parties",
    "organisations",
    "contacts",
    "agreements",
    "agreement_parties",
    "agreement_signatories",
    "bodies",
    "body_parties",
    "meetings",
    "decisions",
    "programmes",
    "programme_parties",
    "programme_signatories",
    "sections",
    "obligations",
    "assignments",
    "events",
    "event_organisations",
    "event_obligations",
    "status_reports",
    "evidence",
    "audit_log",
    "users",
    "user_bodies",
    "api_tokens",
    "login_failures",
    "decision_effects",
    "event_occurrences",
    "obligation_occurrences",
    "lead_times",
    "calendar_feeds",
    "reminder_policies",
    "notifications",
    "body_secretariats",
    "snapshots",
    "feed_changes",
];
