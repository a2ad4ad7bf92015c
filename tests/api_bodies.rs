//! Agreements, bodies, meetings and decisions over HTTP, including the
//! decisions that postpone, cancel, supersede or close obligations.

mod common;

use common::api::*;
use common::*;
use reqwest::blocking::Response;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Sends a request with an optional token, If-Match and JSON body.
fn send(
    s: &Setup,
    method: &str,
    path: &str,
    token: Option<&str>,
    if_match: Option<i64>,
    body: Option<Value>,
) -> Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let content_type = if method == reqwest::Method::PATCH {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let mut req = s.client.request(method, s.server.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(v) = if_match {
        req = req.header("if-match", format!("\"{v}\""));
    }
    if let Some(b) = body {
        req = req.header("content-type", content_type).body(b.to_string());
    }
    req.send().unwrap()
}

fn etag(res: &Response) -> String {
    res.headers()["etag"].to_str().unwrap().to_string()
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

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn agreement(
    key: &str,
    kind: &str,
    level: &str,
    title: Value,
    parties: &[&str],
    signed: &str,
) -> Value {
    json!({"key": key, "kind": kind, "level": level, "title": title, "parties": parties, "signed": signed})
}

fn meeting_4(s: &Setup, token: &str) -> String {
    let page: Value = s
        .get("/api/v1/bodies/kz-ru-sc/meetings", Some(token))
        .json()
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["number"] == 4)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn agreements_are_created_read_changed_and_deleted_under_if_match() {
    let s = Setup::new();
    let secretariat = s.token("secretariat");
    let new = json!({
        "key": "kz-ru-2025-culture",
        "kind": "agreement",
        "title": {"en": "Agreement on culture", "ru": "Соглашение о культуре"},
        "parties": ["KZ", "RU"],
        "signatories": ["kz-mci", "ru-mkrf"],
        "signed": "14 October 2025",
        "place": "Astana",
        "in_force": "2025-12-01",
        "term_months": 60,
        "renewal_months": 60,
        "notice_months": 6,
        "valid_until": "2030",
        "source": "S9"
    });
    // Anonymous callers, viewers and editors may not write agreements.
    for (token, want) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(s.token("viewer")), StatusCode::FORBIDDEN),
        (Some(s.token("kz-editor")), StatusCode::FORBIDDEN),
    ] {
        let (status, _) = problem(send(
            &s,
            "POST",
            "/api/v1/agreements",
            token.as_deref(),
            None,
            Some(new.clone()),
        ));
        assert_eq!(status, want);
    }
    let res = send(
        &s,
        "POST",
        "/api/v1/agreements",
        Some(&secretariat),
        None,
        Some(new.clone()),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(etag(&res), "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let created: Value = res.json().unwrap();
    assert_eq!(
        location,
        format!("/api/v1/agreements/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(created["signed"]["kind"], "date");
    assert_eq!(created["signed"]["text"], "14 October 2025");
    assert_eq!(created["signed"]["earliest"], "2025-10-14");
    assert_eq!(created["valid_until"], "2030-12-31");
    assert_eq!(created["signatories"], json!(["kz-mci", "ru-mkrf"]));
    assert_eq!(created["title_display"], "Соглашение о культуре");
    // The same key again is refused, naming the key.
    let (status, body) = problem(send(
        &s,
        "POST",
        "/api/v1/agreements",
        Some(&secretariat),
        None,
        Some(new.clone()),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(fields(&body), ["key"]);

    // Anyone reads it, by key or id, with its ETag.
    let res = s.get(&location, None);
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"1\"");
    let res = s.get("/api/v1/agreements/kz-ru-2025-culture?lang=en", None);
    assert_eq!(
        res.json::<Value>().unwrap()["title_display"],
        "Agreement on culture"
    );

    let path = "/api/v1/agreements/kz-ru-2025-culture";
    let (status, _) = problem(send(
        &s,
        "PATCH",
        path,
        Some(&secretariat),
        None,
        Some(json!({"place": "Almaty"})),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let res = send(
        &s,
        "PATCH",
        path,
        Some(&secretariat),
        Some(1),
        Some(json!({"place": "Almaty", "note": null})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"2\"");
    assert_eq!(res.json::<Value>().unwrap()["place"], "Almaty");
    // A change of signatories alone is a change of the agreement: its version moves.
    let res = send(
        &s,
        "PATCH",
        path,
        Some(&secretariat),
        Some(2),
        Some(json!({"signatories": ["kz-mci"]})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"3\"");
    assert_eq!(
        res.json::<Value>().unwrap()["signatories"],
        json!(["kz-mci"])
    );
    let (status, _) = problem(send(
        &s,
        "PUT",
        path,
        Some(&secretariat),
        Some(2),
        Some(new.clone()),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let res = send(
        &s,
        "PUT",
        path,
        Some(&secretariat),
        Some(3),
        Some(new.clone()),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let replaced: Value = res.json().unwrap();
    assert_eq!(replaced["version"], 4);
    assert_eq!(replaced["place"], "Astana");
    assert_eq!(replaced["signatories"], json!(["kz-mci", "ru-mkrf"]));

    // Referenced agreements are kept: 409 says what to do instead.
    let a1994: Value = s.get("/api/v1/agreements/kz-ru-1994", None).json().unwrap();
    let (status, body) = problem(send(
        &s,
        "DELETE",
        "/api/v1/agreements/kz-ru-1994",
        Some(&secretariat),
        Some(a1994["version"].as_i64().unwrap()),
        None,
    ));
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["detail"].as_str().unwrap().contains("programme"),
        "{body}"
    );

    let (status, _) = problem(send(&s, "DELETE", path, Some(&secretariat), Some(3), None));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let res = send(&s, "DELETE", path, Some(&secretariat), Some(4), None);
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, _) = problem(s.get(path, None));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let id = created["id"].as_str().unwrap();
    let actions: Vec<String> = audit(&s, "agreement", id)
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_string())
        .collect();
    // One entry per write of the row (all at the test clock's instant, so
    // compared sorted); the signatory change is audited as its links.
    let mut actions = actions;
    actions.sort();
    assert_eq!(actions, ["create", "delete", "update", "update"]);
}

#[test]
fn agreements_filter_and_page_stably_while_rows_are_inserted() {
    let s = Setup::new();
    let admin = s.token("admin");
    let rows = [
        agreement(
            "a-kz-ru-theatre",
            "memorandum",
            "interministerial",
            json!({"ru": "Меморандум о театрах Москвы"}),
            &["KZ", "RU"],
            "2019",
        ),
        agreement(
            "c-kus-sve",
            "agreement",
            "regional",
            json!({"en": "Kostanay and Sverdlovsk regions"}),
            &["KZ-KUS", "RU"],
            "2021-05-14",
        ),
        agreement(
            "e-kz-ru-film",
            "memorandum",
            "institutional",
            json!({"en": "Film archives"}),
            &["KZ", "RU"],
            "II quarter 2023",
        ),
        agreement(
            "g-kz-ru-museums",
            "roadmap",
            "interministerial",
            json!({"en": "Museums roadmap", "kk": "МУЗЕЙЛЕР"}),
            &["KZ", "RU"],
            "2024-02",
        ),
    ];
    for body in rows {
        let res = send(
            &s,
            "POST",
            "/api/v1/agreements",
            Some(&admin),
            None,
            Some(body),
        );
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let keys = |path: &str| -> (Vec<String>, i64) {
        let page: Value = s.get(path, None).json().unwrap();
        (
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["key"].as_str().unwrap().to_string())
                .collect(),
            page["total"].as_i64().unwrap(),
        )
    };
    assert_eq!(keys("/api/v1/agreements").1, 6);
    assert_eq!(
        keys("/api/v1/agreements?kind=memorandum"),
        (
            vec![
                "a-kz-ru-theatre".into(),
                "e-kz-ru-film".into(),
                "kz-ru-memo-2012".into()
            ],
            3
        )
    );
    assert_eq!(keys("/api/v1/agreements?level=regional").0, ["c-kus-sve"]);
    assert_eq!(keys("/api/v1/agreements?party=KZ-KUS").0, ["c-kus-sve"]);
    assert_eq!(keys("/api/v1/agreements?party=XX").1, 0);
    // The signature range overlaps the filter: "II quarter 2023" is in 2023-06.
    assert_eq!(
        keys("/api/v1/agreements?signed_from=2023-06-01&signed_to=2024-12-31").0,
        ["e-kz-ru-film", "g-kz-ru-museums"]
    );
    assert_eq!(
        keys("/api/v1/agreements?signed_to=1995-01-01").0,
        ["kz-ru-1994"]
    );
    // Text in any language, ignoring case beyond ASCII.
    assert_eq!(
        keys("/api/v1/agreements?q=%D0%BC%D0%BE%D1%81%D0%BA%D0%B2%D1%8B").0,
        ["a-kz-ru-theatre"]
    ); // "москвы"
    assert_eq!(
        keys("/api/v1/agreements?q=%D0%BC%D1%83%D0%B7%D0%B5%D0%B9").0,
        ["g-kz-ru-museums"]
    ); // "музей"
    assert_eq!(
        keys("/api/v1/agreements?q=kk").1,
        0,
        "language codes are not text"
    );
    assert_eq!(
        keys("/api/v1/agreements?q=memorandum&kind=memorandum").0,
        ["kz-ru-memo-2012"]
    );
    let (status, body) = problem(s.get(
        "/api/v1/agreements?signed_from=2024-01-01&signed_to=2023-01-01",
        None,
    ));
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::BAD_REQUEST, vec!["signed_to".to_string()])
    );
    let (status, _) = problem(s.get("/api/v1/agreements?kind=pact", None));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = problem(s.get("/api/v1/agreements?cursor=zz", None));
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::BAD_REQUEST, vec!["cursor".to_string()])
    );

    // Pages of two, in key order; rows inserted behind and ahead of the cursor meanwhile.
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut inserted = false;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/agreements?limit=2&cursor={c}"),
            None => "/api/v1/agreements?limit=2".to_string(),
        };
        let page: Value = s.get(&path, None).json().unwrap();
        for a in page["items"].as_array().unwrap() {
            seen.push(a["key"].as_str().unwrap().to_string());
        }
        if !inserted {
            inserted = true;
            for key in ["b-behind", "z-ahead"] {
                let body = agreement(
                    key,
                    "agreement",
                    "intergovernmental",
                    json!({"en": key}),
                    &["KZ", "RU"],
                    "2025",
                );
                assert_eq!(
                    send(
                        &s,
                        "POST",
                        "/api/v1/agreements",
                        Some(&admin),
                        None,
                        Some(body)
                    )
                    .status(),
                    StatusCode::CREATED
                );
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "a-kz-ru-theatre",
            "c-kus-sve",
            "e-kz-ru-film",
            "g-kz-ru-museums",
            "kz-ru-1994",
            "kz-ru-memo-2012",
            "z-ahead"
        ],
        "each row once, in order; the one inserted behind the cursor is not seen"
    );
}

#[test]
fn bodies_are_read_by_users_only_and_written_by_admins_and_their_secretariats() {
    let s = Setup::new();
    let admin = s.token("admin");
    let secretariat = s.token("secretariat");
    let other = s.token("other-secretariat");
    let viewer = s.token("viewer");
    let (status, _) = problem(s.get("/api/v1/bodies", None));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = problem(s.get("/api/v1/bodies/kz-ru-sc", None));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let page: Value = s.get("/api/v1/bodies", Some(&viewer)).json().unwrap();
    assert_eq!(page["total"], 2);
    let res = s.get("/api/v1/bodies/kz-ru-sc?lang=ru", Some(&viewer));
    assert_eq!(etag(&res), "\"1\"");
    let sc: Value = res.json().unwrap();
    assert_eq!(sc["parent"], "kz-ru-igc");
    assert_eq!(sc["parties"], json!(["KZ", "RU"]));
    assert_eq!(sc["co_chairs"]["RU"], "Minister of Culture");
    let children: Value = s
        .get("/api/v1/bodies?parent=kz-ru-igc", Some(&viewer))
        .json()
        .unwrap();
    assert_eq!(children["items"][0]["key"], "kz-ru-sc");

    let wg = json!({
        "key": "kz-ru-wg-museums", "kind": "working_group",
        "name": {"en": "Working group on museums", "ru": "Рабочая группа по музеям"},
        "parent": "kz-ru-sc", "agreement": "kz-ru-1994",
        "parties": ["KZ", "RU"], "co_chairs": {"KZ": "Director of museums"}
    });
    for (token, want) in [(&secretariat, 403), (&viewer, 403)] {
        let res = send(
            &s,
            "POST",
            "/api/v1/bodies",
            Some(token),
            None,
            Some(wg.clone()),
        );
        assert_eq!(res.status().as_u16(), want);
    }
    let res = send(
        &s,
        "POST",
        "/api/v1/bodies",
        Some(&admin),
        None,
        Some(wg.clone()),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().unwrap();
    assert_eq!(created["agreement"], "kz-ru-1994");
    assert_eq!(created["co_chairs"], json!({"KZ": "Director of museums"}));
    let path = "/api/v1/bodies/kz-ru-wg-museums";
    // The secretariat of kz-ru-sc does not serve the new group.
    let res = send(
        &s,
        "PATCH",
        path,
        Some(&secretariat),
        Some(1),
        Some(json!({"name": {"en": "Museums"}})),
    );
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // It does serve kz-ru-sc; a change of co-chairs alone moves the version.
    let res = send(
        &s,
        "PATCH",
        "/api/v1/bodies/kz-ru-sc",
        Some(&secretariat),
        Some(1),
        Some(json!({"co_chairs": {"RU": "Deputy Minister of Culture"}})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"2\"");
    let sc: Value = res.json().unwrap();
    assert_eq!(
        sc["co_chairs"],
        json!({"KZ": "Minister of Culture and Information", "RU": "Deputy Minister of Culture"})
    );
    let res = send(
        &s,
        "PATCH",
        "/api/v1/bodies/kz-ru-sc",
        Some(&other),
        Some(2),
        Some(json!({"kind": "board"})),
    );
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A body cannot sit under itself or its own sub-body.
    let (status, body) = problem(send(
        &s,
        "PATCH",
        "/api/v1/bodies/kz-ru-igc",
        Some(&admin),
        Some(1),
        Some(json!({"parent": "kz-ru-wg-museums"})),
    ));
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::BAD_REQUEST, vec!["parent".to_string()])
    );

    // A body with meetings, programmes or sub-bodies is kept.
    let (status, _) = problem(send(
        &s,
        "DELETE",
        "/api/v1/bodies/kz-ru-sc",
        Some(&admin),
        Some(2),
        None,
    ));
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = problem(send(&s, "DELETE", path, Some(&secretariat), Some(1), None));
    assert_eq!(status, StatusCode::FORBIDDEN);
    let res = send(
        &s,
        "PUT",
        path,
        Some(&admin),
        Some(1),
        Some(
            json!({"key": "kz-ru-wg-museums", "kind": "working_group", "name": {"en": "Museums"}}),
        ),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let replaced: Value = res.json().unwrap();
    assert_eq!(
        (
            replaced["version"].clone(),
            replaced["parties"].clone(),
            replaced["parent"].clone()
        ),
        (json!(2), json!([]), Value::Null)
    );
    let res = send(&s, "DELETE", path, Some(&admin), Some(2), None);
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, _) = problem(s.get(path, Some(&admin)));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let actions: Vec<String> = audit(&s, "body", created["id"].as_str().unwrap())
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_string())
        .collect();
    let mut actions = actions;
    actions.sort();
    assert_eq!(actions, ["create", "delete", "update"]);
}

#[test]
fn meetings_resolve_local_times_reject_dst_gaps_and_follow_body_access() {
    let s = Setup::new();
    let secretariat = s.token("secretariat");
    let pool = s.db.pool();
    let path = "/api/v1/bodies/kz-ru-sc/meetings";
    let tokens: std::collections::HashMap<&str, String> =
        ["other-secretariat", "kz-editor", "viewer"]
            .into_iter()
            .map(|u| (u, s.token(u)))
            .collect();
    let gap = json!({"number": 5, "title": {"en": "Fifth meeting"}, "date": "2025-03-30", "time": "02:30", "time_zone": "Europe/Berlin", "city": "Berlin"});
    let counts = table_counts(&pool);
    let (status, body) = problem(send(
        &s,
        "POST",
        path,
        Some(&secretariat),
        None,
        Some(gap.clone()),
    ));
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::BAD_REQUEST, vec!["time".to_string()])
    );
    let reason = body["errors"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("does not exist in Europe/Berlin") && reason.contains("02:00 to 03:00"),
        "{reason}"
    );
    assert_eq!(table_counts(&pool), counts);

    // Who may add a meeting to kz-ru-sc.
    let ambiguous = json!({"number": 5, "title": {"en": "Fifth meeting"}, "date": "2025-10-26", "time": "02:30", "time_zone": "Europe/Berlin", "status": "planned"});
    for (user, want) in [
        ("other-secretariat", 403),
        ("kz-editor", 403),
        ("viewer", 403),
    ] {
        let res = send(
            &s,
            "POST",
            path,
            Some(&tokens[user]),
            None,
            Some(ambiguous.clone()),
        );
        assert_eq!(res.status().as_u16(), want, "{user}");
    }
    assert_eq!(
        send(&s, "POST", path, None, None, Some(ambiguous.clone())).status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(table_counts(&pool), counts);
    // 02:30 happens twice that night in Berlin: the earlier instant, at +02:00.
    let res = send(
        &s,
        "POST",
        path,
        Some(&secretariat),
        None,
        Some(ambiguous.clone()),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let created: Value = res.json().unwrap();
    assert_eq!(created["starts_at"], "2025-10-26T00:30:00Z");
    assert_eq!(created["time"], "02:30");
    assert!(created["tzdata_version"].as_str().unwrap() >= "2024a");
    assert_eq!(
        location,
        format!("/api/v1/meetings/{}", created["id"].as_str().unwrap())
    );
    let (status, body) = problem(send(
        &s,
        "POST",
        path,
        Some(&secretariat),
        None,
        Some(ambiguous.clone()),
    ));
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::BAD_REQUEST, vec!["number".to_string()])
    );

    // An explicit offset picks the later instant, and a PATCH of something else keeps it.
    let res = send(
        &s,
        "PATCH",
        &location,
        Some(&secretariat),
        Some(1),
        Some(json!({"offset": "+01:00"})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().unwrap()["starts_at"],
        "2025-10-26T01:30:00Z"
    );
    let res = send(
        &s,
        "PATCH",
        &location,
        Some(&secretariat),
        Some(2),
        Some(json!({"city": "Berlin"})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let patched: Value = res.json().unwrap();
    assert_eq!(
        (
            patched["starts_at"].as_str(),
            patched["city"].as_str(),
            patched["version"].as_i64()
        ),
        (Some("2025-10-26T01:30:00Z"), Some("Berlin"), Some(3))
    );
    // Moving it into the gap is refused and changes nothing.
    let (status, body) = problem(send(
        &s,
        "PATCH",
        &location,
        Some(&secretariat),
        Some(3),
        Some(json!({"date": "2025-03-30", "offset": null})),
    ));
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::BAD_REQUEST, vec!["time".to_string()])
    );
    let res = s.get(&location, Some(&secretariat));
    assert_eq!(etag(&res), "\"3\"");

    let page: Value = s.get(path, Some(&secretariat)).json().unwrap();
    assert_eq!(page["total"], 2);
    let page: Value = s
        .get(&format!("{path}?status=planned"), Some(&secretariat))
        .json()
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let first: Value = s
        .get(&format!("{path}?limit=1"), Some(&secretariat))
        .json()
        .unwrap();
    assert_eq!(first["items"][0]["number"], 4);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = s
        .get(
            &format!("{path}?limit=1&cursor={cursor}"),
            Some(&secretariat),
        )
        .json()
        .unwrap();
    assert_eq!(second["items"][0]["number"], 5);
    assert_eq!(second["next_cursor"], Value::Null);
    // Bodies and their meetings need a token to read.
    let (status, _) = problem(s.get(&location, None));
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A meeting with decisions or protocol items is kept; an empty one can go.
    let m4 = meeting_4(&s, &secretariat);
    let (status, _) = problem(send(
        &s,
        "DELETE",
        &format!("/api/v1/meetings/{m4}"),
        Some(&secretariat),
        Some(1),
        None,
    ));
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = problem(send(
        &s,
        "DELETE",
        &location,
        Some(&tokens["other-secretariat"]),
        Some(3),
        None,
    ));
    assert_eq!(status, StatusCode::FORBIDDEN);
    let res = send(&s, "DELETE", &location, Some(&secretariat), Some(3), None);
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, _) = problem(s.get(&location, Some(&secretariat)));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = problem(s.get("/api/v1/meetings/not-a-uuid", Some(&secretariat)));
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::BAD_REQUEST, vec!["id".to_string()])
    );
}

