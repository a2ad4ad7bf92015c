//! The programme API: authentication, access by role and ministry,
//! optimistic concurrency, audit, malformed input, lists.

mod common;

use common::api::*;
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[test]
fn login_issues_tokens_that_can_be_revoked_and_brute_force_is_refused() {
    let s = Setup::new();
    let (status, body) = problem(
        s.client
            .post(s.server.url("/api/v1/auth/token"))
            .json(&json!({"username": "viewer", "password": "wrong password!"}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthenticated");
    let token = s.token("viewer");
    let me: Value = s.get("/api/v1/auth/me", Some(&token)).json().unwrap();
    assert_eq!(me["role"], "viewer");
    // Only the hash is stored.
    let pool = s.db.pool();
    {
        use diesel::prelude::*;
        let mut conn = pool.get().unwrap();
        let hashes: Vec<String> = accord::db::schema::api_tokens::table
            .select(accord::db::schema::api_tokens::token_hash)
            .load(&mut *conn)
            .unwrap();
        assert!(!hashes.contains(&token));
        assert!(hashes.contains(&accord::domain::credentials::hash_token(&token)));
    }
    let res = s
        .client
        .delete(s.server.url("/api/v1/auth/token"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, _) = problem(s.get("/api/v1/auth/me", Some(&token)));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = problem(s.get("/api/v1/auth/me", Some("acc_not-a-token")));
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Five failures for one name, then even the right password is refused for a while.
    for _ in 0..5 {
        let res = s
            .client
            .post(s.server.url("/api/v1/auth/token"))
            .json(&json!({"username": "admin", "password": "guess guess guess"}))
            .send()
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = s
        .client
        .post(s.server.url("/api/v1/auth/token"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().get("retry-after").is_some());
    // Other users are not locked out by it.
    s.token("secretariat");
}

#[test]
fn the_permission_matrix_over_http() {
    let s = Setup::new();
    let tokens: Vec<(&str, Option<String>)> = [
        "anonymous",
        "admin",
        "secretariat",
        "other-secretariat",
        "kz-editor",
        "ru-editor",
        "viewer",
    ]
    .into_iter()
    .map(|u| {
        (
            u,
            if u == "anonymous" {
                None
            } else {
                Some(s.token(u))
            },
        )
    })
    .collect();
    let both = s.item("1.1")["id"].as_str().unwrap().to_string(); // KZ sends, RU hosts
    let kz_only = s.item("1.2")["id"].as_str().unwrap().to_string(); // KZ leads
    let ru_only = s.item("2.1")["id"].as_str().unwrap().to_string(); // RU leads
                                                                     // Expected status per caller, in the order above.
    let patch_cases: [(&str, [u16; 7]); 3] = [
        (&both, [401, 200, 200, 403, 200, 200, 403]),
        (&kz_only, [401, 200, 200, 403, 200, 403, 403]),
        (&ru_only, [401, 200, 200, 403, 403, 200, 403]),
    ];
    for (id, wants) in patch_cases {
        for ((user, token), want) in tokens.iter().zip(wants) {
            let version = s
                .get(
                    &format!("/api/v1/obligations/{id}"),
                    Some(tokens[1].1.as_deref().unwrap()),
                )
                .json::<Value>()
                .unwrap()["version"]
                .as_i64();
            let res = s.patch(
                id,
                token.as_deref(),
                version,
                json!({"firmness": "best_effort"}),
            );
            assert_eq!(res.status().as_u16(), want, "{user} PATCH {id}");
        }
    }
    let report = |party: &str| json!({"party": party, "lifecycle": "in_progress", "completion": "limited", "as_of": "2025-07-30"});
    let report_cases: [(&str, &str, [u16; 7]); 4] = [
        // An editor of a Kazakh ministry reporting for the Russian side is refused.
        (&kz_only, "KZ", [401, 201, 201, 403, 201, 403, 403]),
        (&kz_only, "RU", [401, 201, 201, 403, 403, 403, 403]),
        (&ru_only, "KZ", [401, 201, 201, 403, 403, 403, 403]),
        (&both, "RU", [401, 201, 201, 403, 403, 201, 403]),
    ];
    for (id, party, wants) in report_cases {
        for ((user, token), want) in tokens.iter().zip(wants) {
            let res = s.report(id, token.as_deref(), report(party));
            assert_eq!(
                res.status().as_u16(),
                want,
                "{user} reports for {party} on {id}"
            );
        }
    }
    for ((user, token), want) in tokens.iter().zip([401, 200, 200, 200, 403, 403, 403]) {
        assert_eq!(
            s.get("/api/v1/audit", token.as_deref()).status().as_u16(),
            want,
            "{user} reads the audit log"
        );
    }
}

#[test]
fn a_private_programme_needs_a_token() {
    let s = Setup::with_fixture(&FIXTURE.replace("public: true", "public: false"));
    let (status, _) = problem(s.get("/api/v1/programmes/kz-ru-test", None));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let list: Value = s.get("/api/v1/programmes", None).json().unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let list: Value = s.get("/api/v1/obligations", None).json().unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let viewer = s.token("viewer");
    assert_eq!(
        s.get("/api/v1/programmes/kz-ru-test", Some(&viewer))
            .status(),
        StatusCode::OK
    );
    let list: Value = s.get("/api/v1/obligations", Some(&viewer)).json().unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
}

#[test]
fn stale_or_missing_if_match_changes_nothing_and_one_of_two_concurrent_writers_wins() {
    let s = Setup::new();
    let admin = s.token("admin");
    let item = s.item("1.2");
    let id = item["id"].as_str().unwrap();
    let res = s.get(&format!("/api/v1/obligations/{id}"), None);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let (status, body) = problem(s.patch(id, Some(&admin), None, json!({"timeframe": "2026"})));
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (StatusCode::PRECONDITION_REQUIRED, "precondition_required")
    );
    let res = s.patch(
        id,
        Some(&admin),
        Some(1),
        json!({"timeframe": "III quarter 2025"}),
    );
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let (status, _) = problem(s.patch(id, Some(&admin), Some(1), json!({"timeframe": "2026"})));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(s.item("1.2")["timeframe"]["text"], "III quarter 2025");

    // Several writers change the same version at once: exactly one wins, the
    // others are told it is stale (never a 500: on SQLite a deferred
    // transaction would fail with SQLITE_BUSY_SNAPSHOT here).
    let writers = [
        "secretariat",
        "kz-editor",
        "admin",
        "secretariat",
        "kz-editor",
        "admin",
        "secretariat",
        "admin",
    ];
    let tokens: Vec<String> = writers.iter().map(|w| s.token(w)).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let s = &s;
                scope.spawn(move || {
                    s.patch(
                        id,
                        Some(t),
                        Some(2),
                        json!({"timeframe": format!("{}-10-01", 2025 + i % 2)}),
                    )
                    .status()
                    .as_u16()
                })
            })
            .collect();
        let mut statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        statuses.sort();
        assert_eq!(statuses, [200, 412, 412, 412, 412, 412, 412, 412]);
    });
    let after = s.item("1.2");
    assert_eq!(after["version"], 3);
    assert!(["2025-10-01", "2026-10-01"].contains(&after["timeframe"]["text"].as_str().unwrap()));
}

fn audit_rows(s: &Setup, entity: &str, id: &str) -> Vec<Value> {
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

#[test]
fn every_write_leaves_one_audit_entry_and_a_failed_write_none() {
    let s = Setup::new();
    let kz = s.token("kz-editor");
    let id = s.item("1.2")["id"].as_str().unwrap().to_string();
    assert_eq!(
        audit_rows(&s, "obligation", &id).len(),
        1,
        "created by the import"
    );
    let res = s.patch(
        &id,
        Some(&kz),
        Some(1),
        json!({"timeframe": "2026-Q1", "text": {"en": "Days of Culture", "ru": "Дни культуры"}}),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let rows = audit_rows(&s, "obligation", &id);
    assert_eq!(rows.len(), 2);
    let update = rows.iter().find(|r| r["action"] == "update").unwrap();
    assert_eq!(update["actor"], "user:kz-editor");
    let before: Value = serde_json::from_str(update["before"].as_str().unwrap()).unwrap();
    let after: Value = serde_json::from_str(update["after"].as_str().unwrap()).unwrap();
    assert_eq!(before["timeframe_text"], "2025");
    assert_eq!(after["timeframe_text"], "2026-Q1");
    assert_eq!(after["version"], 2);

    let pool = s.db.pool();
    let counts = table_counts(&pool);
    let (status, body) = problem(s.patch(&id, Some(&kz), Some(2), json!({"timeframe": "2026-Q5"})));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "timeframe");
    assert!(body["errors"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("quarter 5"));
    let (status, _) = problem(s.report(&id, Some(&kz), json!({"party": "RU", "lifecycle": "completed", "completion": "complete", "as_of": "2025-07-01"})));
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        table_counts(&pool),
        counts,
        "a failed write wrote something"
    );

    let res = s.report(&id, Some(&kz), json!({
        "party": "KZ", "lifecycle": "completed", "completion": "complete", "as_of": "2025-07-31",
        "narrative": {"ru": "Проведено в Москве"},
        "evidence": [{"kind": "press_release", "url": "https://example.org/news/1"}]
    }));
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().unwrap();
    assert_eq!(created["overall"]["lifecycle"], "completed");
    assert_eq!(created["status"][0]["party"], "KZ");
    let report_id = created["report"]["id"].as_str().unwrap();
    assert_eq!(audit_rows(&s, "status_report", report_id).len(), 1);
}

#[test]
fn malformed_input_is_a_problem_naming_the_field_and_changes_nothing() {
    let s = Setup::new();
    let admin = s.token("admin");
    let id = s.item("1.2")["id"].as_str().unwrap().to_string();
    let pool = s.db.pool();
    let counts = table_counts(&pool);
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"colour": "red"}), 400, "colour"),
        (json!({"firmness": 3}), 400, "firmness"),
        (json!({"kind": "parade"}), 400, "kind"),
        (json!({"text": {"xx": "text"}}), 400, "text"),
        (json!({"text": {"en": "   "}}), 400, "text"),
        (
            json!({"assignments": [{"organisation": "nobody", "role": "lead"}]}),
            400,
            "assignments[0].organisation",
        ),
        (
            json!({"assignments": [{"organisation": "kz-mci", "role": "boss"}]}),
            400,
            "assignments[0].role",
        ),
        (json!({"lifecycle": "done"}), 400, "lifecycle"),
    ];
    for (body, want, field) in cases {
        let res = s.patch(&id, Some(&admin), Some(1), body.clone());
        assert_ne!(res.status(), StatusCode::OK, "accepted: {body}");
        let (status, problem) = problem(res);
        assert_eq!(status.as_u16(), want, "{body}");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.iter().any(|f| f.contains(field)),
            "{body}: {problem}"
        );
    }
    let (status, _) = problem(s.report(
        &id,
        Some(&admin),
        json!({"party": "KZ", "lifecycle": "completed", "completion": "complete"}),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = problem(s.report(&id, Some(&admin), json!({"party": "KZ", "lifecycle": "completed", "completion": "complete", "as_of": "2099-01-01"})));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Not JSON, deeply nested JSON, an oversize body, the wrong media type.
    let raw = |body: String, content_type: &str| {
        s.client
            .patch(s.server.url(&format!("/api/v1/obligations/{id}")))
            .bearer_auth(&admin)
            .header("if-match", "\"1\"")
            .header("content-type", content_type)
            .body(body)
            .send()
            .unwrap()
    };
    assert_eq!(
        problem(raw("{not json".into(), "application/json")).0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        problem(raw(
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)),
            "application/json"
        ))
        .0,
        StatusCode::BAD_REQUEST
    );
    let huge = json!({"text": {"en": "x".repeat(300 * 1024)}}).to_string();
    assert_eq!(
        problem(raw(huge, "application/json")).0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        problem(raw("{}".into(), "text/plain")).0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    // Invalid UUIDs in paths, unknown query parameters.
    assert_eq!(
        problem(s.get("/api/v1/obligations/not-a-uuid", None)).0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        problem(s.get("/api/v1/obligations?colour=red", None)).0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        problem(s.get("/api/v1/obligations?limit=0", None)).0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        problem(s.get("/api/v1/obligations?overdue=maybe", None)).0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(table_counts(&pool), counts);

    // SQL and script fragments are stored verbatim and come back as data.
    let nasty = "'); DROP TABLE obligations; -- <script>alert(1)</script>";
    let res = s.patch(&id, Some(&admin), Some(1), json!({"text": {"en": nasty}}));
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(s.item("1.2")["text"]["en"], nasty);
}

#[test]
fn lists_filter_and_pages_stay_stable_while_items_are_added() {
    let s = Setup::new();
    let viewer = s.token("viewer");
    let numbers = |path: &str| -> Vec<String> {
        let page: Value = s.get(path, Some(&viewer)).json().unwrap();
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["number"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        numbers("/api/v1/obligations?programme=kz-ru-test"),
        ["1.1", "1.2", "2.1", "2.2"]
    );
    assert_eq!(
        numbers("/api/v1/obligations?programme=kz-ru-test&section=libraries"),
        ["2.1", "2.2"]
    );
    assert_eq!(numbers("/api/v1/obligations?party=RU"), ["1.1", "2.1"]);
    assert_eq!(
        numbers("/api/v1/obligations?organisation=kz-mci"),
        ["1.1", "1.2"]
    );
    // On 2025-08-01 only the tour (due 30 June, Russia silent) is overdue.
    assert_eq!(numbers("/api/v1/obligations?overdue=true"), ["1.1"]);
    assert_eq!(
        numbers("/api/v1/obligations?due_from=2025-01-01&due_to=2025-12-31"),
        ["1.1", "1.2"]
    );
    assert_eq!(
        numbers("/api/v1/obligations?completion=no_evidence"),
        ["1.1", "1.2", "2.1", "2.2"]
    );
    // Text in any language, ignoring case, Cyrillic included.
    assert_eq!(
        numbers("/api/v1/obligations?q=%D0%93%D0%90%D0%A1%D0%A2%D0%A0%D0%9E%D0%9B%D0%98"),
        ["1.1"]
    ); // ГАСТРОЛИ
    assert_eq!(numbers("/api/v1/obligations?q=catalogue"), ["2.2"]);
    assert_eq!(
        numbers("/api/v1/obligations?q=100%25"),
        Vec::<String>::new()
    );
    let total: Value = s
        .get("/api/v1/obligations?party=RU", Some(&viewer))
        .json()
        .unwrap();
    assert_eq!(total["total"], 2);

    // Page through two at a time while new items are added between pages.
    let first: Value = s
        .get(
            "/api/v1/obligations?programme=kz-ru-test&limit=2",
            Some(&viewer),
        )
        .json()
        .unwrap();
    let mut seen: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["number"].as_str().unwrap().to_string())
        .collect();
    let mut cursor = first["next_cursor"].as_str().map(str::to_string);
    let added = FIXTURE.replace(
        "          - number: \"2.2\"",
        "          - {number: \"2.3\", text: {en: Added later}, kind: other, timeframe: \"2026\"}\n          - number: \"2.2\"",
    );
    let pool = s.db.pool();
    let mut conn = pool.get().unwrap();
    accord::import::import_str(&mut conn, &added, &write_context("test")).unwrap();
    drop(conn);
    while let Some(c) = cursor {
        let page: Value = s
            .get(
                &format!("/api/v1/obligations?programme=kz-ru-test&limit=2&cursor={c}"),
                Some(&viewer),
            )
            .json()
            .unwrap();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["number"].as_str().unwrap().to_string()),
        );
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    // Nothing seen twice, nothing skipped; the new item, placed after the
    // first page in source order, is seen once.
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "{seen:?}");
    for n in ["1.1", "1.2", "2.1", "2.2", "2.3"] {
        assert!(seen.contains(&n.to_string()), "{n} skipped: {seen:?}");
    }
    assert_eq!(
        problem(s.get("/api/v1/obligations?cursor=zz", Some(&viewer))).0,
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn the_openapi_description_and_the_docs_page_are_served() {
    let s = Setup::new();
    let spec: Value = s.get("/api/v1/openapi.json", None).json().unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/obligations",
        "/api/v1/obligations/{id}",
        "/api/v1/obligations/{id}/reports",
        "/api/v1/auth/token",
        "/api/v1/audit",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    let docs = s.get("/docs/", None);
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().unwrap().to_lowercase().contains("swagger"));
}

