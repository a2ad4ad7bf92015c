//! The service as an operator meets it: health, readiness, errors, start-up,
//! configuration, two instances at once, and the demo.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn health_and_ready_answer_on_a_migrated_database() {
    let db = TestDb::new();
    let server = TestServer::start(&db, fixed_clock(2025, 6, 15));
    assert_eq!(server.get_json("/health")["status"], "ok");
    let ready = server.get_json("/ready");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], db.backend.to_string());
    let res = server.get("/health");
    assert!(res.headers().get("x-request-id").is_some());
}

#[test]
fn errors_are_problem_json_with_a_stable_code() {
    let db = TestDb::new();
    let server = TestServer::start(&db, fixed_clock(2025, 6, 15));
    let res = server.get("/api/v1/programmes/00000000-0000-0000-0000-000000000000");
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = res.json().unwrap();
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["status"], 404);

    let res = server.get("/api/v1/programmes/NOT%20A%20KEY");
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().unwrap();
    assert_eq!(body["code"], "validation_failed");
    assert_eq!(body["errors"][0]["field"], "id");

    let res = server.get("/api/v1/programmes?colour=red");
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = server.get("/no/such/route");
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

/// Tables and columns as src/db/schema.rs declares them to diesel.
fn declared_schema() -> Vec<(String, Vec<String>)> {
    let source = include_str!("../src/db/schema.rs");
    let mut tables = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in source.lines().map(str::trim) {
        if let Some((name, _)) = line.split_once(" (").filter(|_| line.ends_with(") {")) {
            current = Some((name.to_string(), Vec::new()));
        } else if let Some((column, _)) = line.split_once(" -> ") {
            if let Some((_, columns)) = current.as_mut() {
                columns.push(column.to_string());
            }
        } else if line == "}" {
            if let Some(table) = current.take() {
                tables.push(table);
            }
        }
    }
    tables
}

#[test]
fn migrations_create_exactly_the_tables_and_columns_the_schema_declares() {
    use diesel::sql_types::Text;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let declared = declared_schema();
    assert_eq!(declared.len(), TABLES.len(), "{declared:?}");
    let (tables_sql, columns_sql): (&str, fn(&str) -> String) = match db.backend {
        accord::db::Backend::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> '__diesel_schema_migrations' ORDER BY name",
            |t| format!("SELECT name FROM pragma_table_info('{t}') ORDER BY cid"),
        ),
        accord::db::Backend::Postgres => (
            "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public' \
             AND table_name <> '__diesel_schema_migrations' ORDER BY table_name",
            |t| {
                format!(
                    "SELECT column_name::text AS name FROM information_schema.columns \
                     WHERE table_schema = 'public' AND table_name = '{t}' ORDER BY ordinal_position"
                )
            },
        ),
    };
    let in_db: Vec<String> = diesel::sql_query(tables_sql)
        .load::<Name>(&mut *conn)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    let mut in_schema: Vec<String> = declared.iter().map(|(t, _)| t.clone()).collect();
    in_schema.sort();
    assert_eq!(in_db, in_schema);
    for (table, columns) in &declared {
        let actual: Vec<String> = diesel::sql_query(columns_sql(table))
            .load::<Name>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|n| n.name)
            .collect();
        assert_eq!(&actual, columns, "columns of {table}");
    }
    // Every table starts empty, and a second run finds nothing to do.
    for (table, n) in table_counts(&pool) {
        assert_eq!(n, 0, "{table}");
    }
    assert!(accord::db::migrate::is_up_to_date(&mut conn).unwrap());
    drop(conn);
    assert!(accord::server::run_migrations(&pool).unwrap().is_empty());
}

