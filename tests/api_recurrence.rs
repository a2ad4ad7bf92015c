//! Recurring events through the API (RRULE, EXDATE, one occurrence moved or
//! cancelled), bounded expansion, and conflict warnings (a common organiser
//! or a double-booked venue), on the real server.

mod common;

use common::api::*;
use common::*;
use reqwest::blocking::Response;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn post(s: &Setup, token: &str, body: &Value) -> Response {
    s.client
        .post(s.server.url("/api/v1/events"))
        .bearer_auth(token)
        .json(body)
        .send()
        .unwrap()
}

/// POSTs an event that must be created, and returns it.
fn create(s: &Setup, token: &str, body: Value) -> Value {
    let res = post(s, token, &body);
    assert_eq!(res.status(), StatusCode::CREATED, "POST {body}");
    res.json().unwrap()
}

fn patch_raw(s: &Setup, id: &str, token: &str, version: i64, body: &Value) -> Response {
    s.client
        .patch(s.server.url(&format!("/api/v1/events/{id}")))
        .header("content-type", "application/merge-patch+json")
        .header("if-match", format!("\"{version}\""))
        .bearer_auth(token)
        .body(body.to_string())
        .send()
        .unwrap()
}

fn patch(s: &Setup, id: &str, token: &str, version: i64, body: Value) -> Value {
    let res = patch_raw(s, id, token, version, &body);
    assert_eq!(res.status(), StatusCode::OK, "PATCH {body}");
    res.json().unwrap()
}

fn get_event(s: &Setup, id: &str, token: &str) -> Value {
    let res = s.get(&format!("/api/v1/events/{id}"), Some(token));
    assert_eq!(res.status(), StatusCode::OK);
    res.json().unwrap()
}

fn occurrences_raw(s: &Setup, id: &str, token: &str, query: &str) -> Response {
    s.get(
        &format!("/api/v1/events/{id}/occurrences{query}"),
        Some(token),
    )
}

fn occurrences(s: &Setup, id: &str, token: &str, query: &str) -> Value {
    let res = occurrences_raw(s, id, token, query);
    assert_eq!(res.status(), StatusCode::OK, "occurrences{query}");
    res.json().unwrap()
}

fn put_occurrence(
    s: &Setup,
    id: &str,
    recurrence_id: &str,
    token: &str,
    version: Option<i64>,
    body: Value,
) -> Response {
    let mut req = s
        .client
        .put(
            s.server
                .url(&format!("/api/v1/events/{id}/occurrences/{recurrence_id}")),
        )
        .bearer_auth(token)
        .json(&body);
    if let Some(v) = version {
        req = req.header("if-match", format!("\"{v}\""));
    }
    req.send().unwrap()
}

/// A field of every item of a page.
fn column(page: &Value, field: &str) -> Vec<Value> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o[field].clone())
        .collect()
}