#[test]
fn display_values_follow_lang_then_accept_language_with_russian_then_english_fallback() {
    let s = Setup::new();
    let id = s.item("1.1")["id"].as_str().unwrap().to_string(); // en and ru only
    let display = |query: &str, accept: Option<&str>| -> Value {
        let mut req = s
            .client
            .get(s.server.url(&format!("/api/v1/obligations/{id}{query}")));
        if let Some(a) = accept {
            req = req.header("accept-language", a);
        }
        let body: Value = req.send().unwrap().json().unwrap();
        assert_eq!(
            body["text"],
            json!({"en": "Tour of a theatre", "ru": "Гастроли театра"}),
            "returned whole"
        );
        body["text_display"].clone()
    };
    assert_eq!(display("?lang=en", None), "Tour of a theatre");
    assert_eq!(display("", Some("en-GB,en;q=0.9")), "Tour of a theatre");
    assert_eq!(
        display("", Some("kk-KZ")),
        "Гастроли театра",
        "no Kazakh text: Russian"
    );
    assert_eq!(display("?lang=kk", Some("en")), "Гастроли театра");
    assert_eq!(display("", None), "Гастроли театра");
    let (status, body) = problem(s.get(&format!("/api/v1/obligations/{id}?lang=xx"), None));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "lang");
    let programme: Value = s
        .get("/api/v1/programmes/kz-ru-test?lang=en", None)
        .json()
        .unwrap();
    assert_eq!(programme["title_display"], "Test programme 2024-2026");
    assert_eq!(
        programme["sections"][0]["title_display"],
        "Theatre and music"
    );
    let list: Value = s
        .get("/api/v1/obligations?programme=kz-ru-test&lang=en", None)
        .json()
        .unwrap();
    assert_eq!(list["items"][0]["text_display"], "Tour of a theatre");
}

