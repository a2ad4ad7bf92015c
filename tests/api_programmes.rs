//! Writing programmes and sections, creating and deleting items: through the
//! real server on each backend.

mod common;

use common::api::*;
use common::*;
use reqwest::blocking::Response;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// One request with an optional token, If-Match version and JSON body
/// (PATCH bodies go as merge patches).
fn send(
    s: &Setup,
    method: Method,
    path: &str,
    token: Option<&str>,
    version: Option<i64>,
    body: Option<Value>,
) -> Response {
    let mut req = s
        .client
        .request(method.clone(), s.server.url(&format!("/api/v1{path}")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(v) = version {
        req = req.header("if-match", format!("\"{v}\""));
    }
    if let Some(b) = body {
        let kind = if method == Method::PATCH {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        req = req.header("content-type", kind).body(b.to_string());
    }
    req.send().unwrap()
}

fn post(s: &Setup, path: &str, token: Option<&str>, body: Value) -> Response {
    send(s, Method::POST, path, token, None, Some(body))
}

fn json_of(res: Response, want: StatusCode) -> Value {
    let status = res.status();
    let url = res.url().to_string();
    let text = res.text().unwrap();
    assert_eq!(status, want, "{url}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn programme(key: &str, body: Option<&str>, period: &str, parties: &[&str], public: bool) -> Value {
    json!({
        "key": key,
        "title": {"en": format!("Programme {key}"), "ru": format!("Программа {key}")},
        "agreement": "kz-ru-1994",
        "body": body,
        "period": period,
        "parties": parties,
        "signatories": ["kz-mci"],
        "public": public,
        "source": "S1",
    })
}

fn item(number: &str, section: Option<&str>, timeframe: &str) -> Value {
    json!({
        "number": number,
        "section": section,
        "text": {"en": format!("Item {number}")},
        "kind": "exhibition",
        "firmness": "binding",
        "timeframe": timeframe,
        "lifecycle": "planned",
        "assignments": [{"organisation": "kz-mci", "role": "lead"}],
    })
}

fn audit(s: &Setup, entity: &str, id: &str) -> Vec<Value> {
    let admin = s.token("admin");
    let page: Value = s
        .get(
            &format!("/api/v1/audit?entity={entity}&entity_id={id}"),
            Some(&admin),
        )
        .json()
        .unwrap();
    page["items"].as_array().unwrap().clone()
}

fn numbers(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["number"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_programme_with_sections_and_items_is_created_and_read_back() {
    let s = Setup::new();
    let sec = s.token("secretariat");
    let res = post(
        &s,
        "/programmes",
        Some(&sec),
        programme(
            "kz-ru-film-2025-2027",
            Some("kz-ru-sc"),
            "2025-2027",
            &["KZ", "RU"],
            false,
        ),
    );
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let created = json_of(res, StatusCode::CREATED);
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/programmes/{id}"));
    let read: Value = s.get(&location, Some(&sec)).json().unwrap();
    assert_eq!(read["key"], "kz-ru-film-2025-2027");
    assert_eq!(read["title"]["ru"], "Программа kz-ru-film-2025-2027");
    assert_eq!(read["title_display"], "Программа kz-ru-film-2025-2027");
    assert_eq!(read["period"]["start"], "2025-01-01");
    assert_eq!(read["period"]["end"], "2027-12-31");
    assert_eq!(read["parties"], json!(["KZ", "RU"]));
    assert_eq!(read["agreement"], "kz-ru-1994");
    assert_eq!(read["body"], "kz-ru-sc");
    assert_eq!(read["signatories"], json!(["kz-mci"]));
    assert_eq!(read["public"], false);
    assert_eq!(read["source"], "S1");
    let rows = audit(&s, "programme", &id);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["action"], "create");
    assert_eq!(rows[0]["actor"], "user:secretariat");

    // Sections, then items given out of order: each lands after the last
    // item of its own section.
    let mut section_ids = Vec::new();
    for (code, title) in [("cinema", "Cinema"), ("museums", "Museums")] {
        let res = post(
            &s,
            &format!("/programmes/{id}/sections"),
            Some(&sec),
            json!({"code": code, "title": {"en": title}}),
        );
        assert_eq!(res.headers()["etag"], "\"1\"");
        let location = res.headers()["location"].to_str().unwrap().to_string();
        let section = json_of(res, StatusCode::CREATED);
        assert_eq!(
            location,
            format!("/api/v1/sections/{}", section["id"].as_str().unwrap())
        );
        section_ids.push(section["id"].as_str().unwrap().to_string());
    }
    for (number, section, timeframe) in [
        ("2.1", "museums", "2026"),
        ("1.1", "cinema", "II quarter 2025"),
        ("1.2", "cinema", "programme period"),
    ] {
        let res = post(
            &s,
            &format!("/programmes/{id}/obligations"),
            Some(&sec),
            item(number, Some(section), timeframe),
        );
        assert_eq!(res.headers()["etag"], "\"1\"");
        let location = res.headers()["location"].to_str().unwrap().to_string();
        let created = json_of(res, StatusCode::CREATED);
        assert_eq!(created["number"], number);
        let again: Value = s.get(&location, Some(&sec)).json().unwrap();
        assert_eq!(again["number"], number);
        assert_eq!(again["timeframe"]["text"], timeframe);
        assert_eq!(again["assignments"][0]["organisation_key"], "kz-mci");
        assert_eq!(again["programme_id"], id.as_str());
        assert_eq!(
            audit(&s, "obligation", again["id"].as_str().unwrap()).len(),
            1
        );
    }
    let detail: Value = s
        .get(&format!("/api/v1/programmes/{id}"), Some(&sec))
        .json()
        .unwrap();
    let by_section: Vec<(String, Vec<String>)> = detail["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sec| {
            (
                sec["code"].as_str().unwrap().to_string(),
                sec["obligations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["number"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        by_section,
        [
            (
                "cinema".to_string(),
                vec!["1.1".to_string(), "1.2".to_string()]
            ),
            ("museums".to_string(), vec!["2.1".to_string()]),
        ]
    );
    let whole = &detail["sections"][0]["obligations"][1]["timeframe"];
    assert_eq!(whole["earliest"], "2025-01-01");
    assert_eq!(whole["latest"], "2027-12-31");
    let list: Value = s
        .get(
            "/api/v1/obligations?programme=kz-ru-film-2025-2027",
            Some(&sec),
        )
        .json()
        .unwrap();
    assert_eq!(numbers(&list), ["1.1", "1.2", "2.1"]);

    let sections: Value = s
        .get(&format!("/api/v1/programmes/{id}/sections"), Some(&sec))
        .json()
        .unwrap();
    assert_eq!(sections["total"], 2);
    assert_eq!(sections["items"][0]["code"], "cinema");
    assert_eq!(sections["items"][0]["obligations"], 2);
    assert_eq!(sections["items"][1]["code"], "museums");
    assert_eq!(sections["items"][1]["position"], 1);
    let res = s.get(&format!("/api/v1/sections/{}", section_ids[1]), Some(&sec));
    assert_eq!(res.headers()["etag"], "\"1\"");
    let one: Value = res.json().unwrap();
    assert_eq!(one["programme"], "kz-ru-film-2025-2027");
    assert_eq!(one["obligations"], 1);
    // Sections page like every list.
    let first: Value = s
        .get(
            &format!("/api/v1/programmes/{id}/sections?limit=1"),
            Some(&sec),
        )
        .json()
        .unwrap();
    assert_eq!(first["items"][0]["code"], "cinema");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = s
        .get(
            &format!("/api/v1/programmes/{id}/sections?limit=1&cursor={cursor}"),
            Some(&sec),
        )
        .json()
        .unwrap();
    assert_eq!(second["items"][0]["code"], "museums");
    assert!(second["next_cursor"].is_null());
}

#[test]
fn changes_need_the_current_etag_and_a_stale_one_changes_nothing() {
    let s = Setup::new();
    let admin = s.token("admin");
    let path = "/programmes/kz-ru-test";
    let res = s.get("/api/v1/programmes/kz-ru-test", None);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let (status, _) = problem(send(
        &s,
        Method::PATCH,
        path,
        Some(&admin),
        None,
        Some(json!({"note": "x"})),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let res = send(
        &s,
        Method::PATCH,
        path,
        Some(&admin),
        Some(1),
        Some(json!({"title": {"en": "Renamed", "ru": "Переименована"}, "note": "renamed"})),
    );
    assert_eq!(res.headers()["etag"], "\"2\"");
    let changed = json_of(res, StatusCode::OK);
    assert_eq!(changed["title"]["en"], "Renamed");
    assert_eq!(changed["note"], "renamed");
    assert_eq!(
        changed["key"], "kz-ru-test",
        "a patch keeps what it does not name"
    );
    assert_eq!(changed["parties"], json!(["KZ", "RU"]));
    let pool = s.db.pool();
    let counts = table_counts(&pool);
    let (status, _) = problem(send(
        &s,
        Method::PATCH,
        path,
        Some(&admin),
        Some(1),
        Some(json!({"note": "lost update"})),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(table_counts(&pool), counts);
    // A change of parties alone is a change of the programme.
    let res = send(
        &s,
        Method::PATCH,
        path,
        Some(&admin),
        Some(2),
        Some(json!({"parties": ["KZ"]})),
    );
    assert_eq!(res.headers()["etag"], "\"3\"");
    assert_eq!(json_of(res, StatusCode::OK)["parties"], json!(["KZ"]));
    // PUT replaces: what it leaves out is gone.
    let res = send(
        &s,
        Method::PUT,
        path,
        Some(&admin),
        Some(3),
        Some(
            json!({"key": "kz-ru-test", "title": {"en": "Test"}, "period": "2024-2026", "parties": ["KZ", "RU"], "public": true}),
        ),
    );
    let put = json_of(res, StatusCode::OK);
    assert_eq!(put["version"], 4);
    assert!(put["note"].is_null());
    assert!(put["agreement"].is_null());
    assert!(put["body"].is_null());
    let rows = audit(&s, "programme", put["id"].as_str().unwrap());
    assert_eq!(rows.iter().filter(|r| r["action"] == "update").count(), 2);
    // An unchanged PUT is no change.
    let res = send(
        &s,
        Method::PUT,
        path,
        Some(&admin),
        Some(4),
        Some(
            json!({"key": "kz-ru-test", "title": {"en": "Test"}, "period": "2024-2026", "parties": ["KZ", "RU"], "public": true}),
        ),
    );
    assert_eq!(res.headers()["etag"], "\"4\"");

    // Sections too.
    let detail = s
        .get("/api/v1/programmes/kz-ru-test", None)
        .json::<Value>()
        .unwrap();
    let section = detail["sections"][1]["id"].as_str().unwrap().to_string();
    assert_eq!(detail["sections"][1]["code"], "libraries");
    let spath = format!("/sections/{section}");
    let (status, _) = problem(send(
        &s,
        Method::PATCH,
        &spath,
        Some(&admin),
        None,
        Some(json!({"code": "books"})),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let res = send(
        &s,
        Method::PATCH,
        &spath,
        Some(&admin),
        Some(1),
        Some(json!({"code": "books", "position": 0})),
    );
    assert_eq!(res.headers()["etag"], "\"2\"");
    let changed = json_of(res, StatusCode::OK);
    assert_eq!(changed["code"], "books");
    assert_eq!(changed["title"]["en"], "Libraries");
    let (status, _) = problem(send(
        &s,
        Method::PUT,
        &spath,
        Some(&admin),
        Some(1),
        Some(json!({"code": "libraries", "title": {"en": "Libraries"}})),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let detail = s
        .get("/api/v1/programmes/kz-ru-test", None)
        .json::<Value>()
        .unwrap();
    assert_eq!(
        detail["sections"][0]["code"], "books",
        "position 0 now first"
    );
    assert_eq!(
        s.item("2.1")["section_id"],
        section.as_str(),
        "its items stay in it"
    );
    let (status, body) = problem(send(
        &s,
        Method::PUT,
        &spath,
        Some(&admin),
        Some(2),
        Some(json!({"code": "theatre", "title": {"en": "Libraries"}})),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "code");
}

#[test]
fn a_new_period_must_keep_every_item_inside_it() {
    let s = Setup::new();
    let admin = s.token("admin");
    let pool = s.db.pool();
    let counts = table_counts(&pool);
    // 1.1 is due in II quarter 2025 and 1.2 in 2025: 2026 alone leaves them out.
    let (status, body) = problem(send(
        &s,
        Method::PATCH,
        "/programmes/kz-ru-test",
        Some(&admin),
        Some(1),
        Some(json!({"period": "2026"})),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "period");
    let reason = body["errors"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("1.1") && reason.contains("1.2"), "{reason}");
    assert!(!reason.contains("2.1"), "{reason}");
    assert_eq!(table_counts(&pool), counts);
    assert_eq!(
        s.get("/api/v1/programmes/kz-ru-test", None).headers()["etag"],
        "\"1\""
    );
    // Shrinking around the dated items is fine; the item "throughout the
    // programme" follows the new period.
    let res = send(
        &s,
        Method::PATCH,
        "/programmes/kz-ru-test",
        Some(&admin),
        Some(1),
        Some(json!({"period": "2025-2026"})),
    );
    let changed = json_of(res, StatusCode::OK);
    assert_eq!(changed["period"]["text"], "2025-2026");
    assert_eq!(changed["period"]["start"], "2025-01-01");
    let whole = s.item("2.1");
    assert_eq!(whole["timeframe"]["earliest"], "2025-01-01");
    assert_eq!(whole["timeframe"]["latest"], "2026-12-31");
    assert_eq!(whole["version"], 2);
    assert_eq!(s.item("1.1")["version"], 1);
    // A new item must lie inside the period too.
    let (status, body) = problem(post(
        &s,
        "/programmes/kz-ru-test/obligations",
        Some(&admin),
        item("3.1", None, "2024"),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "timeframe");
    assert!(body["errors"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("outside the programme period"));
    let created = json_of(
        post(
            &s,
            "/programmes/kz-ru-test/obligations",
            Some(&admin),
            item("3.1", None, "to be agreed"),
        ),
        StatusCode::CREATED,
    );
    assert!(created["timeframe"]["latest"].is_null());
}

#[test]
fn deletes_are_refused_while_something_depends_on_the_record() {
    // 1.2 is also fulfilled by the tour, so its delete removes an event link.
    let fixture = FIXTURE.replace(
        "      - {programme: kz-ru-test, number: \"1.1\"}",
        "      - {programme: kz-ru-test, number: \"1.1\"}\n      - {programme: kz-ru-test, number: \"1.2\"}",
    );
    let s = Setup::with_fixture(&fixture);
    let sec = s.token("secretariat");
    let pool = s.db.pool();
    let counts = table_counts(&pool);
    let reported = s.item("1.1")["id"].as_str().unwrap().to_string();
    let (status, body) = problem(send(
        &s,
        Method::DELETE,
        &format!("/obligations/{reported}"),
        Some(&sec),
        Some(1),
        None,
    ));
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("cancelled or superseded, not deleted"));
    let (status, _) = problem(send(
        &s,
        Method::DELETE,
        "/programmes/kz-ru-test",
        Some(&sec),
        Some(1),
        None,
    ));
    assert_eq!(status, StatusCode::CONFLICT);
    let detail = s
        .get("/api/v1/programmes/kz-ru-test", None)
        .json::<Value>()
        .unwrap();
    let theatre = detail["sections"][0]["id"].as_str().unwrap().to_string();
    let (status, _) = problem(send(
        &s,
        Method::DELETE,
        &format!("/sections/{theatre}"),
        Some(&sec),
        Some(1),
        None,
    ));
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        table_counts(&pool),
        counts,
        "a refused delete wrote something"
    );

    let free = s.item("1.2")["id"].as_str().unwrap().to_string();
    let path = format!("/obligations/{free}");
    let (status, _) = problem(send(&s, Method::DELETE, &path, Some(&sec), None, None));
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, _) = problem(send(&s, Method::DELETE, &path, Some(&sec), Some(7), None));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let res = send(&s, Method::DELETE, &path, Some(&sec), Some(1), None);
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        problem(s.get(&format!("/api/v1{path}"), Some(&sec))).0,
        StatusCode::NOT_FOUND
    );
    let after: std::collections::HashMap<String, i64> = table_counts(&pool).into_iter().collect();
    let before: std::collections::HashMap<String, i64> = counts.into_iter().collect();
    assert_eq!(after["obligations"], before["obligations"] - 1);
    assert_eq!(after["assignments"], before["assignments"] - 1);
    assert_eq!(after["event_obligations"], before["event_obligations"] - 1);
    let rows = audit(&s, "obligation", &free);
    let deleted = rows.iter().find(|r| r["action"] == "delete").unwrap();
    assert_eq!(deleted["actor"], "user:secretariat");
    let was: Value = serde_json::from_str(deleted["before"].as_str().unwrap()).unwrap();
    assert_eq!(was["number"], "1.2");
    assert!(deleted["after"].is_null());
    // 3 audit entries more: the item, its assignment, its event link.
    assert_eq!(after["audit_log"], before["audit_log"] + 3);

    // A programme without items goes with its empty sections.
    let created = json_of(
        post(
            &s,
            "/programmes",
            Some(&sec),
            programme("kz-ru-empty", Some("kz-ru-sc"), "2027", &["KZ"], true),
        ),
        StatusCode::CREATED,
    );
    let id = created["id"].as_str().unwrap().to_string();
    let section = json_of(
        post(
            &s,
            &format!("/programmes/{id}/sections"),
            Some(&sec),
            json!({"code": "only", "title": {"en": "Only"}}),
        ),
        StatusCode::CREATED,
    );
    let section_id = section["id"].as_str().unwrap().to_string();
    let res = send(
        &s,
        Method::DELETE,
        &format!("/sections/{section_id}"),
        Some(&sec),
        Some(1),
        None,
    );
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        problem(s.get(&format!("/api/v1/sections/{section_id}"), Some(&sec))).0,
        StatusCode::NOT_FOUND
    );
    json_of(
        post(
            &s,
            &format!("/programmes/{id}/sections"),
            Some(&sec),
            json!({"code": "again", "title": {"en": "Again"}}),
        ),
        StatusCode::CREATED,
    );
    let (status, _) = problem(send(
        &s,
        Method::DELETE,
        &format!("/programmes/{id}"),
        Some(&sec),
        Some(2),
        None,
    ));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let res = send(
        &s,
        Method::DELETE,
        &format!("/programmes/{id}"),
        Some(&sec),
        Some(1),
        None,
    );
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        problem(s.get(&format!("/api/v1/programmes/{id}"), Some(&sec))).0,
        StatusCode::NOT_FOUND
    );
    let rows = audit(&s, "programme", &id);
    let deleted = rows.iter().find(|r| r["action"] == "delete").unwrap();
    assert_eq!(deleted["actor"], "user:secretariat");
    assert!(deleted["before"].as_str().unwrap().contains("kz-ru-empty"));
}

#[test]
fn lists_filter_and_page_stably_while_programmes_are_added() {
    let s = Setup::new();
    let admin = s.token("admin");
    for (key, body, period, parties, public) in [
        ("a-2020", Some("kz-ru-igc"), "2020-2022", vec!["KZ"], true),
        (
            "b-2027",
            Some("kz-ru-sc"),
            "2027-2029",
            vec!["KZ", "RU"],
            false,
        ),
        ("c-2025", None, "2025", vec!["RU"], true),
        ("d-2025", Some("kz-ru-sc"), "2025-2026", vec!["RU"], false),
    ] {
        let mut p = programme(key, body, period, &parties, public);
        if key == "c-2025" {
            p["agreement"] = Value::Null;
        }
        json_of(
            post(&s, "/programmes", Some(&admin), p),
            StatusCode::CREATED,
        );
    }
    let keys = |path: &str, token: Option<&str>| -> (Vec<String>, i64) {
        let page = json_of(
            s.get(&format!("/api/v1/programmes{path}"), token),
            StatusCode::OK,
        );
        (
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["key"].as_str().unwrap().to_string())
                .collect(),
            page["total"].as_i64().unwrap(),
        )
    };
    let t = Some(admin.as_str());
    // Latest period first, then by key.
    assert_eq!(
        keys("", t).0,
        ["b-2027", "c-2025", "d-2025", "kz-ru-test", "a-2020"]
    );
    assert_eq!(keys("", t).1, 5);
    assert_eq!(keys("", None).0, ["c-2025", "kz-ru-test", "a-2020"]);
    assert_eq!(
        keys("?party=RU", t).0,
        ["b-2027", "c-2025", "d-2025", "kz-ru-test"]
    );
    assert_eq!(
        keys("?party=KZ&body=kz-ru-sc", t).0,
        ["b-2027", "kz-ru-test"]
    );
    assert_eq!(
        keys("?agreement=kz-ru-1994&public=true", t).0,
        ["kz-ru-test", "a-2020"]
    );
    assert_eq!(
        keys("?public=false", t),
        (vec!["b-2027".into(), "d-2025".into()], 2)
    );
    assert_eq!(keys("?year=2026", t).0, ["d-2025", "kz-ru-test"]);
    assert_eq!(keys("?year=2021&lang=en", t).0, ["a-2020"]);
    assert_eq!(keys("?party=XX", t), (vec![], 0));
    assert_eq!(keys("?body=no-such-body", t), (vec![], 0));
    let page = json_of(
        s.get("/api/v1/programmes?year=2021&lang=en", t),
        StatusCode::OK,
    );
    assert_eq!(page["items"][0]["title_display"], "Programme a-2020");
    for bad in [
        "year=1700",
        "limit=0",
        "cursor=zz",
        "public=maybe",
        "colour=red",
        "lang=xx",
    ] {
        let (status, _) = problem(s.get(&format!("/api/v1/programmes?{bad}"), t));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Two at a time, with programmes added before and after the cursor between pages.
    let first = json_of(s.get("/api/v1/programmes?limit=2", t), StatusCode::OK);
    let mut seen: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap().to_string())
        .collect();
    let mut cursor = first["next_cursor"].as_str().map(str::to_string);
    let mut added = 0;
    while let Some(c) = cursor {
        for period in ["2030", "2019"] {
            added += 1;
            json_of(
                post(
                    &s,
                    "/programmes",
                    Some(&admin),
                    programme(&format!("added-{added}"), None, period, &["KZ"], true),
                ),
                StatusCode::CREATED,
            );
        }
        let page = json_of(
            s.get(&format!("/api/v1/programmes?limit=2&cursor={c}"), t),
            StatusCode::OK,
        );
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["key"].as_str().unwrap().to_string()),
        );
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "seen twice: {seen:?}");
    for key in ["b-2027", "c-2025", "d-2025", "kz-ru-test", "a-2020"] {
        assert!(seen.contains(&key.to_string()), "{key} skipped: {seen:?}");
    }
    // Those added after the cursor (2019) are all seen; those before (2030) none.
    assert!(seen.iter().filter(|k| k.starts_with("added-")).all(|k| {
        let n: i32 = k.trim_start_matches("added-").parse().unwrap();
        n % 2 == 0
    }));
    assert!(seen.iter().any(|k| k.starts_with("added-")));
}

#[test]
fn only_admins_and_the_programme_secretariat_create_and_delete_items() {
    let s = Setup::new();
    let sec = s.token("secretariat");
    let other = s.token("other-secretariat");
    let kz = s.token("kz-editor");
    let viewer = s.token("viewer");
    let pool = s.db.pool();
    let counts = table_counts(&pool);
    let path = "/programmes/kz-ru-test/obligations";
    let (status, _) = problem(post(&s, path, None, item("3.1", Some("theatre"), "2025")));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for token in [&other, &kz, &viewer] {
        let (status, _) = problem(post(
            &s,
            path,
            Some(token.as_str()),
            item("3.1", Some("theatre"), "2025"),
        ));
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // Programmes and sections: the same rule.
    let (status, _) = problem(post(
        &s,
        "/programmes",
        None,
        programme("p-anon", None, "2025", &["KZ"], true),
    ));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for (token, body) in [
        (&other, Some("kz-ru-sc")),
        (&kz, None),
        (&viewer, None),
        (&sec, None),
    ] {
        let (status, _) = problem(post(
            &s,
            "/programmes",
            Some(token.as_str()),
            programme("p-denied", body, "2025", &["KZ"], true),
        ));
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = problem(post(
        &s,
        "/programmes/kz-ru-test/sections",
        Some(&other),
        json!({"code": "cinema", "title": {"en": "Cinema"}}),
    ));
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The secretariat may not hand its programme to a body it does not serve.
    let (status, _) = problem(send(
        &s,
        Method::PATCH,
        "/programmes/kz-ru-test",
        Some(&sec),
        Some(1),
        Some(json!({"body": "kz-ru-igc"})),
    ));
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = problem(send(
        &s,
        Method::PATCH,
        "/programmes/kz-ru-test",
        Some(&kz),
        Some(1),
        Some(json!({"note": "mine"})),
    ));
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        table_counts(&pool),
        counts,
        "a refused write wrote something"
    );

    let created = json_of(
        post(&s, path, Some(&sec), item("3.1", Some("theatre"), "2025")),
        StatusCode::CREATED,
    );
    let id = created["id"].as_str().unwrap().to_string();
    // Assigned to kz-mci, yet its editor may neither delete it nor create one.
    for token in [&kz, &other, &viewer] {
        let (status, _) = problem(send(
            &s,
            Method::DELETE,
            &format!("/obligations/{id}"),
            Some(token.as_str()),
            Some(1),
            None,
        ));
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = problem(send(
        &s,
        Method::DELETE,
        &format!("/obligations/{id}"),
        None,
        Some(1),
        None,
    ));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    json_of(
        post(
            &s,
            "/programmes",
            Some(&other),
            programme(
                "kz-ru-igc-plan",
                Some("kz-ru-igc"),
                "2025",
                &["KZ", "RU"],
                false,
            ),
        ),
        StatusCode::CREATED,
    );
    let res = send(
        &s,
        Method::DELETE,
        &format!("/obligations/{id}"),
        Some(&sec),
        Some(1),
        None,
    );
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[test]
fn a_private_programme_is_not_readable_anonymously() {
    let s = Setup::with_fixture(&FIXTURE.replace("public: true", "public: false"));
    let viewer = s.token("viewer");
    let detail: Value = s
        .get("/api/v1/programmes/kz-ru-test", Some(&viewer))
        .json()
        .unwrap();
    let item = detail["sections"][0]["obligations"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let section = detail["sections"][0]["id"].as_str().unwrap().to_string();
    for path in [
        format!("/api/v1/obligations/{item}"),
        format!("/api/v1/sections/{section}"),
        "/api/v1/programmes/kz-ru-test/sections".to_string(),
    ] {
        let (status, _) = problem(s.get(&path, None));
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            s.get(&path, Some(&viewer)).status(),
            StatusCode::OK,
            "{path}"
        );
    }
    let list: Value = s.get("/api/v1/programmes", None).json().unwrap();
    assert_eq!(list["total"], 0);
}

#[test]
fn malformed_input_is_a_problem_naming_the_field_and_changes_nothing() {
    let s = Setup::new();
    let admin = s.token("admin");
    let pool = s.db.pool();
    let counts = table_counts(&pool);
    let good = programme(
        "kz-ru-new",
        Some("kz-ru-sc"),
        "2025-2027",
        &["KZ", "RU"],
        true,
    );
    let with = |field: &str, value: Value| {
        let mut p = good.clone();
        p[field] = value;
        p
    };
    let without = |field: &str| {
        let mut p = good.clone();
        p.as_object_mut().unwrap().remove(field);
        p
    };
    for (body, field) in [
        (with("key", json!("Not A Key")), "key"),
        (with("key", json!("kz-ru-test")), "key"),
        (with("key", json!(42)), "key"),
        (with("title", json!({"xx": "?"})), "title"),
        (with("title", json!({})), "title"),
        (without("title"), ""),
        (with("period", json!("to be agreed")), "period"),
        (with("period", json!("2025-Q5")), "period"),
        (with("parties", json!(["KZ", "XX"])), "parties[1]"),
        (with("parties", json!(["KZ", "KZ"])), "parties[1]"),
        (
            with("signatories", json!(["no-such-org"])),
            "signatories[0]",
        ),
        (with("agreement", json!("no-such-agreement")), "agreement"),
        (with("body", json!("no-such-body")), "body"),
        (with("public", json!("yes")), "public"),
        (with("colour", json!("red")), ""),
    ] {
        let (status, problem_body) = problem(post(&s, "/programmes", Some(&admin), body.clone()));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let fields: Vec<&str> = problem_body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{field} not in {fields:?} for {body}"
        );
    }
    // Every failing field at once.
    let (_, body) = problem(post(
        &s,
        "/programmes",
        Some(&admin),
        json!({"key": "Bad", "title": {"en": "x"}, "period": "someday", "parties": ["XX"]}),
    ));
    assert_eq!(body["errors"].as_array().unwrap().len(), 3, "{body}");

    let items = "/programmes/kz-ru-test/obligations";
    let mut wrong_kind = item("3.1", None, "2025");
    wrong_kind["kind"] = json!("parade");
    let mut stranger = item("3.1", None, "2025");
    stranger["assignments"] = json!([{"organisation": "no-such-org", "role": "lead"}]);
    for (body, field) in [
        (item("1.1", Some("theatre"), "2025"), "number"),
        (item("", None, "2025"), "number"),
        (item("3.1", Some("cinema"), "2025"), "section"),
        (item("3.1", None, "2025-Q5"), "timeframe"),
        (item("3.1", None, "2030"), "timeframe"),
        (wrong_kind, "kind"),
        (stranger, "assignments[0].organisation"),
    ] {
        let (status, problem_body) = problem(post(&s, items, Some(&admin), body.clone()));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(problem_body["errors"][0]["field"], field, "{body}");
    }
    for (body, field) in [
        (json!({"code": "Bad Code", "title": {"en": "x"}}), "code"),
        (json!({"code": "theatre", "title": {"en": "x"}}), "code"),
        (
            json!({"code": "new", "title": {"en": "x"}, "position": -1}),
            "position",
        ),
        (json!({"code": "new"}), "body"),
    ] {
        let (status, problem_body) = problem(post(
            &s,
            "/programmes/kz-ru-test/sections",
            Some(&admin),
            body.clone(),
        ));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(problem_body["errors"][0]["field"], field, "{body}");
    }
    for path in [
        "/sections/not-a-uuid",
        "/obligations/not-a-uuid",
        "/programmes/Not%20A%20Key",
    ] {
        let (status, _) = problem(send(&s, Method::DELETE, path, Some(&admin), Some(1), None));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
    }
    let (status, _) = problem(
        s.client
            .post(s.server.url("/api/v1/programmes"))
            .bearer_auth(&admin)
            .header("content-type", "text/plain")
            .body(good.to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        table_counts(&pool),
        counts,
        "a failed write wrote something"
    );

    // Script and SQL in text are stored and returned verbatim.
    let hostile = "<script>alert(1)</script>'; DROP TABLE programmes; --";
    let created = json_of(
        post(
            &s,
            "/programmes",
            Some(&admin),
            with("title", json!({"en": hostile})),
        ),
        StatusCode::CREATED,
    );
    assert_eq!(created["title"]["en"], hostile);
    let read: Value = s.get("/api/v1/programmes/kz-ru-new", None).json().unwrap();
    assert_eq!(read["title"]["en"], hostile);
}
