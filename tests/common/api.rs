//! Helpers for API tests: a server on a fresh database with the small fixture
//! programme and one user per role (admin, secretariat of kz-ru-sc, a
//! secretariat of another body, editors of kz-mci and ru-mkrf, a viewer).
#![allow(dead_code)]

use accord::users::{add_user, NewUser};
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;

pub const FIXTURE: &str = include_str!("../fixtures/small-programme.yaml");
pub const PASSWORD: &str = "a long enough password";

pub struct Setup {
    pub db: TestDb,
    pub server: TestServer,
    pub client: Client,
}

impl Setup {
    pub fn new() -> Setup {
        Setup::with_fixture(FIXTURE)
    }

    pub fn with_fixture(fixture: &str) -> Setup {
        let db = TestDb::new();
        let pool = db.migrated_pool();
        let mut conn = pool.get().unwrap();
        accord::import::import_str(&mut conn, fixture, &write_context("test")).unwrap();
        for (name, role, org, bodies) in [
            ("admin", "admin", None, vec![]),
            (
                "secretariat",
                "secretariat",
                None,
                vec!["kz-ru-sc".to_string()],
            ),
            (
                "other-secretariat",
                "secretariat",
                None,
                vec!["kz-ru-igc".to_string()],
            ),
            ("kz-editor", "editor", Some("kz-mci"), vec![]),
            ("ru-editor", "editor", Some("ru-mkrf"), vec![]),
            ("viewer", "viewer", None, vec![]),
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
        let server = TestServer::start(&db, fixed_clock(2025, 8, 1));
        Setup {
            db,
            server,
            client: Client::new(),
        }
    }

    pub fn token(&self, user: &str) -> String {
        let res = self
            .client
            .post(self.server.url("/api/v1/auth/token"))
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "login {user}");
        res.json::<Value>().unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> reqwest::blocking::Response {
        let mut req = self.client.get(self.server.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().unwrap()
    }

    pub fn item(&self, number: &str) -> Value {
        let page: Value = self
            .get("/api/v1/obligations?programme=kz-ru-test", None)
            .json()
            .unwrap();
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["number"] == number)
            .unwrap()
            .clone()
    }

    pub fn patch(
        &self,
        id: &str,
        token: Option<&str>,
        version: Option<i64>,
        body: Value,
    ) -> reqwest::blocking::Response {
        let mut req = self
            .client
            .patch(self.server.url(&format!("/api/v1/obligations/{id}")))
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(v) = version {
            req = req.header("if-match", format!("\"{v}\""));
        }
        req.send().unwrap()
    }

    pub fn report(
        &self,
        id: &str,
        token: Option<&str>,
        body: Value,
    ) -> reqwest::blocking::Response {
        let mut req = self
            .client
            .post(
                self.server
                    .url(&format!("/api/v1/obligations/{id}/reports")),
            )
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().unwrap()
    }
}

pub fn problem(res: reqwest::blocking::Response) -> (StatusCode, Value) {
    let status = res.status();
    let url = res.url().to_string();
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "{status} {url}"
    );
    (status, res.json().unwrap())
}