#[test]
fn a_postpone_decision_moves_the_item_and_records_why() {
    let s = Setup::new();
    let secretariat = s.token("secretariat");
    let item = s.item("1.2");
    let id = item["id"].as_str().unwrap().to_string();
    let res = s.get(&format!("/api/v1/obligations/{id}"), None);
    assert_eq!(etag(&res), "\"1\"");
    let m4 = meeting_4(&s, &secretariat);
    let res = send(
        &s,
        "POST",
        &format!("/api/v1/meetings/{m4}/decisions"),
        Some(&secretariat),
        None,
        Some(json!({
            "number": "2", "kind": "postpone",
            "text": {"en": "Postpone the Days of Culture", "ru": "Перенести Дни культуры"},
            "effects": [{"obligation": id, "timeframe": "II quarter 2026"}]
        })),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let decision: Value = res.json().unwrap();
    assert_eq!(decision["text_display"], "Перенести Дни культуры");
    let effect = &decision["effects"][0];
    assert_eq!(effect["obligation_number"], "1.2");
    assert_eq!(
        (
            effect["before_lifecycle"].as_str(),
            effect["after_lifecycle"].as_str()
        ),
        (Some("planned"), Some("postponed"))
    );
    assert_eq!(
        (
            effect["before_timeframe"].as_str(),
            effect["after_timeframe"].as_str()
        ),
        (Some("2025"), Some("II quarter 2026"))
    );

    // The item moved, and its ETag with it.
    let res = s.get(&format!("/api/v1/obligations/{id}"), None);
    assert_eq!(etag(&res), "\"2\"");
    let moved: Value = res.json().unwrap();
    assert_eq!(moved["lifecycle"], "postponed");
    assert_eq!(moved["timeframe"]["text"], "II quarter 2026");
    assert_eq!(moved["timeframe"]["earliest"], "2026-04-01");
    assert_eq!(moved["timeframe"]["latest"], "2026-06-30");

    // The audit has the item before and after, the decision and its effect.
    let rows = audit(&s, "obligation", &id);
    let update = rows.iter().find(|r| r["action"] == "update").unwrap();
    assert_eq!(update["actor"], "user:secretariat");
    let before: Value = serde_json::from_str(update["before"].as_str().unwrap()).unwrap();
    let after: Value = serde_json::from_str(update["after"].as_str().unwrap()).unwrap();
    assert_eq!(
        (
            before["lifecycle"].as_str(),
            before["timeframe_text"].as_str()
        ),
        (Some("planned"), Some("2025"))
    );
    assert_eq!(
        (
            after["lifecycle"].as_str(),
            after["timeframe_text"].as_str(),
            after["version"].as_i64()
        ),
        (Some("postponed"), Some("II quarter 2026"), Some(2))
    );
    let decision_id = decision["id"].as_str().unwrap();
    assert_eq!(audit(&s, "decision", decision_id).len(), 1);
    assert_eq!(
        audit(&s, "decision_effect", &format!("{decision_id}/{id}")).len(),
        1
    );

    // The decision shows its effects; the item lists the decisions that changed it.
    let res = s.get(&location, Some(&secretariat));
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().unwrap()["effects"][0]["after_timeframe"],
        "II quarter 2026"
    );
    let history: Value = s
        .get(&format!("/api/v1/obligations/{id}/decisions"), None)
        .json()
        .unwrap();
    let entry = &history["items"][0];
    assert_eq!(
        (
            entry["decision_number"].as_str(),
            entry["meeting_number"].as_i64(),
            entry["effect"]["effect"].as_str()
        ),
        (Some("2"), Some(4), Some("postpone"))
    );
    let decisions: Value = s
        .get(
            &format!("/api/v1/meetings/{m4}/decisions"),
            Some(&secretariat),
        )
        .json()
        .unwrap();
    assert_eq!(decisions["total"], 2);
    // Postponed again, to a later quarter: allowed.
    let res = send(
        &s,
        "POST",
        &format!("/api/v1/meetings/{m4}/decisions"),
        Some(&secretariat),
        None,
        Some(json!({
            "number": "3", "kind": "postpone", "text": {"en": "Postpone again"},
            "effects": [{"obligation": id, "timeframe": "programme period"}]
        })),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let moved: Value = s
        .get(&format!("/api/v1/obligations/{id}"), None)
        .json()
        .unwrap();
    assert_eq!(
        (
            moved["timeframe"]["latest"].as_str(),
            moved["version"].as_i64()
        ),
        (Some("2026-12-31"), Some(3))
    );
}

#[test]
fn decisions_that_cannot_apply_fail_whole_and_write_nothing() {
    let s = Setup::new();
    let secretariat = s.token("secretariat");
    let admin = s.token("admin");
    let pool = s.db.pool();
    let m4 = meeting_4(&s, &secretariat);
    let decisions = format!("/api/v1/meetings/{m4}/decisions");
    let exchange = s.item("2.1")["id"].as_str().unwrap().to_string();
    let catalogue = s.item("2.2")["id"].as_str().unwrap().to_string();
    let res = send(
        &s,
        "POST",
        &decisions,
        Some(&secretariat),
        None,
        Some(json!({
            "number": "2", "kind": "cancel", "text": {"en": "Cancel the exchange"},
            "effects": [{"obligation": exchange}]
        })),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(s.item("2.1")["lifecycle"], "cancelled");

    let tokens: std::collections::HashMap<&str, String> =
        ["kz-editor", "viewer", "other-secretariat"]
            .into_iter()
            .map(|u| (u, s.token(u)))
            .collect();
    let counts = table_counts(&pool);
    // Cancelling it again would change nothing; the valid second effect is not applied either.
    let (status, body) = problem(send(
        &s,
        "POST",
        &decisions,
        Some(&secretariat),
        None,
        Some(json!({
            "number": "3", "kind": "cancel", "text": {"en": "Cancel both"},
            "effects": [{"obligation": catalogue}, {"obligation": exchange}]
        })),
    ));
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::BAD_REQUEST, vec!["effects[1]".to_string()])
    );
    assert!(
        body["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("already cancelled"),
        "{body}"
    );
    // A cancelled item cannot be postponed.
    let (status, body) = problem(send(
        &s,
        "POST",
        &decisions,
        Some(&secretariat),
        None,
        Some(json!({
            "number": "3", "kind": "postpone", "text": {"en": "Postpone"},
            "effects": [{"obligation": exchange, "timeframe": "2026"}]
        })),
    ));
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::BAD_REQUEST, vec!["effects[0]".to_string()])
    );
    assert!(
        body["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("cannot become postponed"),
        "{body}"
    );
    // Editors and viewers record no decisions; another body's secretariat neither.
    for user in ["kz-editor", "viewer", "other-secretariat"] {
        let res = send(
            &s,
            "POST",
            &decisions,
            Some(&tokens[user]),
            None,
            Some(json!({
                "number": "3", "kind": "close", "text": {"en": "Close"}, "effects": [{"obligation": catalogue}]
            })),
        );
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{user}");
    }
    assert_eq!(
        table_counts(&pool),
        counts,
        "a failed decision wrote something"
    );
    assert_eq!(s.item("2.2")["lifecycle"], "planned");

    // A decision of another body's meeting cannot touch this body's items.
    let res = send(
        &s,
        "POST",
        "/api/v1/bodies/kz-ru-igc/meetings",
        Some(&admin),
        None,
        Some(
            json!({"number": 1, "title": {"en": "First meeting of the commission"}, "date": "2025-11-20"}),
        ),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let igc_meeting: Value = res.json().unwrap();
    assert_eq!(
        igc_meeting["time_zone"], "Asia/Almaty",
        "the first party's zone"
    );
    let counts = table_counts(&pool);
    let (status, body) = problem(send(
        &s,
        "POST",
        &format!(
            "/api/v1/meetings/{}/decisions",
            igc_meeting["id"].as_str().unwrap()
        ),
        Some(&admin),
        None,
        Some(json!({
            "number": "1", "kind": "close", "text": {"en": "Close"}, "effects": [{"obligation": catalogue}]
        })),
    ));
    assert_eq!(
        (status, fields(&body)),
        (
            StatusCode::BAD_REQUEST,
            vec!["effects[0].obligation".to_string()]
        )
    );
    assert_eq!(table_counts(&pool), counts);

    // Supersede names the item that carries it on; close completes.
    let res = send(
        &s,
        "POST",
        &decisions,
        Some(&secretariat),
        None,
        Some(json!({
            "number": "4", "kind": "supersede", "text": {"en": "Carried on by 1.1"},
            "effects": [{"obligation": catalogue, "superseded_by": s.item("1.1")["id"]}]
        })),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let decision: Value = res.json().unwrap();
    assert_eq!(decision["effects"][0]["superseded_by"], s.item("1.1")["id"]);
    assert_eq!(s.item("2.2")["lifecycle"], "superseded");
}

#[test]
fn malformed_input_answers_400_naming_the_field_and_changes_nothing() {
    let s = Setup::new();
    let admin = s.token("admin");
    let pool = s.db.pool();
    let m4 = meeting_4(&s, &admin);
    let item = s.item("1.2")["id"].as_str().unwrap().to_string();
    let good_agreement = json!({"key": "x-new", "kind": "agreement", "title": {"en": "T"}, "parties": ["KZ", "RU"], "signed": "2020-05-05"});
    let with = |base: &Value, change: Value| {
        let mut doc = base.clone();
        for (k, v) in change.as_object().unwrap() {
            doc[k] = v.clone();
        }
        doc
    };
    let good_meeting = json!({"number": 9, "title": {"en": "Ninth"}, "date": "2026-05-05"});
    let good_decision = json!({"number": "9", "kind": "postpone", "text": {"en": "Postpone"}, "effects": [{"obligation": item, "timeframe": "2026"}]});
    let agreements = "/api/v1/agreements".to_string();
    let meetings = "/api/v1/bodies/kz-ru-sc/meetings".to_string();
    let decisions = format!("/api/v1/meetings/{m4}/decisions");
    let cases: Vec<(&String, Value, &str)> = vec![
        (
            &agreements,
            with(&good_agreement, json!({"colour": "red"})),
            "colour",
        ),
        (
            &agreements,
            with(&good_agreement, json!({"key": "Not A Key"})),
            "key",
        ),
        (
            &agreements,
            with(&good_agreement, json!({"kind": "pact"})),
            "kind",
        ),
        (
            &agreements,
            with(&good_agreement, json!({"title": {"xx": "T"}})),
            "title",
        ),
        (
            &agreements,
            with(&good_agreement, json!({"parties": ["KZ"]})),
            "parties",
        ),
        (
            &agreements,
            with(&good_agreement, json!({"parties": ["KZ", "XX"]})),
            "parties[1]",
        ),
        (
            &agreements,
            with(&good_agreement, json!({"signatories": ["nobody"]})),
            "signatories[0]",
        ),
        (
            &agreements,
            with(&good_agreement, json!({"signed": "yesterday"})),
            "signed",
        ),
        (
            &agreements,
            with(&good_agreement, json!({"in_force": "2019-01-01"})),
            "in_force",
        ),
        (
            &agreements,
            with(&good_agreement, json!({"in_force": "someday"})),
            "in_force",
        ),
        (
            &agreements,
            with(&good_agreement, json!({"term_months": 0})),
            "term_months",
        ),
        (
            &agreements,
            with(&good_agreement, json!({"notice_months": "six"})),
            "notice_months",
        ),
        (
            &agreements,
            with(&good_agreement, json!({"valid_until": "2020-13"})),
            "valid_until",
        ),
        (
            &meetings,
            with(&good_meeting, json!({"time_zone": "Mars/Olympus"})),
            "time_zone",
        ),
        (
            &meetings,
            with(
                &good_meeting,
                json!({"time": "25:00", "time_zone": "Asia/Almaty"}),
            ),
            "time",
        ),
        (
            &meetings,
            with(&good_meeting, json!({"time": "10:00"})),
            "time_zone",
        ),
        (
            &meetings,
            with(&good_meeting, json!({"number": 0})),
            "number",
        ),
        (
            &meetings,
            with(&good_meeting, json!({"status": "adjourned"})),
            "status",
        ),
        (
            &meetings,
            with(&good_meeting, json!({"date": "2026-02-30"})),
            "date",
        ),
        (
            &decisions,
            with(&good_decision, json!({"kind": "veto"})),
            "kind",
        ),
        (
            &decisions,
            with(&good_decision, json!({"number": "1"})),
            "number",
        ),
        (
            &decisions,
            with(
                &good_decision,
                json!({"effects": [{"obligation": "not-a-uuid", "timeframe": "2026"}]}),
            ),
            "effects[0].obligation",
        ),
        (
            &decisions,
            with(
                &good_decision,
                json!({"effects": [{"obligation": uuid::Uuid::new_v4().to_string(), "timeframe": "2026"}]}),
            ),
            "effects[0].obligation",
        ),
        (
            &decisions,
            with(&good_decision, json!({"effects": [{"obligation": item}]})),
            "effects[0].timeframe",
        ),
        (
            &decisions,
            with(
                &good_decision,
                json!({"effects": [{"obligation": item, "timeframe": "2026-Q5"}]}),
            ),
            "effects[0].timeframe",
        ),
        (
            &decisions,
            with(
                &good_decision,
                json!({"effects": [{"obligation": item, "timeframe": "2026", "reason": "x"}]}),
            ),
            "effects[0]",
        ),
        (
            &decisions,
            with(&good_decision, json!({"kind": "note"})),
            "effects",
        ),
        (
            &agreements,
            with(&good_agreement, json!({"note": "before\u{0}after"})),
            "note",
        ),
        (
            &meetings,
            with(&good_meeting, json!({"title": {"en": "nul\u{0}"}})),
            "title.en",
        ),
        (
            &decisions,
            with(&good_decision, json!({"kind": "cancel"})),
            "effects[0].timeframe",
        ),
    ];
    let counts = table_counts(&pool);
    for (path, body, field) in cases {
        let res = send(&s, "POST", path, Some(&admin), None, Some(body.clone()));
        let (status, problem) = problem(res);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let named = fields(&problem);
        assert!(
            named
                .iter()
                .any(|f| f == field || f.starts_with(&format!("{field}."))),
            "{body}: {named:?} should name {field}"
        );
    }
    // Not JSON, and the wrong media type.
    let res = s
        .client
        .post(s.server.url("/api/v1/agreements"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .unwrap();
    assert_eq!(problem(res).0, StatusCode::BAD_REQUEST);
    let res = s
        .client
        .post(s.server.url("/api/v1/agreements"))
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .unwrap();
    assert_eq!(problem(res).0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // SQL in text is stored verbatim and harms nothing.
    assert_eq!(
        table_counts(&pool),
        counts,
        "malformed input wrote something"
    );
    let res = send(
        &s,
        "POST",
        &agreements,
        Some(&admin),
        None,
        Some(with(
            &good_agreement,
            json!({"note": "'); DROP TABLE agreements; --", "title": {"en": "<script>alert(1)</script>"}}),
        )),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let stored: Value = res.json().unwrap();
    assert_eq!(stored["note"], "'); DROP TABLE agreements; --");
    assert_eq!(stored["title"]["en"], "<script>alert(1)</script>");
    // A NUL in a path or query (PostgreSQL text cannot hold it) finds nothing.
    let (status, _) = problem(s.get("/api/v1/agreements/kz%00ru", None));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let page: Value = s
        .get("/api/v1/agreements?party=K%00Z", None)
        .json()
        .unwrap();
    assert_eq!(page["total"], 0);
    let (status, _) = problem(s.get("/api/v1/decisions/not-a-uuid", Some(&admin)));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = problem(s.get(
        &format!("/api/v1/decisions/{}", uuid::Uuid::new_v4()),
        Some(&admin),
    ));
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test]
fn the_openapi_document_describes_these_routes_with_resolvable_schemas() {
    let s = Setup::new();
    let doc: Value = s.get("/api/v1/openapi.json", None).json().unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mine = [
        ("/api/v1/agreements", vec!["get", "post"]),
        (
            "/api/v1/agreements/{id}",
            vec!["get", "put", "patch", "delete"],
        ),
        ("/api/v1/bodies", vec!["get", "post"]),
        ("/api/v1/bodies/{id}", vec!["get", "put", "patch", "delete"]),
        ("/api/v1/bodies/{id}/meetings", vec!["get", "post"]),
        (
            "/api/v1/meetings/{id}",
            vec!["get", "put", "patch", "delete"],
        ),
        ("/api/v1/meetings/{id}/decisions", vec!["get", "post"]),
        ("/api/v1/decisions/{id}", vec!["get"]),
        ("/api/v1/obligations/{id}/decisions", vec!["get"]),
    ];
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == "$ref" {
                        out.push(v.as_str().unwrap().to_string());
                    } else {
                        refs(v, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut seen = Vec::new();
    for (path, methods) in mine {
        for method in methods {
            let op = &paths
                .get(path)
                .unwrap_or_else(|| panic!("{path} is not documented"))[method];
            assert!(op.is_object(), "{method} {path} is not documented");
            refs(op, &mut seen);
        }
    }
    // Follow references into the schemas they name, transitively.
    let mut i = 0;
    while i < seen.len() {
        let name = seen[i]
            .trim_start_matches("#/components/schemas/")
            .to_string();
        let schema = schemas
            .get(&name)
            .unwrap_or_else(|| panic!("{} does not resolve", seen[i]));
        let mut more = Vec::new();
        refs(schema, &mut more);
        for r in more {
            if !seen.contains(&r) {
                seen.push(r);
            }
        }
        i += 1;
    }
}