#[test]
fn status_reports_and_the_audit_log_refuse_updates_and_deletes() {
    use diesel::RunQueryDsl;
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    accord::import::import_str(
        &mut conn,
        include_str!("fixtures/small-programme.yaml"),
        &write_context("t"),
    )
    .unwrap();
    for sql in [
        "UPDATE status_reports SET completion = 'limited'",
        "DELETE FROM status_reports",
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "DELETE FROM evidence",
    ] {
        let err = diesel::sql_query(sql).execute(&mut *conn).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

fn accord_bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_accord"));
    for (key, _) in std::env::vars() {
        if key.starts_with("ACCORD__") || key == "ACCORD_PROFILE" {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_ready(port: u16, child: &mut std::process::Child) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("accord exited with {status} before it was ready");
        }
        if let Ok(res) = reqwest::blocking::get(format!("http://127.0.0.1:{port}/ready")) {
            if res.status() == 200 {
                return res.json().unwrap();
            }
        }
        assert!(
            Instant::now() < deadline,
            "accord on port {port} never became ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn two_instances_started_at_once_on_one_database_both_come_up() {
    // On PostgreSQL the migrations run under an advisory lock; on SQLite the
    // second writer waits on the busy timeout. Either way both must serve.
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let ports = [free_port(), free_port()];
    let mut children: Vec<Killed> = ports
        .iter()
        .map(|port| {
            Killed(
                accord_bin()
                    .current_dir(dir.path())
                    .env("ACCORD__DATABASE__URL", &db.url)
                    .env("ACCORD__LOG__LEVEL", "warn")
                    .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    for (port, child) in ports.iter().zip(children.iter_mut()) {
        let ready = wait_ready(*port, &mut child.0);
        assert_eq!(ready["database"], db.backend.to_string());
    }
    let pool = db.pool();
    let mut conn = pool.get().unwrap();
    assert!(accord::db::migrate::is_up_to_date(&mut conn).unwrap());
}

#[test]
fn a_bad_configuration_value_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value, named) in [
        ("ACCORD__SERVER__LISTEN", "not-an-address", "server.listen"),
        ("ACCORD__DATABASE__POOL_SIZE", "lots", "database.pool_size"),
        ("ACCORD__DATABASE__URL", "mysql://db/accord", "database.url"),
        ("ACCORD__SERVER__LISTNE", "127.0.0.1:1", "server.listne"),
    ] {
        let out = accord_bin()
            .current_dir(dir.path())
            .env(key, value)
            .arg("serve")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{key}={value} started");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(named), "{key}={value}: {stderr}");
    }
}

#[test]
fn help_explains_each_command() {
    let out = accord_bin().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for command in ["serve", "migrate", "import", "demo"] {
        assert!(text.contains(command), "{text}");
    }
    let out = accord_bin().args(["demo", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--listen"));
}

#[test]
fn the_import_command_prints_every_problem_and_exits_non_zero() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "parties:\n  - {code: KZ, name: {en: K}, time_zone: Asia/Nowhere}\n  - {code: kz, name: {en: K}, time_zone: Asia/Almaty}\n").unwrap();
    let out = accord_bin()
        .current_dir(dir.path())
        .env("ACCORD__DATABASE__URL", &db.url)
        .args(["import", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.yaml:line 2: parties[0].time_zone"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.yaml:line 3: parties[1].code"),
        "{stderr}"
    );
    let good = repo_path("tests/fixtures/small-programme.yaml");
    let out = accord_bin()
        .current_dir(dir.path())
        .env("ACCORD__DATABASE__URL", &db.url)
        .args(["import", good.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created"));
}

#[test]
fn the_demo_serves_the_kz_ru_programme() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Killed(
        accord_bin()
            .current_dir(dir.path())
            .env("ACCORD__LOG__LEVEL", "warn")
            .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(port, &mut child.0);
    let list: serde_json::Value =
        reqwest::blocking::get(format!("http://127.0.0.1:{port}/api/v1/programmes"))
            .unwrap()
            .json()
            .unwrap();
    let programme = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == "kz-ru-culture-2024-2026")
        .unwrap_or_else(|| panic!("no KZ-RU programme in {list}"));
    assert_eq!(programme["illustrative"], true);
    assert!(programme["counts"]["obligations"].as_u64().unwrap() >= 25);
    assert!(dir.path().join("accord-demo.db").exists());
    // The demo users can sign in.
    let res = reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "kz-editor", "password": "demo-password"}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 201);
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = accord_bin()
        .current_dir(dir.path())
        .env("ACCORD__DATABASE__URL", &db.url)
        .env("ACCORD__LOG__LEVEL", "info")
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(port, &mut child);
    // A request is logged with its id, method, path, status and latency.
    let res = reqwest::blocking::get(format!("http://127.0.0.1:{port}/api/v1/programmes")).unwrap();
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // A hang guard, not a speed claim: shutdown_timeout_secs is 30 by default.
    let deadline = Instant::now() + Duration::from_secs(60);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "accord did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(exit.success(), "{exit}: {stderr}");
    assert!(stderr.contains("accord stopped"), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains(&request_id))
        .unwrap_or_else(|| panic!("no log line for {request_id}: {stderr}"));
    for field in [
        "method=\"GET\"",
        "path=\"/api/v1/programmes\"",
        "status=200",
        "latency_ms=",
    ] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
}

#[test]
fn foreign_keys_and_checks_are_enforced_on_every_pooled_connection() {
    use diesel::RunQueryDsl;
    let db = TestDb::new();
    let pool = db.migrated_pool();
    // Several connections: SQLite enables foreign keys per connection.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = pool.get().unwrap();
        let err = diesel::sql_query(
            "INSERT INTO organisations (id, key, party_id, kind, name, time_zone, version, created_at, updated_at) \
             VALUES ('o1', 'orphan', 'no-such-party', 'ministry', '{\"en\":\"x\"}', 'UTC', 1, '2025-01-01 00:00:00', '2025-01-01 00:00:00')",
        )
        .execute(&mut *conn)
        .unwrap_err();
        assert!(
            err.to_string().to_lowercase().contains("foreign key"),
            "{err}"
        );
        diesel::sql_query(
            "INSERT INTO parties (id, code, name, time_zone, version, created_at, updated_at) \
             VALUES ('p1', 'KZ', '{\"en\":\"x\"}', 'Asia/Almaty', 1, '2025-01-01 00:00:00', '2025-01-01 00:00:00')",
        )
        .execute(&mut *conn)
        .unwrap();
        let err = diesel::sql_query(
            "INSERT INTO organisations (id, key, party_id, kind, name, time_zone, version, created_at, updated_at) \
             VALUES ('o2', 'odd', 'p1', 'circus', '{\"en\":\"x\"}', 'UTC', 1, '2025-01-01 00:00:00', '2025-01-01 00:00:00')",
        )
        .execute(&mut *conn)
        .unwrap_err();
        assert!(err.to_string().to_lowercase().contains("check"), "{err}");
        diesel::sql_query("DELETE FROM parties")
            .execute(&mut *conn)
            .unwrap();
        held.push(conn);
    }
}

/// Every pooled connection is set up for its backend: on PostgreSQL it plans
/// each prepared statement once (generic plans: planning was most of a GET's
/// cost), except inside reminder planning transactions, which get
/// PostgreSQL's own choice back for the transaction only; on SQLite it writes
/// ahead (readers beside the writer) and waits the configured time for the
/// write lock.
#[test]
fn pooled_connections_get_their_backends_settings() {
    use diesel::sql_types::{BigInt, Text};
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct PlanMode {
        #[diesel(sql_type = Text)]
        plan_cache_mode: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Journal {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Busy {
        #[diesel(sql_type = BigInt)]
        timeout: i64,
    }
    fn mode(conn: &mut accord::db::Conn) -> String {
        diesel::sql_query("SHOW plan_cache_mode")
            .get_result::<PlanMode>(conn)
            .unwrap()
            .plan_cache_mode
    }
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let busy_ms = db.settings().database.sqlite_busy_timeout_ms;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = pool.get().unwrap();
        match db.backend {
            accord::db::Backend::Postgres => {
                assert_eq!(mode(&mut conn), "force_generic_plan");
                conn.transaction::<_, diesel::result::Error, _>(|c| {
                    accord::db::serialize_planning(c)?;
                    assert_eq!(mode(c), "auto");
                    Ok(())
                })
                .unwrap();
                assert_eq!(mode(&mut conn), "force_generic_plan");
            }
            accord::db::Backend::Sqlite => {
                let journal = diesel::sql_query("SELECT journal_mode FROM pragma_journal_mode()")
                    .get_result::<Journal>(&mut *conn)
                    .unwrap()
                    .journal_mode;
                assert_eq!(journal, "wal");
                let timeout = diesel::sql_query("SELECT timeout FROM pragma_busy_timeout()")
                    .get_result::<Busy>(&mut *conn)
                    .unwrap()
                    .timeout;
                assert_eq!(u64::try_from(timeout).unwrap(), busy_ms);
            }
        }
        held.push(conn);
    }
}

/// Sets an event's stored instant as if computed under older zone rules.
fn age_event(pool: &accord::db::Pool, key: &str, starts_at: &str, ends_at: &str) {
    use diesel::RunQueryDsl;
    let mut conn = pool.get().unwrap();
    let sql = format!(
        "UPDATE events SET starts_at = '{starts_at}', ends_at = '{ends_at}', tzdata_version = '2023c' WHERE key = '{key}'"
    );
    assert_eq!(diesel::sql_query(sql).execute(&mut *conn).unwrap(), 1);
}

#[test]
fn instants_computed_under_old_zone_rules_are_corrected_on_start() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    accord::import::import_str(
        &mut conn,
        include_str!("fixtures/small-programme.yaml"),
        &write_context("t"),
    )
    .unwrap();
    drop(conn);
    // The Astana tour, 19:00-21:30 local on 2025-06-10, as tzdata before 2024a
    // computed it: Asia/Almaty at UTC+6, so 13:00Z instead of 14:00Z.
    age_event(
        &pool,
        "tour-astana-2025",
        "2025-06-10 13:00:00",
        "2025-06-10 15:30:00",
    );
    let viewer_sees = |server: &TestServer| -> serde_json::Value {
        use accord::users::{add_user, NewUser};
        let mut conn = pool.get().unwrap();
        let _ = add_user(
            &mut conn,
            &write_context("t"),
            NewUser {
                username: "v",
                role: "viewer",
                display_name: None,
                organisation: None,
                bodies: &[],
                password: "a long enough password",
            },
        );
        let client = reqwest::blocking::Client::new();
        let token: serde_json::Value = client
            .post(server.url("/api/v1/auth/token"))
            .json(&serde_json::json!({"username": "v", "password": "a long enough password"}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let list: serde_json::Value = client
            .get(server.url("/api/v1/events?status=confirmed"))
            .bearer_auth(token["token"].as_str().unwrap())
            .send()
            .unwrap()
            .json()
            .unwrap();
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == "tour-astana-2025")
            .unwrap()
            .clone()
    };
    // After the event, history is left alone.
    {
        let server = TestServer::start(&db, fixed_clock(2025, 7, 1));
        let event = viewer_sees(&server);
        assert_eq!(event["starts_at"], "2025-06-10T13:00:00Z", "{event}");
    }
    // Before it, the instant is recomputed under the running rules on start.
    let server = TestServer::start(&db, fixed_clock(2025, 6, 1));
    let event = viewer_sees(&server);
    assert_eq!(event["starts_at"], "2025-06-10T14:00:00Z", "{event}");
    assert_eq!(event["ends_at"], "2025-06-10T16:30:00Z", "{event}");
    assert_eq!(event["sequence"], 1, "calendar clients must see the move");
    let audit = {
        let mut conn = pool.get().unwrap();
        accord::store::audit::for_entity(&mut conn, "event", event["id"].as_str().unwrap()).unwrap()
    };
    let recomputed: Vec<_> = audit
        .iter()
        .filter(|a| a.actor.starts_with("system:tzdata"))
        .collect();
    assert_eq!(recomputed.len(), 1, "{audit:?}");
    assert!(recomputed[0].before.as_ref().unwrap().contains("2023c"));
    assert!(recomputed[0]
        .after
        .as_ref()
        .unwrap()
        .contains("2025-06-10T14:00:00"));
    // A second start finds nothing to do.
    let mut conn = pool.get().unwrap();
    let now = chrono::NaiveDate::from_ymd_opt(2025, 6, 1)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    assert!(accord::tzdata::recompute_future_instants(&mut conn, now)
        .unwrap()
        .is_empty());
}