#[test]
fn instants_cross_the_api_as_rfc_3339_with_offset() {
    let s = Setup::new();
    let res = s
        .client
        .post(s.server.url("/api/v1/auth/token"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .unwrap();
    let issued: Value = res.json().unwrap();
    chrono::DateTime::parse_from_rfc3339(issued["expires_at"].as_str().unwrap()).unwrap();
    let admin = issued["token"].as_str().unwrap().to_string();
    let id = s.item("1.2")["id"].as_str().unwrap().to_string();
    let created: Value = s
        .report(&id, Some(&admin), json!({"party": "KZ", "lifecycle": "in_progress", "completion": "limited", "as_of": "2025-07-01"}))
        .json()
        .unwrap();
    let at =
        chrono::DateTime::parse_from_rfc3339(created["report"]["reported_at"].as_str().unwrap())
            .unwrap();
    assert_eq!(at.offset().local_minus_utc(), 0);
    let audit: Value = s
        .get("/api/v1/audit?entity=status_report", Some(&admin))
        .json()
        .unwrap();
    chrono::DateTime::parse_from_rfc3339(audit["items"][0]["at"].as_str().unwrap()).unwrap();
    // Dates stay dates.
    assert_eq!(created["report"]["as_of"], "2025-07-01");
}

#[test]
fn operation_ids_are_unique() {
    let s = Setup::new();
    let spec: Value = s.get("/api/v1/openapi.json", None).json().unwrap();
    let mut ids = Vec::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                ids.push(id.to_string());
            }
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate operation ids");
    assert!(ids.contains(&"delete_auth_token".to_string()), "{ids:?}");
}
