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

#[test]
fn migrations_create_every_table_and_the_schema_matches_them() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    // Every table the code knows exists and is empty after migration.
    for (table, n) in table_counts(&pool) {
        assert_eq!(n, 0, "{table}");
    }
    let mut conn = pool.get().unwrap();
    assert!(accord::db::migrate::is_up_to_date(&mut conn).unwrap());
    // A second run finds nothing to do.
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
}