fn strings(values: &[&str]) -> Vec<Value> {
    values.iter().map(|v| json!(v)).collect()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn version_of(v: &Value) -> i64 {
    v["version"].as_i64().unwrap()
}

/// A weekly Tuesday meeting 10:00-12:00 in Berlin from 2025-10-14, four
/// times, across the end of summer time (2025-10-26); the second removed.
fn berlin_series() -> Value {
    json!({
        "title": {"en": "Working group"},
        "kind": "meeting",
        "start": "2025-10-14T10:00",
        "end": "2025-10-14T12:00",
        "time_zone": "Europe/Berlin",
        "rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=4",
        "exdates": ["2025-10-21T10:00"],
    })
}

fn audit_actions(s: &Setup, admin: &str, entity: &str) -> Vec<String> {
    let res = s.get(
        &format!("/api/v1/audit?entity={entity}&limit=500"),
        Some(admin),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().unwrap();
    let mut actions: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    // Entries written at one instant (the clock is fixed) have no order.
    actions.sort();
    actions
}

#[test]
fn a_weekly_series_with_count_and_an_exdate_lists_its_occurrences_at_exact_instants() {
    let s = Setup::new();
    let admin = s.token("admin");
    let series = create(&s, &admin, berlin_series());
    assert_eq!(series["rrule"], "FREQ=WEEKLY;BYDAY=TU;COUNT=4");
    assert_eq!(series["exdates"], json!(["2025-10-21T10:00"]));
    assert_eq!(series["earliest"], "2025-10-14");
    assert_eq!(series["latest"], "2025-11-04");
    assert_eq!(series["sequence"], 0);
    let id = id_of(&series);
    let page = occurrences(&s, &id, &admin, "?from=2025-10-01&to=2025-11-30");
    assert_eq!(
        column(&page, "recurrence_id"),
        strings(&["2025-10-14T10:00", "2025-10-28T10:00", "2025-11-04T10:00"])
    );
    // 10:00 local throughout: +02:00 before 26 October, +01:00 after.
    assert_eq!(
        column(&page, "starts_at"),
        strings(&[
            "2025-10-14T08:00:00Z",
            "2025-10-28T09:00:00Z",
            "2025-11-04T09:00:00Z"
        ])
    );
    assert_eq!(
        column(&page, "ends_at"),
        strings(&[
            "2025-10-14T10:00:00Z",
            "2025-10-28T11:00:00Z",
            "2025-11-04T11:00:00Z"
        ])
    );
    assert_eq!(
        column(&page, "start"),
        strings(&["2025-10-14T10:00", "2025-10-28T10:00", "2025-11-04T10:00"])
    );
    assert_eq!(
        column(&page, "end"),
        strings(&["2025-10-14T12:00", "2025-10-28T12:00", "2025-11-04T12:00"])
    );
    assert_eq!(column(&page, "time_zone"), strings(&["Europe/Berlin"; 3]));
    assert_eq!(column(&page, "status"), strings(&["tentative"; 3]));
    assert_eq!(column(&page, "changed"), vec![json!(false); 3]);
    assert_eq!(column(&page, "sequence"), vec![json!(0); 3]);
    assert_eq!(page["truncated"], false);
    assert_eq!(
        (page["from"].clone(), page["to"].clone()),
        (json!("2025-10-01"), json!("2025-11-30"))
    );
    // A narrower window lists only what falls in it.
    let page = occurrences(&s, &id, &admin, "?from=2025-10-27&to=2025-10-31");
    assert_eq!(
        column(&page, "recurrence_id"),
        strings(&["2025-10-28T10:00"])
    );
    // The list finds the series by any of its days.
    let res = s.get("/api/v1/events?from=2025-11-02&to=2025-11-10", Some(&admin));
    let list: Value = res.json().unwrap();
    let ids: Vec<Value> = column(&list, "id");
    assert!(ids.contains(&json!(id)), "{list}");
    // List items carry no conflicts; one event does.
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == json!(id))
        .unwrap();
    assert!(item.get("conflicts").is_none(), "{item}");
    assert_eq!(get_event(&s, &id, &admin)["conflicts"], json!([]));
    // A single event lists its one occurrence.
    let single = create(
        &s,
        &admin,
        json!({"title": {"en": "Once"}, "kind": "concert", "start": "2025-06-10T10:00", "time_zone": "Asia/Almaty"}),
    );
    let page = occurrences(
        &s,
        &id_of(&single),
        &admin,
        "?from=2025-06-01&to=2025-06-30",
    );
    assert_eq!(
        column(&page, "recurrence_id"),
        strings(&["2025-06-10T10:00"])
    );
    assert_eq!(
        column(&page, "starts_at"),
        strings(&["2025-06-10T05:00:00Z"])
    );
    // The default window runs from 31 days before today (2025-08-01 here) for 397 days.
    let page = occurrences(&s, &id, &admin, "");
    assert_eq!(
        (page["from"].clone(), page["to"].clone()),
        (json!("2025-07-01"), json!("2026-08-02"))
    );
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
}

#[test]
fn one_occurrence_moved_and_cancelled_bumps_the_event_version_but_not_its_sequence() {
    let s = Setup::new();
    let admin = s.token("admin");
    let series = create(&s, &admin, berlin_series());
    let id = id_of(&series);
    let v1 = version_of(&series);
    let moved = json!({"start": "2025-10-29T15:00", "note": "moved a day"});
    // If-Match is required, and must be the event's current version.
    let (status, _) = problem(put_occurrence(
        &s,
        &id,
        "2025-10-28T10:00",
        &admin,
        None,
        moved.clone(),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, _) = problem(put_occurrence(
        &s,
        &id,
        "2025-10-28T10:00",
        &admin,
        Some(v1 + 1),
        moved.clone(),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let res = put_occurrence(&s, &id, "2025-10-28T10:00", &admin, Some(v1), moved);
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], format!("\"{}\"", v1 + 1).as_str());
    let occurrence: Value = res.json().unwrap();
    assert_eq!(occurrence["recurrence_id"], "2025-10-28T10:00");
    assert_eq!(occurrence["start"], "2025-10-29T15:00");
    // The event's two hours are kept; after 26 October Berlin is at +01:00.
    assert_eq!(occurrence["end"], "2025-10-29T17:00");
    assert_eq!(occurrence["starts_at"], "2025-10-29T14:00:00Z");
    assert_eq!(occurrence["ends_at"], "2025-10-29T16:00:00Z");
    assert_eq!(occurrence["changed"], true);
    assert_eq!(occurrence["sequence"], 0);
    assert_eq!(occurrence["note"], "moved a day");
    let event = get_event(&s, &id, &admin);
    assert_eq!(version_of(&event), v1 + 1);
    assert_eq!(event["sequence"], 0);
    let page = occurrences(&s, &id, &admin, "?from=2025-10-01&to=2025-11-30");
    assert_eq!(
        column(&page, "recurrence_id"),
        strings(&["2025-10-14T10:00", "2025-10-28T10:00", "2025-11-04T10:00"])
    );
    assert_eq!(
        column(&page, "starts_at"),
        strings(&[
            "2025-10-14T08:00:00Z",
            "2025-10-29T14:00:00Z",
            "2025-11-04T09:00:00Z"
        ])
    );
    assert_eq!(
        column(&page, "changed"),
        [json!(false), json!(true), json!(false)]
    );
    // Cancel it: its own SEQUENCE rises, the series' does not.
    let res = put_occurrence(
        &s,
        &id,
        "2025-10-28T10:00",
        &admin,
        Some(v1 + 1),
        json!({"start": "2025-10-29T15:00", "status": "cancelled", "note": "moved a day"}),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let cancelled: Value = res.json().unwrap();
    assert_eq!(
        (cancelled["status"].clone(), cancelled["sequence"].clone()),
        (json!("cancelled"), json!(1))
    );
    let event = get_event(&s, &id, &admin);
    assert_eq!(
        (version_of(&event), event["sequence"].as_i64()),
        (v1 + 2, Some(0))
    );
    // An ambiguous time (the night summer time ends) is its earlier instant,
    // or the later with an offset; a time in a gap is refused.
    let res = put_occurrence(
        &s,
        &id,
        "2025-11-04T10:00",
        &admin,
        Some(v1 + 2),
        json!({"start": "2025-10-26T02:30", "end": "2025-10-26T02:45+01:00"}),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let early: Value = res.json().unwrap();
    assert_eq!(early["starts_at"], "2025-10-26T00:30:00Z");
    assert_eq!(early["ends_at"], "2025-10-26T01:45:00Z");
    let (status, body) = problem(put_occurrence(
        &s,
        &id,
        "2025-11-04T10:00",
        &admin,
        Some(v1 + 3),
        json!({"start": "2026-03-29T02:30"}),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "start");
    assert!(
        body["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("does not exist in Europe/Berlin"),
        "{body}"
    );
    // The series' days still run from its first occurrence to its last.
    let event = get_event(&s, &id, &admin);
    assert_eq!(
        (event["earliest"].clone(), event["latest"].clone()),
        (json!("2025-10-14"), json!("2025-10-29"))
    );
    // Occurrences the rule does not give, or that were removed, are not there.
    for missing in ["2025-10-22T10:00", "2025-10-21T10:00", "2025-11-11T10:00"] {
        let (status, body) = problem(put_occurrence(
            &s,
            &id,
            missing,
            &admin,
            Some(v1 + 3),
            json!({"start": "2025-10-29T15:00"}),
        ));
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}: {body}");
    }
    let (status, body) = problem(put_occurrence(
        &s,
        &id,
        "next-tuesday",
        &admin,
        Some(v1 + 3),
        json!({"start": "2025-10-29T15:00"}),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "recurrence_id");
    // A single event has no occurrences to change one by one.
    let single = create(
        &s,
        &admin,
        json!({"title": {"en": "Once"}, "kind": "concert", "start": "2025-06-10T10:00", "time_zone": "Asia/Almaty"}),
    );
    let (status, body) = problem(put_occurrence(
        &s,
        &id_of(&single),
        "2025-06-10T10:00",
        &admin,
        Some(1),
        json!({"start": "2025-06-11T10:00"}),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "recurrence_id");
    // A viewer may not.
    let viewer = s.token("viewer");
    let (status, _) = problem(put_occurrence(
        &s,
        &id,
        "2025-10-14T10:00",
        &viewer,
        Some(v1 + 3),
        json!({"start": "2025-10-14T11:00"}),
    ));
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Every write of an occurrence is audited.
    assert_eq!(
        audit_actions(&s, &admin, "event_occurrence"),
        ["create", "create", "update"]
    );
}

#[test]
fn an_all_day_series_moves_an_occurrence_by_dates() {
    let s = Setup::new();
    let admin = s.token("admin");
    let series = create(
        &s,
        &admin,
        json!({"title": {"en": "Days of culture"}, "kind": "days_of_culture", "when": "2025-10-07..2025-10-08",
               "rrule": "FREQ=YEARLY;UNTIL=20271231", "exdates": ["2026-10-07"]}),
    );
    assert_eq!(
        (series["earliest"].clone(), series["latest"].clone()),
        (json!("2025-10-07"), json!("2027-10-08"))
    );
    let id = id_of(&series);
    let page = occurrences(&s, &id, &admin, "?from=2025-01-01&to=2027-12-31");
    assert_eq!(
        column(&page, "recurrence_id"),
        strings(&["2025-10-07", "2027-10-07"])
    );
    assert_eq!(
        column(&page, "start"),
        strings(&["2025-10-07", "2027-10-07"])
    );
    assert_eq!(column(&page, "end"), strings(&["2025-10-08", "2027-10-08"]));
    assert_eq!(column(&page, "starts_at"), vec![Value::Null; 2]);
    let res = put_occurrence(
        &s,
        &id,
        "2027-10-07",
        &admin,
        Some(version_of(&series)),
        json!({"start": "2028-01-10"}),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let moved: Value = res.json().unwrap();
    assert_eq!(
        (moved["start"].clone(), moved["end"].clone()),
        (json!("2028-01-10"), json!("2028-01-11"))
    );
    // The series now lasts until the moved occurrence's last day.
    assert_eq!(get_event(&s, &id, &admin)["latest"], "2028-01-11");
    let (status, body) = problem(put_occurrence(
        &s,
        &id,
        "2025-10-07",
        &admin,
        Some(version_of(&series) + 1),
        json!({"start": "2025-10-07T10:00"}),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "start");
    // Deleting the event deletes its changed occurrences, audited.
    let res = s
        .client
        .delete(s.server.url(&format!("/api/v1/events/{id}")))
        .bearer_auth(&admin)
        .header("if-match", format!("\"{}\"", version_of(&series) + 1))
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        audit_actions(&s, &admin, "event_occurrence"),
        ["create", "delete"]
    );
}

#[test]
fn a_series_in_almaty_is_04z_before_2024_03_01_and_05z_after() {
    let s = Setup::new();
    let admin = s.token("admin");
    let series = create(
        &s,
        &admin,
        json!({"title": {"en": "Rehearsal"}, "kind": "concert", "start": "2024-02-23T10:00", "time_zone": "Asia/Almaty",
               "rrule": "FREQ=WEEKLY;COUNT=3"}),
    );
    let page = occurrences(
        &s,
        &id_of(&series),
        &admin,
        "?from=2024-02-01&to=2024-03-31",
    );
    assert_eq!(
        column(&page, "starts_at"),
        strings(&[
            "2024-02-23T04:00:00Z",
            "2024-03-01T05:00:00Z",
            "2024-03-08T05:00:00Z"
        ])
    );
    assert_eq!(
        column(&page, "start"),
        strings(&["2024-02-23T10:00", "2024-03-01T10:00", "2024-03-08T10:00"])
    );
}

#[test]
fn invalid_rules_exdates_and_windows_are_400_naming_the_field_and_change_nothing() {
    let s = Setup::new();
    let admin = s.token("admin");
    let pool = s.db.pool();
    let before = table_counts(&pool);
    let cases = [
        (
            json!({"rrule": "FREQ=FORTNIGHTLY"}),
            "rrule",
            "is not a recurrence rule",
        ),
        (
            json!({"rrule": "FREQ=HOURLY;COUNT=5"}),
            "rrule",
            "FREQ=HOURLY is not allowed",
        ),
        (
            json!({"rrule": "FREQ=WEEKLY;BYDAY=WE;COUNT=3"}),
            "rrule",
            "first occurrence is 2025-10-15T10:00",
        ),
        (
            json!({"rrule": "FREQ=WEEKLY;UNTIL=20251001T000000Z"}),
            "rrule",
            "before the event's start",
        ),
        (
            json!({"rrule": "FREQ=WEEKLY;UNTIL=20251231"}),
            "rrule",
            "UTC date and time",
        ),
        (
            json!({"exdates": ["2025-10-22T10:00"]}),
            "exdates[0]",
            "`2025-10-22T10:00` is not an occurrence of the series",
        ),
        (
            json!({"exdates": ["2025-10-21T10:00", "2025-10-21"]}),
            "exdates[1]",
            "is not a local date and time",
        ),
        (json!({"rrule": null}), "exdates", "only a recurring event"),
    ];
    for (change, field, reason) in cases {
        let mut body = berlin_series();
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        let (status, problem) = problem(post(&s, &admin, &body));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        assert!(
            problem["errors"][0]["reason"]
                .as_str()
                .unwrap()
                .contains(reason),
            "{reason}: {problem}"
        );
    }
    let (status, problem) = problem(post(
        &s,
        &admin,
        &json!({"title": {"en": "Festival"}, "kind": "festival", "when": "2025-10", "rrule": "FREQ=YEARLY;COUNT=2"}),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "rrule");
    assert!(problem["errors"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("approximate"));
    assert_eq!(table_counts(&pool), before);
    // A change that leaves an exdate off the new rule is refused whole.
    let series = create(&s, &admin, berlin_series());
    let id = id_of(&series);
    let res = patch_raw(
        &s,
        &id,
        &admin,
        version_of(&series),
        &json!({"rrule": "FREQ=WEEKLY;BYDAY=TU;INTERVAL=2;COUNT=4"}),
    );
    let (status, problem) = common::api::problem(res);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "exdates[0]");
    let unchanged = get_event(&s, &id, &admin);
    assert_eq!(
        (version_of(&unchanged), unchanged["rrule"].clone()),
        (version_of(&series), series["rrule"].clone())
    );
    // Windows are bounded.
    for (query, field) in [
        ("?from=2025-01-01&to=2028-01-05", "to"),
        ("?from=2025-01-01&to=2024-12-31", "to"),
        ("?from=1899-12-31&to=1900-01-05", "from"),
        ("?limit=0", "limit"),
        ("?limit=1001", "limit"),
    ] {
        let (status, problem) = common::api::problem(occurrences_raw(&s, &id, &admin, query));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    let res = occurrences_raw(&s, &id, &admin, "?from=2025-01-01&to=2028-01-04");
    assert_eq!(res.status(), StatusCode::OK);
}

#[test]
fn an_unbounded_rule_is_listed_within_a_window_and_capped() {
    let s = Setup::new();
    let admin = s.token("admin");
    let series = create(
        &s,
        &admin,
        json!({"title": {"en": "Exhibition"}, "kind": "exhibition", "when": "2025-08-01", "rrule": "FREQ=DAILY"}),
    );
    assert_eq!(
        (series["earliest"].clone(), series["latest"].clone()),
        (json!("2025-08-01"), json!("2200-12-31"))
    );
    let id = id_of(&series);
    // Default window: 2025-07-01..2026-08-02, from the series' first day on.
    let page = occurrences(&s, &id, &admin, "");
    assert_eq!(page["items"].as_array().unwrap().len(), 367);
    assert_eq!(page["items"][0]["recurrence_id"], "2025-08-01");
    assert_eq!(page["items"][366]["recurrence_id"], "2026-08-02");
    assert_eq!(page["truncated"], false);
    let page = occurrences(&s, &id, &admin, "?limit=10");
    assert_eq!(page["items"].as_array().unwrap().len(), 10);
    assert_eq!(page["truncated"], true);
    let page = occurrences(&s, &id, &admin, "?from=2025-08-01&to=2028-08-01");
    assert_eq!(page["items"].as_array().unwrap().len(), 1000);
    assert_eq!(page["items"][999]["recurrence_id"], "2028-04-26");
    assert_eq!(page["truncated"], true);
    // Far away, too.
    let page = occurrences(&s, &id, &admin, "?from=2200-12-30&to=2200-12-31");
    assert_eq!(
        column(&page, "recurrence_id"),
        strings(&["2200-12-30", "2200-12-31"])
    );
    let list: Value = s
        .get("/api/v1/events?from=2150-01-01&to=2150-01-01", Some(&admin))
        .json()
        .unwrap();
    assert_eq!(column(&list, "id"), [json!(id)]);
}

#[test]
fn the_series_sequence_rises_on_rule_and_exdate_changes_and_stale_changes_are_dropped() {
    let s = Setup::new();
    let admin = s.token("admin");
    let series = create(&s, &admin, berlin_series());
    let id = id_of(&series);
    assert_eq!(series["sequence"], 0);
    // A PATCH of something else keeps rule and exdates (the merge base has them).
    let renamed = patch(
        &s,
        &id,
        &admin,
        version_of(&series),
        json!({"title": {"en": "Working group 2"}}),
    );
    assert_eq!(
        (
            renamed["rrule"].clone(),
            renamed["exdates"].clone(),
            renamed["sequence"].clone()
        ),
        (series["rrule"].clone(), series["exdates"].clone(), json!(0))
    );
    let fewer = patch(
        &s,
        &id,
        &admin,
        version_of(&renamed),
        json!({"exdates": []}),
    );
    assert_eq!(
        (fewer["exdates"].clone(), fewer["sequence"].clone()),
        (json!([]), json!(1))
    );
    // Change the last occurrence, then shorten the rule: the change goes with it.
    let res = put_occurrence(
        &s,
        &id,
        "2025-11-04T10:00",
        &admin,
        Some(version_of(&fewer)),
        json!({"start": "2025-11-04T11:00"}),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let moved = get_event(&s, &id, &admin);
    assert_eq!(
        (version_of(&moved), moved["sequence"].as_i64()),
        (version_of(&fewer) + 1, Some(1))
    );
    let shorter = patch(
        &s,
        &id,
        &admin,
        version_of(&moved),
        json!({"rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=3"}),
    );
    assert_eq!(
        (shorter["sequence"].clone(), shorter["latest"].clone()),
        (json!(2), json!("2025-10-28"))
    );
    assert_eq!(
        audit_actions(&s, &admin, "event_occurrence"),
        ["create", "delete"]
    );
    let pool = s.db.pool();
    let counts = table_counts(&pool);
    assert!(
        counts.contains(&("event_occurrences".to_string(), 0)),
        "{counts:?}"
    );
    // Moving the start moves every occurrence: changed ones are dropped too.
    let res = put_occurrence(
        &s,
        &id,
        "2025-10-28T10:00",
        &admin,
        Some(version_of(&shorter)),
        json!({"start": "2025-10-28T09:00"}),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let later = patch(
        &s,
        &id,
        &admin,
        version_of(&shorter) + 1,
        json!({"start": "2025-10-14T11:00", "end": "2025-10-14T13:00"}),
    );
    assert_eq!(later["sequence"], 3);
    let page = occurrences(&s, &id, &admin, "?from=2025-10-01&to=2025-11-30");
    assert_eq!(
        column(&page, "recurrence_id"),
        strings(&["2025-10-14T11:00", "2025-10-21T11:00", "2025-10-28T11:00"])
    );
    assert_eq!(column(&page, "changed"), vec![json!(false); 3]);
    // Removing the rule makes a single event again.
    let single = patch(&s, &id, &admin, version_of(&later), json!({"rrule": null}));
    assert_eq!(
        (
            single["rrule"].clone(),
            single["latest"].clone(),
            single["sequence"].clone()
        ),
        (Value::Null, json!("2025-10-14"), json!(4))
    );
}

#[test]
fn moved_occurrences_are_recomputed_on_start_when_zone_rules_changed() {
    use diesel::RunQueryDsl;
    let s = Setup::new();
    let admin = s.token("admin");
    let series = create(
        &s,
        &admin,
        json!({"title": {"en": "Rehearsal"}, "kind": "concert", "start": "2031-06-03T10:00", "time_zone": "Asia/Almaty",
               "rrule": "FREQ=WEEKLY;COUNT=3"}),
    );
    let id = id_of(&series);
    let res = put_occurrence(
        &s,
        &id,
        "2031-06-10T10:00",
        &admin,
        Some(version_of(&series)),
        json!({"start": "2031-06-11T10:00"}),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    // As an older tzdata (before Kazakhstan's move to UTC+5) would have stored it.
    let pool = s.db.pool();
    let mut conn = pool.get().unwrap();
    diesel::sql_query(
        "UPDATE event_occurrences SET starts_at = '2031-06-11 04:00:00', tzdata_version = '2023c'",
    )
    .execute(&mut *conn)
    .unwrap();
    let now = chrono::NaiveDate::from_ymd_opt(2025, 8, 1)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    let changed = accord::tzdata::recompute_future_instants(&mut conn, now).unwrap();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].entity, "event_occurrence");
    assert_eq!(changed[0].after.to_string(), "2031-06-11 05:00:00");
    drop(conn);
    let page = occurrences(&s, &id, &admin, "?from=2031-06-01&to=2031-06-30");
    assert_eq!(
        column(&page, "starts_at"),
        strings(&[
            "2031-06-03T05:00:00Z",
            "2031-06-11T05:00:00Z",
            "2031-06-17T05:00:00Z"
        ])
    );
    assert_eq!(column(&page, "sequence"), [json!(0), json!(1), json!(0)]);
}

fn timed_at(title: &str, start: &str, end: Option<&str>, extra: Value) -> Value {
    let mut body = json!({"title": {"en": title, "ru": format!("{title} (ru)")}, "kind": "concert", "start": start, "time_zone": "Asia/Almaty"});
    if let Some(end) = end {
        body["end"] = json!(end);
    }
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[test]
fn an_overlapping_event_of_a_common_organiser_is_a_warning() {
    let s = Setup::new();
    let admin = s.token("admin");
    let first = create(
        &s,
        &admin,
        timed_at(
            "Opening",
            "2025-09-10T10:00",
            Some("2025-09-10T12:00"),
            json!({"organisers": ["kz-mci"]}),
        ),
    );
    assert_eq!(first["conflicts"], json!([]));
    // An hour from 11:00 overlaps 10:00-12:00: created all the same, with a warning.
    let second = create(
        &s,
        &admin,
        timed_at(
            "Press conference",
            "2025-09-10T11:00",
            None,
            json!({"organisers": ["kz-mci", "ru-mkrf"]}),
        ),
    );
    assert_eq!(
        second["conflicts"],
        json!([{"kind": "organisation_busy", "event_id": id_of(&first), "event_title": "Opening (ru)",
                "organisation": "kz-mci", "venue": null, "starts_at": "2025-09-10T05:00:00Z", "earliest": "2025-09-10"}])
    );
    // Both ways, in the reader's language (Russian unless asked otherwise).
    let res = s
        .client
        .get(
            s.server
                .url(&format!("/api/v1/events/{}?lang=en", id_of(&first))),
        )
        .bearer_auth(&admin)
        .send()
        .unwrap();
    let seen: Value = res.json().unwrap();
    assert_eq!(seen["conflicts"][0]["event_id"], json!(id_of(&second)));
    assert_eq!(seen["conflicts"][0]["event_title"], "Press conference");
    assert_eq!(seen["conflicts"][0]["starts_at"], "2025-09-10T06:00:00Z");
    // Back to back is no overlap; another organisation is no conflict.
    let after = create(
        &s,
        &admin,
        timed_at(
            "Reception",
            "2025-09-10T12:00",
            None,
            json!({"organisers": ["kz-mci"]}),
        ),
    );
    assert_eq!(after["conflicts"], json!([]));
    let other = create(
        &s,
        &admin,
        timed_at(
            "Elsewhere",
            "2025-09-10T10:30",
            None,
            json!({"organisers": ["kz-mci-arts"]}),
        ),
    );
    assert_eq!(other["conflicts"], json!([]));
    // An all-day event of the organiser that day overlaps by days.
    let day = create(
        &s,
        &admin,
        json!({"title": {"en": "Day"}, "kind": "exhibition", "when": "2025-09-10", "organisers": ["ru-mkrf"]}),
    );
    assert_eq!(
        day["conflicts"],
        json!([{"kind": "organisation_busy", "event_id": id_of(&second), "event_title": "Press conference (ru)",
                "organisation": "ru-mkrf", "venue": null, "starts_at": "2025-09-10T06:00:00Z", "earliest": "2025-09-10"}])
    );
    // Approximate events never conflict.
    let month = create(
        &s,
        &admin,
        json!({"title": {"en": "Sometime"}, "kind": "exhibition", "when": "2025-09", "organisers": ["kz-mci"]}),
    );
    assert_eq!(month["conflicts"], json!([]));
    // Cancelled events never conflict, either side.
    let cancelled = patch(
        &s,
        &id_of(&second),
        &admin,
        version_of(&second),
        json!({"status": "cancelled"}),
    );
    assert_eq!(cancelled["conflicts"], json!([]));
    assert_eq!(
        get_event(&s, &id_of(&first), &admin)["conflicts"],
        json!([])
    );
}

#[test]
fn the_same_venue_in_the_same_city_at_an_overlapping_time_is_double_booked() {
    let s = Setup::new();
    let admin = s.token("admin");
    let gala = create(
        &s,
        &admin,
        json!({"title": {"en": "Gala"}, "kind": "concert", "when": "2025-09-20", "venue": "Театр оперы", "city": "Астана"}),
    );
    assert_eq!(gala["conflicts"], json!([]));
    let concert = create(
        &s,
        &admin,
        timed_at(
            "Concert",
            "2025-09-20T19:00",
            None,
            json!({"venue": "  ТЕАТР ОПЕРЫ ", "city": "астана"}),
        ),
    );
    assert_eq!(
        concert["conflicts"],
        json!([{"kind": "venue_double_booked", "event_id": id_of(&gala), "event_title": "Gala",
                "venue": "Театр оперы", "starts_at": null, "earliest": "2025-09-20"}])
    );
    // Another city's theatre of the same name is another venue; without a city, it may be this one.
    let almaty = create(
        &s,
        &admin,
        timed_at(
            "Almaty",
            "2025-09-20T19:00",
            None,
            json!({"venue": "Театр оперы", "city": "Алматы"}),
        ),
    );
    assert_eq!(almaty["conflicts"], json!([]));
    let nowhere = create(
        &s,
        &admin,
        timed_at(
            "No city",
            "2025-09-20T10:00",
            None,
            json!({"venue": "Театр оперы"}),
        ),
    );
    let kinds: Vec<(Value, Value)> = nowhere["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["event_id"].clone(), c["kind"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [(json!(id_of(&gala)), json!("venue_double_booked")),]
    );
    // Another day is no overlap.
    let next_day = create(
        &s,
        &admin,
        timed_at(
            "Next day",
            "2025-09-21T19:00",
            None,
            json!({"venue": "Театр оперы", "city": "Астана"}),
        ),
    );
    assert_eq!(next_day["conflicts"], json!([]));
}

#[test]
fn a_recurring_event_whose_third_occurrence_overlaps_is_a_warning() {
    let s = Setup::new();
    let admin = s.token("admin");
    let series = create(
        &s,
        &admin,
        timed_at(
            "Rehearsals",
            "2025-09-01T10:00",
            Some("2025-09-01T12:00"),
            json!({"venue": "Hall", "city": "Astana", "rrule": "FREQ=WEEKLY;COUNT=5"}),
        ),
    );
    let clash = create(
        &s,
        &admin,
        timed_at(
            "Recital",
            "2025-09-15T11:00",
            None,
            json!({"venue": "hall", "city": "Astana"}),
        ),
    );
    assert_eq!(
        clash["conflicts"],
        json!([{"kind": "venue_double_booked", "event_id": id_of(&series), "event_title": "Rehearsals (ru)",
                "venue": "Hall", "starts_at": "2025-09-15T05:00:00Z", "earliest": "2025-09-15"}])
    );
    let free = create(
        &s,
        &admin,
        timed_at(
            "Recital",
            "2025-09-16T11:00",
            None,
            json!({"venue": "Hall", "city": "Astana"}),
        ),
    );
    assert_eq!(free["conflicts"], json!([]));
    // From the series' side: the recital, on its third occurrence.
    let seen = get_event(&s, &id_of(&series), &admin);
    assert_eq!(seen["conflicts"][0]["event_id"], json!(id_of(&clash)));
    assert_eq!(seen["conflicts"][0]["starts_at"], "2025-09-15T06:00:00Z");
    // Cancel that occurrence: the clash is gone.
    let res = put_occurrence(
        &s,
        &id_of(&series),
        "2025-09-15T10:00",
        &admin,
        Some(version_of(&series)),
        json!({"start": "2025-09-15T10:00", "status": "cancelled"}),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        get_event(&s, &id_of(&clash), &admin)["conflicts"],
        json!([])
    );
    assert_eq!(
        get_event(&s, &id_of(&series), &admin)["conflicts"],
        json!([])
    );
}

#[test]
fn the_openapi_description_has_the_occurrence_routes_and_the_conflicts() {
    let s = Setup::new();
    let spec: Value = s.get("/api/v1/openapi.json", None).json().unwrap();
    let paths = &spec["paths"];
    assert!(paths["/api/v1/events/{id}/occurrences"]["get"].is_object());
    assert!(paths["/api/v1/events/{id}/occurrences/{recurrence_id}"]["put"].is_object());
    let schemas = &spec["components"]["schemas"];
    for name in [
        "Conflict",
        "ConflictKind",
        "OccurrenceView",
        "OccurrencePage",
        "OccurrenceInput",
    ] {
        assert!(schemas[name].is_object(), "{name} missing");
    }
    assert!(schemas["EventView"]["properties"]["conflicts"].is_object());
    assert!(schemas["EventInput"]["properties"]["rrule"].is_object());
    assert!(schemas["EventInput"]["properties"]["exdates"].is_object());
}
