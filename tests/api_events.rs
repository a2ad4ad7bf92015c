//! The event API: local wall times in IANA zones (Kazakhstan's 2024 change,
//! DST gaps and overlaps), all-day and approximate events, CRUD under
//! If-Match, SEQUENCE, filters and pagination, permissions, malformed input.

mod common;

use common::api::*;
use common::*;
use reqwest::blocking::Response;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn post(s: &Setup, token: Option<&str>, body: Value) -> Response {
    let mut req = s.client.post(s.server.url("/api/v1/events")).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().unwrap()
}

/// POSTs an event that must be created, and returns it.
fn create(s: &Setup, token: &str, body: Value) -> Value {
    let res = post(s, Some(token), body.clone());
    assert_eq!(res.status(), StatusCode::CREATED, "POST {body}");
    res.json().unwrap()
}

fn change(
    s: &Setup,
    method: reqwest::Method,
    id: &str,
    token: Option<&str>,
    version: Option<i64>,
    body: Value,
) -> Response {
    let content_type = if method == reqwest::Method::PATCH {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let mut req = s
        .client
        .request(method, s.server.url(&format!("/api/v1/events/{id}")))
        .header("content-type", content_type)
        .body(body.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(v) = version {
        req = req.header("if-match", format!("\"{v}\""));
    }
    req.send().unwrap()
}

fn patch(s: &Setup, id: &str, token: &str, version: i64, body: Value) -> Value {
    let res = change(
        s,
        reqwest::Method::PATCH,
        id,
        Some(token),
        Some(version),
        body.clone(),
    );
    assert_eq!(res.status(), StatusCode::OK, "PATCH {body}");
    res.json().unwrap()
}

fn delete(s: &Setup, id: &str, token: Option<&str>, version: Option<i64>) -> Response {
    let mut req = s
        .client
        .delete(s.server.url(&format!("/api/v1/events/{id}")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(v) = version {
        req = req.header("if-match", format!("\"{v}\""));
    }
    req.send().unwrap()
}

fn list(s: &Setup, token: &str, query: &str) -> Value {
    let res = s.get(&format!("/api/v1/events{query}"), Some(token));
    assert_eq!(res.status(), StatusCode::OK, "GET /events{query}");
    res.json().unwrap()
}

/// The keys of a page's items, in order.
fn keys(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap_or("-").to_string())
        .collect()
}

fn event_by_key(s: &Setup, token: &str, key: &str) -> Value {
    list(s, token, "?limit=200")["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("no event {key}"))
        .clone()
}

fn timed(title: &str, start: &str, zone: &str) -> Value {
    json!({"title": {"en": title}, "kind": "concert", "start": start, "time_zone": zone})
}

#[test]
fn an_event_at_10_in_almaty_was_04z_in_2023_and_is_05z_since_kazakhstan_moved_to_utc_plus_5() {
    let s = Setup::new();
    let admin = s.token("admin");
    let before = create(
        &s,
        &admin,
        timed("Concert", "2023-06-10T10:00", "Asia/Almaty"),
    );
    assert_eq!(before["schedule"], "timed");
    assert_eq!(before["start"], "2023-06-10T10:00");
    assert_eq!(before["time_zone"], "Asia/Almaty");
    assert_eq!(before["starts_at"], "2023-06-10T04:00:00Z");
    assert_eq!(before["start_offset"], "+06:00");
    assert_eq!(before["earliest"], "2023-06-10");
    assert_eq!(before["latest"], "2023-06-10");
    assert!(before["tzdata_version"].as_str().unwrap() >= "2024a");
    let after = create(
        &s,
        &admin,
        timed("Concert", "2025-06-10T10:00", "Asia/Almaty"),
    );
    assert_eq!(after["starts_at"], "2025-06-10T05:00:00Z");
    assert_eq!(after["start_offset"], "+05:00");
    // The imported fixture event: 19:00-21:30 in Astana (Asia/Almaty) on 2025-06-10.
    let tour = event_by_key(&s, &admin, "tour-astana-2025");
    assert_eq!(tour["starts_at"], "2025-06-10T14:00:00Z");
    assert_eq!(tour["ends_at"], "2025-06-10T16:30:00Z");
    assert_eq!(tour["end"], "2025-06-10T21:30");
    assert_eq!(tour["end_offset"], "+05:00");
}

#[test]
fn a_time_in_a_dst_gap_is_rejected_and_an_ambiguous_one_takes_the_earlier_instant_unless_an_offset_is_given(
) {
    let s = Setup::new();
    let admin = s.token("admin");
    let pool = s.db.pool();
    let counts = table_counts(&pool);
    let (status, body) = problem(post(
        &s,
        Some(&admin),
        timed("Gap", "2025-03-30T02:30", "Europe/Berlin"),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "start");
    let reason = body["errors"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("does not exist in Europe/Berlin"),
        "{reason}"
    );
    assert!(reason.contains("from 02:00 to 03:00"), "{reason}");
    assert_eq!(table_counts(&pool), counts, "a rejected event was written");

    let earlier = create(
        &s,
        &admin,
        timed("Overlap", "2025-10-26T02:30", "Europe/Berlin"),
    );
    assert_eq!(earlier["starts_at"], "2025-10-26T00:30:00Z");
    assert_eq!(earlier["start_offset"], "+02:00");
    let later = create(
        &s,
        &admin,
        timed("Overlap", "2025-10-26T02:30+01:00", "Europe/Berlin"),
    );
    assert_eq!(later["starts_at"], "2025-10-26T01:30:00Z");
    assert_eq!(later["start_offset"], "+01:00");
    assert_eq!(later["start"], "2025-10-26T02:30");
    // A patch of something else keeps the later instant it was given.
    let id = later["id"].as_str().unwrap();
    let patched = patch(
        &s,
        id,
        &admin,
        1,
        json!({"title": {"en": "Overlap, renamed"}}),
    );
    assert_eq!(patched["starts_at"], "2025-10-26T01:30:00Z");
    assert_eq!(patched["sequence"], 0);

    let (status, body) = problem(post(
        &s,
        Some(&admin),
        timed("Wrong offset", "2025-10-26T02:30+05:00", "Europe/Berlin"),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "start");
    assert!(body["errors"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("+02:00 or +01:00"));
}

#[test]
fn all_day_and_approximate_events_are_dates_without_instants() {
    let s = Setup::new();
    let admin = s.token("admin");
    let when =
        |w: &str| json!({"title": {"ru": "Дни культуры"}, "kind": "days_of_culture", "when": w});
    let range = create(&s, &admin, when("2025-10-07..2025-10-08"));
    assert_eq!(range["schedule"], "all_day");
    assert_eq!(range["timeframe_kind"], "range");
    assert_eq!(range["timeframe"], "2025-10-07..2025-10-08");
    assert_eq!(range["earliest"], "2025-10-07");
    assert_eq!(range["latest"], "2025-10-08");
    assert_eq!(range["start"], Value::Null);
    assert_eq!(range["starts_at"], Value::Null);
    assert_eq!(range["time_zone"], Value::Null);
    assert_eq!(range["status"], "tentative", "the default status");
    let day = create(&s, &admin, when("2025-11-14"));
    assert_eq!(day["schedule"], "all_day");
    assert_eq!(day["timeframe_kind"], "date");
    assert_eq!(
        (&day["earliest"], &day["latest"]),
        (&json!("2025-11-14"), &json!("2025-11-14"))
    );
    let month = create(&s, &admin, when("2025-10"));
    assert_eq!(month["schedule"], "approximate");
    assert_eq!(month["timeframe_kind"], "month");
    assert_eq!(
        (&month["earliest"], &month["latest"]),
        (&json!("2025-10-01"), &json!("2025-10-31"))
    );
    let quarter = create(&s, &admin, when("II quarter 2026"));
    assert_eq!(quarter["schedule"], "approximate");
    assert_eq!(
        (&quarter["earliest"], &quarter["latest"]),
        (&json!("2026-04-01"), &json!("2026-06-30"))
    );
    let undated = create(&s, &admin, when("to be agreed"));
    assert_eq!(undated["schedule"], "approximate");
    assert_eq!(undated["earliest"], Value::Null);
    assert_eq!(undated["title_display"], "Дни культуры");

    // A timed event becomes all-day by a patch; that is a change of date.
    let concert = create(
        &s,
        &admin,
        timed("Concert", "2025-06-10T19:00", "Asia/Almaty"),
    );
    let id = concert["id"].as_str().unwrap();
    let moved = patch(
        &s,
        id,
        &admin,
        1,
        json!({"when": "2025-06-11", "start": null, "time_zone": null}),
    );
    assert_eq!(moved["schedule"], "all_day");
    assert_eq!(moved["earliest"], "2025-06-11");
    assert_eq!(moved["starts_at"], Value::Null);
    assert_eq!(moved["tzdata_version"], Value::Null);
    assert_eq!(moved["sequence"], 1);
}

#[test]
fn crud_under_if_match_with_sequence_rising_on_date_and_status_changes_only() {
    let s = Setup::new();
    let admin = s.token("admin");
    let item = s.item("1.2")["id"].as_str().unwrap().to_string();
    let res = post(
        &s,
        Some(&admin),
        json!({
            "key": "opening-2025", "title": {"en": "Exhibition opening", "ru": "Открытие выставки"},
            "kind": "opening", "status": "tentative",
            "start": "2025-09-01T18:00", "end": "2025-09-01T20:00", "time_zone": "Asia/Almaty",
            "host": "KZ", "guest": "RU", "city": "Astana", "venue": "National Museum",
            "source": "letter 12/345", "note": "by invitation",
            "organisers": ["ru-mkrf", "kz-mci"], "fulfils": [item]
        }),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let created: Value = res.json().unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/events/{id}"));
    assert_eq!(created["version"], 1);
    assert_eq!(created["sequence"], 0);
    assert_eq!(created["host"], "KZ");
    assert_eq!(created["guest"], "RU");
    assert_eq!(created["organisers"], json!(["kz-mci", "ru-mkrf"]));
    assert_eq!(created["fulfils"], json!([item]));
    assert_eq!(created["starts_at"], "2025-09-01T13:00:00Z");
    assert_eq!(created["ends_at"], "2025-09-01T15:00:00Z");

    let res = s
        .client
        .get(s.server.url(&location))
        .bearer_auth(&admin)
        .header("accept-language", "ru")
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let got: Value = res.json().unwrap();
    assert_eq!(got["title_display"], "Открытие выставки");
    assert_eq!(got["title"]["en"], "Exhibition opening");
    let admin_audit = |entity: &str| -> Vec<Value> {
        let page: Value = s
            .get(
                &format!("/api/v1/audit?entity={entity}&limit=200"),
                Some(&admin),
            )
            .json()
            .unwrap();
        page["items"].as_array().unwrap().clone()
    };
    let of_event = |rows: Vec<Value>| -> Vec<Value> {
        rows.into_iter()
            .filter(|r| r["entity_id"].as_str().unwrap().starts_with(&id))
            .collect()
    };
    assert_eq!(
        of_event(admin_audit("event")).len(),
        1,
        "one entry for the create"
    );
    assert_eq!(of_event(admin_audit("event_organisation")).len(), 2);
    assert_eq!(of_event(admin_audit("event_obligation")).len(), 1);

    // A title is not a change of schedule: the version moves, SEQUENCE does not.
    let v2 = patch(
        &s,
        &id,
        &admin,
        1,
        json!({"title": {"en": "Opening of the exhibition"}}),
    );
    assert_eq!(
        (v2["version"].as_i64(), v2["sequence"].as_i64()),
        (Some(2), Some(0))
    );
    // RFC 7396: objects merge, so the Russian title stays.
    assert_eq!(
        v2["title"],
        json!({"en": "Opening of the exhibition", "ru": "Открытие выставки"})
    );
    assert_eq!(
        v2["venue"], "National Museum",
        "a patch keeps what it does not name"
    );
    let audit = of_event(admin_audit("event"));
    assert_eq!(audit.len(), 2);
    let update = audit.iter().find(|r| r["action"] == "update").unwrap();
    assert_eq!(update["actor"], "user:admin");
    // A change of date raises SEQUENCE.
    let v3 = patch(
        &s,
        &id,
        &admin,
        2,
        json!({"start": "2025-09-02T18:00", "end": "2025-09-02T20:00"}),
    );
    assert_eq!(
        (v3["version"].as_i64(), v3["sequence"].as_i64()),
        (Some(3), Some(1))
    );
    assert_eq!(v3["earliest"], "2025-09-02");
    // So does a change of status.
    let v4 = patch(&s, &id, &admin, 3, json!({"status": "confirmed"}));
    assert_eq!(
        (v4["version"].as_i64(), v4["sequence"].as_i64()),
        (Some(4), Some(2))
    );
    // Not a venue or a note.
    let v5 = patch(
        &s,
        &id,
        &admin,
        4,
        json!({"venue": "Opera House", "note": null}),
    );
    assert_eq!(
        (v5["version"].as_i64(), v5["sequence"].as_i64()),
        (Some(5), Some(2))
    );
    assert_eq!(v5["note"], Value::Null);
    // A change of zone is a change of time.
    let v6 = patch(&s, &id, &admin, 5, json!({"time_zone": "Europe/Moscow"}));
    assert_eq!(
        (v6["version"].as_i64(), v6["sequence"].as_i64()),
        (Some(6), Some(3))
    );
    assert_eq!(v6["starts_at"], "2025-09-02T15:00:00Z");
    assert_eq!(v6["start_offset"], "+03:00");
    // A patch that changes nothing writes nothing.
    let same = patch(&s, &id, &admin, 6, json!({"venue": "Opera House"}));
    assert_eq!(same["version"], 6);
    // A change of links alone is a new version too.
    let v7 = patch(&s, &id, &admin, 6, json!({"organisers": ["kz-mci"]}));
    assert_eq!(
        (v7["version"].as_i64(), v7["sequence"].as_i64()),
        (Some(7), Some(3))
    );
    assert_eq!(v7["organisers"], json!(["kz-mci"]));

    // PUT replaces the whole event: what it leaves out is gone.
    let res = change(
        &s,
        reqwest::Method::PUT,
        &id,
        Some(&admin),
        Some(7),
        json!({"key": "opening-2025", "title": {"en": "Opening"}, "kind": "opening", "status": "confirmed",
               "start": "2025-09-02T18:00", "time_zone": "Europe/Moscow", "fulfils": [item]}),
    );
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"8\"");
    let v8: Value = res.json().unwrap();
    assert_eq!(v8["organisers"], json!([]));
    assert_eq!(v8["host"], Value::Null);
    assert_eq!(v8["end"], Value::Null);
    assert_eq!(v8["sequence"], 4, "the end time went");

    // Stale or missing If-Match: 412 / 428, and nothing written.
    let pool = s.db.pool();
    let counts = table_counts(&pool);
    let (status, body) = problem(change(
        &s,
        reqwest::Method::PATCH,
        &id,
        Some(&admin),
        Some(7),
        json!({"status": "cancelled"}),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(body["code"], "precondition_failed");
    let (status, _) = problem(change(
        &s,
        reqwest::Method::PATCH,
        &id,
        Some(&admin),
        None,
        json!({"status": "cancelled"}),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, _) = problem(delete(&s, &id, Some(&admin), Some(7)));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (status, _) = problem(delete(&s, &id, Some(&admin), None));
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(table_counts(&pool), counts);

    let res = delete(&s, &id, Some(&admin), Some(8));
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, _) = problem(s.get(&location, Some(&admin)));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let after = table_counts(&pool);
    let count = |counts: &[(String, i64)], t: &str| counts.iter().find(|(n, _)| n == t).unwrap().1;
    assert_eq!(count(&after, "events"), count(&counts, "events") - 1);
    assert_eq!(
        count(&after, "event_obligations"),
        count(&counts, "event_obligations") - 1
    );
    let audit = of_event(admin_audit("event"));
    assert!(audit.iter().any(|r| r["action"] == "delete"));
    assert!(of_event(admin_audit("event_obligation"))
        .iter()
        .any(|r| r["action"] == "delete"));

    let (status, _) = problem(s.get(
        "/api/v1/events/00000000-0000-4000-8000-000000000000",
        Some(&admin),
    ));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = problem(s.get("/api/v1/events/not-a-uuid", Some(&admin)));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "id");
}

#[test]
fn filters_and_pagination_stay_stable_while_events_are_added() {
    let s = Setup::new();
    let admin = s.token("admin");
    let viewer = s.token("viewer");
    let add = |body: Value| create(&s, &admin, body);
    add(
        json!({"key": "a-almaty", "title": {"en": "A"}, "kind": "concert", "status": "confirmed",
               "start": "2025-03-05T19:00", "time_zone": "Asia/Almaty", "city": "Алматы",
               "host": "KZ", "organisers": ["kz-mci"]}),
    );
    add(
        json!({"key": "b-moscow", "title": {"en": "B"}, "kind": "exhibition",
               "when": "2025-05-01..2025-05-31", "city": "Moscow", "host": "RU", "guest": "KZ",
               "organisers": ["ru-mkrf"]}),
    );
    add(
        json!({"key": "c-moscow", "title": {"en": "C"}, "kind": "festival", "status": "postponed",
               "when": "2025-12", "city": "MOSCOW"}),
    );
    add(
        json!({"key": "d-undated", "title": {"en": "D"}, "kind": "tour", "when": "to be agreed",
               "city": "Astana"}),
    );

    // Everything, by first day; undated events last.
    let all = list(&s, &viewer, "");
    assert_eq!(
        keys(&all),
        [
            "doc-2021",
            "doc-2024",
            "a-almaty",
            "b-moscow",
            "tour-astana-2025",
            "c-moscow",
            "d-undated"
        ]
    );
    assert_eq!(all["total"], 7);
    assert_eq!(all["next_cursor"], Value::Null);

    let filtered = |query: &str| {
        let page = list(&s, &viewer, query);
        assert_eq!(
            page["total"],
            page["items"].as_array().unwrap().len(),
            "{query}"
        );
        keys(&page)
    };
    assert_eq!(
        filtered("?organisation=kz-mci"),
        ["a-almaty", "tour-astana-2025"]
    );
    assert_eq!(filtered("?organisation=ru-mkrf"), ["b-moscow"]);
    assert!(filtered("?organisation=no-such-ministry").is_empty());
    assert_eq!(filtered("?party=RU"), ["b-moscow"]);
    assert_eq!(
        filtered("?party=KZ"),
        ["doc-2021", "a-almaty", "b-moscow", "tour-astana-2025"],
        "host or guest"
    );
    assert_eq!(filtered("?city=moscow"), ["b-moscow", "c-moscow"]);
    assert_eq!(
        filtered("?city=%D0%B0%D0%BB%D0%BC%D0%B0%D1%82%D1%8B"),
        ["a-almaty"],
        "алматы"
    );
    assert_eq!(filtered("?city=ASTANA"), ["tour-astana-2025", "d-undated"]);
    assert_eq!(
        filtered("?from=2025-05-15&to=2025-06-30"),
        ["b-moscow", "tour-astana-2025"],
        "overlapping the range"
    );
    assert_eq!(filtered("?from=2025-12-31"), ["c-moscow"]);
    assert_eq!(filtered("?to=2021-12-31"), ["doc-2021"]);
    assert_eq!(filtered("?status=held"), ["doc-2021", "doc-2024"]);
    assert_eq!(filtered("?kind=festival"), ["c-moscow"]);
    assert_eq!(
        filtered("?party=KZ&status=confirmed"),
        ["a-almaty", "tour-astana-2025"]
    );
    for (query, field) in [
        ("?from=2025-06-01&to=2025-05-01", Some("to")),
        ("?status=rumoured", None),
        ("?colour=red", None),
        ("?from=June", None),
        ("?from=0999-01-01", Some("from")),
        ("?limit=0", Some("limit")),
        ("?limit=201", Some("limit")),
        ("?cursor=zz", Some("cursor")),
        ("?lang=xx", Some("lang")),
    ] {
        let (status, body) = problem(s.get(&format!("/api/v1/events{query}"), Some(&viewer)));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        if let Some(field) = field {
            assert_eq!(body["errors"][0]["field"], field, "{query}");
        }
    }

    // Pages of two; events added behind the cursor are not seen, those ahead are,
    // and nothing is seen twice.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=2&cursor={c}"),
            None => "?limit=2".to_string(),
        };
        let page = list(&s, &viewer, &query);
        seen.extend(keys(&page));
        pages += 1;
        if pages == 1 {
            add(
                json!({"key": "e-behind", "title": {"en": "E"}, "kind": "other", "when": "2021-01-01"}),
            );
            add(
                json!({"key": "f-ahead", "title": {"en": "F"}, "kind": "other", "when": "2025-04-01"}),
            );
        }
        if pages == 3 {
            add(
                json!({"key": "g-undated", "title": {"en": "G"}, "kind": "other", "when": "to be agreed"}),
            );
        }
        assert!(pages < 10, "the pages never end");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let unique: std::collections::BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "seen twice: {seen:?}");
    assert_eq!(
        &seen[..5],
        ["doc-2021", "doc-2024", "a-almaty", "f-ahead", "b-moscow"]
    );
    assert!(!seen.contains(&"e-behind".to_string()));
    let mut rest: Vec<&str> = seen[5..].iter().map(String::as_str).collect();
    rest[2..].sort();
    assert_eq!(
        rest,
        ["tour-astana-2025", "c-moscow", "d-undated", "g-undated"]
    );
    assert_eq!(list(&s, &viewer, "")["total"], 10);
}

#[test]
fn who_may_read_and_write_events() {
    let s = Setup::new();
    let admin = s.token("admin");
    let secretariat = s.token("secretariat");
    let other = s.token("other-secretariat");
    let kz_editor = s.token("kz-editor");
    let viewer = s.token("viewer");
    let item = s.item("1.2")["id"].as_str().unwrap().to_string();
    let tour = event_by_key(&s, &admin, "tour-astana-2025");
    let tour_id = tour["id"].as_str().unwrap().to_string();
    let meeting_item: String = {
        use accord::db::schema::obligations::dsl::*;
        use diesel::prelude::*;
        let pool = s.db.pool();
        let mut conn = pool.get().unwrap();
        obligations
            .filter(meeting_id.is_not_null())
            .select(id)
            .first(&mut *conn)
            .unwrap()
    };
    let body = |fulfils: Vec<&str>| json!({"title": {"en": "Days of Culture"}, "kind": "days_of_culture", "when": "2025-11", "fulfils": fulfils});

    // Reading needs a token; every role reads.
    for path in [
        "/api/v1/events".to_string(),
        format!("/api/v1/events/{tour_id}"),
    ] {
        let (status, body) = problem(s.get(&path, None));
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body["code"], "unauthenticated");
        for token in [&admin, &secretariat, &other, &kz_editor, &viewer] {
            assert_eq!(s.get(&path, Some(token)).status(), StatusCode::OK, "{path}");
        }
    }
    // 401 comes first, whatever else is wrong with the request.
    let (status, _) = problem(s.get("/api/v1/events?lang=xx&limit=0", None));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let res = s
        .client
        .post(s.server.url("/api/v1/events"))
        .header("content-type", "text/plain")
        .body("an event")
        .send()
        .unwrap();
    assert_eq!(problem(res).0, StatusCode::UNAUTHORIZED);
    let (status, _) = problem(change(
        &s,
        reqwest::Method::PATCH,
        &tour_id,
        None,
        None,
        json!({"status": 3}),
    ));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let pool = s.db.pool();
    let counts = table_counts(&pool);
    let (status, _) = problem(post(&s, None, body(vec![&item])));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for token in [&viewer, &kz_editor, &other] {
        let (status, _) = problem(post(&s, Some(token), body(vec![&item])));
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = problem(change(
            &s,
            reqwest::Method::PATCH,
            &tour_id,
            Some(token),
            Some(1),
            json!({"status": "held"}),
        ));
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = problem(delete(&s, &tour_id, Some(token), Some(1)));
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // A secretariat writes only events of its bodies' obligations.
    let (status, body_) = problem(post(&s, Some(&secretariat), body(vec![])));
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body_["code"], "forbidden");
    assert_eq!(
        table_counts(&pool),
        counts,
        "a refused write wrote something"
    );

    let mine = create(&s, &secretariat, body(vec![&item]));
    let mine_id = mine["id"].as_str().unwrap();
    create(&s, &secretariat, body(vec![&meeting_item]));
    let held = patch(&s, &tour_id, &secretariat, 1, json!({"status": "held"}));
    assert_eq!(held["status"], "held");
    // It may not take an event out of its bodies.
    let counts = table_counts(&pool);
    let (status, _) = problem(change(
        &s,
        reqwest::Method::PATCH,
        mine_id,
        Some(&secretariat),
        Some(1),
        json!({"fulfils": []}),
    ));
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(table_counts(&pool), counts);
    let (status, _) = problem(delete(&s, mine_id, Some(&other), Some(1)));
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        delete(&s, mine_id, Some(&secretariat), Some(1)).status(),
        StatusCode::NO_CONTENT
    );

    // An event of no body is the admins'.
    let loose = create(&s, &admin, body(vec![]));
    let loose_id = loose["id"].as_str().unwrap();
    let (status, _) = problem(change(
        &s,
        reqwest::Method::PATCH,
        loose_id,
        Some(&secretariat),
        Some(1),
        json!({"note": "mine now"}),
    ));
    assert_eq!(status, StatusCode::FORBIDDEN);
    patch(&s, loose_id, &admin, 1, json!({"fulfils": [item]}));
    assert_eq!(
        delete(&s, loose_id, Some(&admin), Some(2)).status(),
        StatusCode::NO_CONTENT
    );
}

#[test]
fn malformed_input_is_a_problem_naming_the_field_and_changes_nothing() {
    let s = Setup::new();
    let admin = s.token("admin");
    let tour = event_by_key(&s, &admin, "tour-astana-2025");
    let tour_id = tour["id"].as_str().unwrap().to_string();
    let valid = || timed("Concert", "2025-06-10T19:00", "Asia/Almaty");
    let with = |changes: Value| {
        let mut body = valid();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let pool = s.db.pool();
    let counts = table_counts(&pool);
    let cases: Vec<(Value, &str, &str)> = vec![
        (with(json!({"colour": "red"})), "colour", "unknown field"),
        (
            with(json!({"time_zone": "Asia/Astana"})),
            "time_zone",
            "Asia/Astana",
        ),
        (with(json!({"time_zone": "UTC+5"})), "time_zone", "IANA"),
        (
            with(json!({"end": "2025-06-10T18:00"})),
            "end",
            "ends before it starts",
        ),
        (
            with(json!({"organisers": ["kz-mci", "no-such-ministry"]})),
            "organisers[1]",
            "no-such-ministry",
        ),
        (
            with(json!({"organisers": "kz-mci"})),
            "organisers",
            "sequence",
        ),
        (with(json!({"when": "2025-06"})), "start", "not both"),
        (
            with(json!({"start": null, "time_zone": null})),
            "when",
            "needs",
        ),
        (
            with(json!({"time_zone": null})),
            "time_zone",
            "IANA time zone",
        ),
        (
            with(json!({"start": "10 June 2025"})),
            "start",
            "not a local date and time",
        ),
        (
            with(json!({"start": "3025-06-10T19:00"})),
            "start",
            "out of range",
        ),
        (with(json!({"key": "Bad Key"})), "key", "lowercase"),
        (
            with(json!({"key": "tour-astana-2025"})),
            "key",
            "already exists",
        ),
        (with(json!({"fulfils": ["1.1"]})), "fulfils[0]", "UUID"),
        (
            with(json!({"fulfils": ["00000000-0000-4000-8000-000000000000"]})),
            "fulfils[0]",
            "does not exist",
        ),
        (with(json!({"host": "XX"})), "host", "XX"),
        (with(json!({"kind": "parade"})), "kind", "parade"),
        (with(json!({"status": 3})), "status", ""),
        (with(json!({"title": {}})), "title", "no text"),
        // serde_path_to_error names a map key `?`.
        (with(json!({"title": {"xx": "Concert"}})), "title.?", "xx"),
        (with(json!({"title": null})), "body", "title"),
        (
            json!({"title": {"en": "C"}, "kind": "concert", "when": "2025-13"}),
            "when",
            "month 13",
        ),
        (json!("an event"), "body", "must be a JSON object"),
    ];
    for (body, field, words) in cases {
        let (status, problem_) = problem(post(&s, Some(&admin), body.clone()));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(problem_["code"], "validation_failed", "{body}");
        let errors = problem_["errors"].as_array().unwrap();
        let error = errors
            .iter()
            .find(|e| e["field"] == field)
            .unwrap_or_else(|| panic!("{body}: no error for {field}: {errors:?}"));
        assert!(
            error["reason"].as_str().unwrap().contains(words),
            "{body}: {error}"
        );
    }
    // Every failing field at once.
    let (_, body) = problem(post(
        &s,
        Some(&admin),
        with(json!({"time_zone": "Mars/Olympus", "organisers": ["nobody"], "guest": "ZZ"})),
    ));
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["time_zone", "guest", "organisers[0]"]);
    // The same rules on PUT and PATCH.
    let (status, body) = problem(change(
        &s,
        reqwest::Method::PATCH,
        &tour_id,
        Some(&admin),
        Some(1),
        json!({"time_zone": "Asia/Astana"}),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "time_zone");
    let (status, body) = problem(change(
        &s,
        reqwest::Method::PATCH,
        &tour_id,
        Some(&admin),
        Some(1),
        json!({"end": "2025-06-10T18:59"}),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "end");
    let (status, body) = problem(change(
        &s,
        reqwest::Method::PUT,
        &tour_id,
        Some(&admin),
        Some(1),
        with(json!({"organisers": ["no-such-ministry"]})),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "organisers[0]");
    let (status, _) = problem(change(
        &s,
        reqwest::Method::PATCH,
        "not-a-uuid",
        Some(&admin),
        Some(1),
        json!({"note": "x"}),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let res = s
        .client
        .post(s.server.url("/api/v1/events"))
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body(valid().to_string())
        .send()
        .unwrap();
    assert_eq!(problem(res).0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        table_counts(&pool),
        counts,
        "a failed write wrote something"
    );

    // Fragments of SQL and script are text like any other, stored verbatim.
    let sly = "'; DROP TABLE events; -- <script>alert(1)</script>";
    let stored = create(&s, &admin, with(json!({"city": sly, "note": sly})));
    assert_eq!(stored["city"], sly);
    let again: Value = s
        .get(
            &format!("/api/v1/events/{}", stored["id"].as_str().unwrap()),
            Some(&admin),
        )
        .json()
        .unwrap();
    assert_eq!(again["note"], sly);
    assert_eq!(list(&s, &admin, "")["total"], 4);
}

#[test]
fn of_two_concurrent_changes_of_one_version_exactly_one_wins() {
    let s = Setup::new();
    let admin = s.token("admin");
    let created = create(
        &s,
        &admin,
        timed("Concert", "2025-06-10T19:00", "Asia/Almaty"),
    );
    let id = created["id"].as_str().unwrap();
    let statuses: Vec<StatusCode> = std::thread::scope(|scope| {
        let runs: Vec<_> = ["confirmed", "cancelled"]
            .into_iter()
            .map(|status| {
                let (s, admin) = (&s, &admin);
                scope.spawn(move || {
                    change(
                        s,
                        reqwest::Method::PATCH,
                        id,
                        Some(admin),
                        Some(1),
                        json!({"status": status}),
                    )
                    .status()
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut statuses = statuses;
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::PRECONDITION_FAILED]);
    let event: Value = s
        .get(&format!("/api/v1/events/{id}"), Some(&admin))
        .json()
        .unwrap();
    assert_eq!(
        (event["version"].as_i64(), event["sequence"].as_i64()),
        (Some(2), Some(1))
    );

    // Concurrent creates both land; of two with one key, one does.
    let both = |keys: [&str; 2]| -> Vec<u16> {
        let mut statuses: Vec<u16> = std::thread::scope(|scope| {
            let runs: Vec<_> = keys
                .into_iter()
                .map(|key| {
                    let (s, admin) = (&s, &admin);
                    scope.spawn(move || {
                        let mut body = timed("Concert", "2025-06-10T19:00", "Asia/Almaty");
                        body["key"] = json!(key);
                        post(s, Some(admin), body).status().as_u16()
                    })
                })
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        statuses.sort();
        statuses
    };
    assert_eq!(both(["concert-a", "concert-b"]), [201, 201]);
    // The loser sees the key taken (400), or on PostgreSQL may meet the unique
    // index first (409); never a 500.
    let same_key = both(["concert-c", "concert-c"]);
    assert_eq!(same_key[0], 201);
    assert!([400, 409].contains(&same_key[1]), "{same_key:?}");
}
