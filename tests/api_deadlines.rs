//! Yearly occurrences of obligations and lead-time deadlines over HTTP: the
//! occurrences a yearly item has, reports per occurrence year, lead times on
//! events, obligations and meetings whose due dates move with their anchor,
//! the list by due date, If-Match, permissions, validation and the import.

mod common;

use accord::import::{self, ImportError};
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

fn json_of(res: Response, want: StatusCode) -> Value {
    let status = res.status();
    let body: Value = res.json().unwrap();
    assert_eq!(status, want, "{body}");
    body
}

fn get_json(s: &Setup, path: &str, token: Option<&str>) -> Value {
    json_of(s.get(path, token), StatusCode::OK)
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

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn event_id(s: &Setup, token: &str, key: &str) -> String {
    let page = get_json(s, "/api/v1/events?limit=200", Some(token));
    id_of(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key)
            .unwrap(),
    )
}

fn meeting_4(s: &Setup, token: &str) -> Value {
    let page = get_json(s, "/api/v1/bodies/kz-ru-sc/meetings", Some(token));
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["number"] == 4)
        .unwrap()
        .clone()
}

/// POSTs a lead time and returns the created resource.
fn lead_time(s: &Setup, token: &str, body: Value) -> Value {
    let res = send(
        s,
        "POST",
        "/api/v1/lead-times",
        Some(token),
        None,
        Some(body),
    );
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let created = json_of(res, StatusCode::CREATED);
    assert_eq!(
        location,
        format!("/api/v1/lead-times/{}", created["id"].as_str().unwrap())
    );
    created
}

fn due_dates(lead_time: &Value) -> Vec<(Value, Value)> {
    lead_time["due_dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["due_on"].clone(), d["occurrence_year"].clone()))
        .collect()
}

fn undated_or(date: &str, year: Option<i64>) -> (Value, Value) {
    (json!(date), year.map_or(Value::Null, |y| json!(y)))
}

/// The audit actions on one record, sorted (entries of one fixed-clock instant have no order).
fn audit_actions(s: &Setup, entity: &str, id: &str) -> Vec<String> {
    let admin = s.token("admin");
    let page = get_json(
        s,
        &format!("/api/v1/audit?entity={entity}&entity_id={id}"),
        Some(&admin),
    );
    let mut actions: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_string())
        .collect();
    actions.sort();
    actions
}

/// A yearly item of the 2024-2026 test programme in the second quarter.
fn yearly_item(s: &Setup, token: &str) -> Value {
    let res = send(
        s,
        "POST",
        "/api/v1/programmes/kz-ru-test/obligations",
        Some(token),
        None,
        Some(json!({
            "number": "1.9",
            "section": "theatre",
            "text": {"en": "Exchange of delegations of theatre specialists every year", "ru": "Ежегодный обмен делегациями театральных специалистов"},
            "kind": "exchange_of_delegations",
            "firmness": "binding",
            "timeframe": "II quarter 2024",
            "recurrence": "yearly",
            "lifecycle": "planned",
            "assignments": [{"organisation": "kz-mci", "role": "sending"}, {"organisation": "ru-mkrf", "role": "hosting"}]
        })),
    );
    json_of(res, StatusCode::CREATED)
}

fn occurrences(item: &Value) -> Vec<(String, String, String)> {
    item["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["year"].to_string(),
                o["earliest"].as_str().unwrap().to_string(),
                o["latest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn years(rows: &[(i32, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(y, e, l)| (y.to_string(), e.to_string(), l.to_string()))
        .collect()
}

#[test]
fn a_yearly_item_in_the_second_quarter_recurs_in_each_year_of_its_programme() {
    let s = Setup::new();
    let admin = s.token("admin");
    let item = yearly_item(&s, &admin);
    let id = id_of(&item);
    let q2 = years(&[
        (2024, "2024-04-01", "2024-06-30"),
        (2025, "2025-04-01", "2025-06-30"),
        (2026, "2026-04-01", "2026-06-30"),
    ]);
    assert_eq!(occurrences(&item), q2, "{item}");
    for o in item["occurrences"].as_array().unwrap() {
        assert_eq!(o["status"], json!([]));
    }
    // The same in every view of the item: one, the list, the programme.
    let one = get_json(&s, &format!("/api/v1/obligations/{id}"), None);
    assert_eq!(occurrences(&one), q2);
    assert_eq!(occurrences(&s.item("1.9")), q2);
    let programme = get_json(&s, "/api/v1/programmes/kz-ru-test", None);
    let in_programme = programme["sections"][0]["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["number"] == "1.9")
        .unwrap()
        .clone();
    assert_eq!(occurrences(&in_programme), q2);
    // Items that do not recur have none; the imported yearly item has each calendar year.
    assert_eq!(s.item("1.1")["occurrences"], json!([]));
    assert_eq!(
        occurrences(&s.item("2.1")),
        years(&[
            (2024, "2024-01-01", "2024-12-31"),
            (2025, "2025-01-01", "2025-12-31"),
            (2026, "2026-01-01", "2026-12-31"),
        ])
    );

    // A change of timeframe moves the occurrences in the same write.
    let res = s.patch(
        &id,
        Some(&admin),
        Some(1),
        json!({"timeframe": "2024-12-15..2025-01-15"}),
    );
    let changed = json_of(res, StatusCode::OK);
    assert_eq!(
        occurrences(&changed),
        years(&[
            (2024, "2024-12-15", "2025-01-15"),
            (2025, "2025-12-15", "2026-01-15"),
            (2026, "2026-12-15", "2026-12-31"),
        ])
    );
    // Dates to be agreed: no occurrences; no longer yearly: none either.
    let res = s.patch(
        &id,
        Some(&admin),
        Some(2),
        json!({"timeframe": "to be agreed"}),
    );
    assert_eq!(json_of(res, StatusCode::OK)["occurrences"], json!([]));
    let res = s.patch(
        &id,
        Some(&admin),
        Some(3),
        json!({"timeframe": "2025-10-14"}),
    );
    assert_eq!(
        occurrences(&json_of(res, StatusCode::OK)),
        years(&[
            (2024, "2024-10-14", "2024-10-14"),
            (2025, "2025-10-14", "2025-10-14"),
            (2026, "2026-10-14", "2026-10-14"),
        ])
    );
    // A programme whose period grows takes its yearly items' occurrences along,
    // whatever their timeframe.
    let version = get_json(&s, "/api/v1/programmes/kz-ru-test", None)["version"]
        .as_i64()
        .unwrap();
    let res = send(
        &s,
        "PATCH",
        "/api/v1/programmes/kz-ru-test",
        Some(&admin),
        Some(version),
        Some(json!({"period": "2023-2026"})),
    );
    json_of(res, StatusCode::OK);
    assert_eq!(
        occurrences(&s.item("1.9")),
        years(&[
            (2023, "2023-10-14", "2023-10-14"),
            (2024, "2024-10-14", "2024-10-14"),
            (2025, "2025-10-14", "2025-10-14"),
            (2026, "2026-10-14", "2026-10-14"),
        ])
    );
    assert_eq!(
        s.item("1.9")["version"],
        4,
        "the item itself did not change"
    );
    assert_eq!(
        occurrences(&s.item("2.1")),
        years(&[
            (2023, "2023-01-01", "2023-12-31"),
            (2024, "2024-01-01", "2024-12-31"),
            (2025, "2025-01-01", "2025-12-31"),
            (2026, "2026-01-01", "2026-12-31"),
        ])
    );
    // No longer yearly: none.
    let res = s.patch(&id, Some(&admin), Some(4), json!({"recurrence": null}));
    assert_eq!(json_of(res, StatusCode::OK)["occurrences"], json!([]));
}

#[test]
fn reports_on_a_yearly_item_name_their_year_and_show_under_it() {
    let s = Setup::new();
    let admin = s.token("admin");
    let kz = s.token("kz-editor");
    let item = yearly_item(&s, &admin);
    let id = id_of(&item);
    let report = |token: &str, body: Value| s.report(&id, Some(token), body);
    let created = json_of(
        report(
            &kz,
            json!({"party": "KZ", "lifecycle": "in_progress", "completion": "complete", "as_of": "2024-06-20", "occurrence_year": 2024}),
        ),
        StatusCode::CREATED,
    );
    assert_eq!(created["report"]["occurrence_year"], 2024);
    json_of(
        report(
            &kz,
            json!({"party": "KZ", "lifecycle": "in_progress", "completion": "limited", "as_of": "2025-06-20", "occurrence_year": 2025}),
        ),
        StatusCode::CREATED,
    );
    json_of(
        report(
            &s.token("ru-editor"),
            json!({"party": "RU", "lifecycle": "in_progress", "completion": "not_started", "as_of": "2025-05-02", "occurrence_year": 2025}),
        ),
        StatusCode::CREATED,
    );
    // A later KZ report on 2024 is the latest for 2024, not for 2025.
    json_of(
        report(
            &kz,
            json!({"party": "KZ", "lifecycle": "in_progress", "completion": "substantial", "as_of": "2025-07-01", "occurrence_year": 2024}),
        ),
        StatusCode::CREATED,
    );
    let view = get_json(&s, &format!("/api/v1/obligations/{id}"), Some(&admin));
    let status = |year: usize| view["occurrences"][year]["status"].clone();
    assert_eq!(
        status(0),
        json!([{"party": "KZ", "lifecycle": "in_progress", "completion": "substantial", "as_of": "2025-07-01"}])
    );
    assert_eq!(
        status(1),
        json!([
            {"party": "KZ", "lifecycle": "in_progress", "completion": "limited", "as_of": "2025-06-20"},
            {"party": "RU", "lifecycle": "in_progress", "completion": "not_started", "as_of": "2025-05-02"}
        ])
    );
    assert_eq!(status(2), json!([]));
    // The history shows each report's year.
    let history = get_json(
        &s,
        &format!("/api/v1/obligations/{id}/reports"),
        Some(&admin),
    );
    let named: Vec<Value> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["occurrence_year"].clone())
        .collect();
    assert_eq!(
        named,
        vec![json!(2024), json!(2025), json!(2025), json!(2024)]
    );

    // A year the item has no occurrence in, or a year on an item that does
    // not recur: 400 naming occurrence_year, and nothing written.
    for (target, year, reason) in [
        (
            id.clone(),
            json!(2027),
            "2027 is not a year of this item; its occurrences are in 2024, 2025, 2026",
        ),
        (
            id.clone(),
            json!(2023),
            "2023 is not a year of this item; its occurrences are in 2024, 2025, 2026",
        ),
        (
            id_of(&s.item("1.2")),
            json!(2025),
            "this item does not recur yearly: report on it without an occurrence year",
        ),
    ] {
        let before = get_json(
            &s,
            &format!("/api/v1/obligations/{target}/reports"),
            Some(&admin),
        )["items"]
            .as_array()
            .unwrap()
            .len();
        let (status, body) = problem(s.report(
            &target,
            Some(&kz),
            json!({"party": "KZ", "lifecycle": "in_progress", "completion": "limited", "as_of": "2025-07-01", "occurrence_year": year}),
        ));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(fields(&body), ["occurrence_year"], "{body}");
        assert_eq!(body["errors"][0]["reason"], reason);
        let after = get_json(
            &s,
            &format!("/api/v1/obligations/{target}/reports"),
            Some(&admin),
        )["items"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(after, before);
    }
    // Not a number: the field is named too.
    let (status, body) = problem(report(
        &kz,
        json!({"party": "KZ", "lifecycle": "in_progress", "completion": "limited", "as_of": "2025-07-01", "occurrence_year": "next"}),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(fields(&body), ["occurrence_year"]);
}

#[test]
fn a_lead_time_on_an_event_moves_when_the_event_moves() {
    let s = Setup::new();
    let admin = s.token("admin");
    let event = event_id(&s, &admin, "tour-astana-2025");
    let created = lead_time(
        &s,
        &admin,
        json!({"event": event, "anchor": "start", "days_before": 60, "title": {"en": "Delegation list", "ru": "Список делегации"}, "party": "KZ"}),
    );
    // The tour starts on 10 June 2025 (19:00 in Astana): 60 days before is 11 April.
    assert_eq!(due_dates(&created), vec![undated_or("2025-04-11", None)]);
    assert_eq!(created["anchor_kind"], "event");
    assert_eq!(created["anchor_id"], json!(event));
    assert_eq!(created["anchor_title_display"], "Tour in Astana");
    assert_eq!(created["title_display"], "Список делегации");
    assert_eq!(created["party"], "KZ");
    let id = id_of(&created);
    let end = lead_time(
        &s,
        &admin,
        json!({"event": event, "anchor": "end", "days_before": 14, "title": {"en": "Confirm arrival"}}),
    );
    assert_eq!(due_dates(&end), vec![undated_or("2025-05-27", None)]);

    // Move the tour to 1 July: both due dates move with it.
    let version = get_json(&s, &format!("/api/v1/events/{event}"), Some(&admin))["version"]
        .as_i64()
        .unwrap();
    let res = send(
        &s,
        "PATCH",
        &format!("/api/v1/events/{event}"),
        Some(&admin),
        Some(version),
        Some(json!({"start": "2025-07-01T19:00", "end": "2025-07-02T21:30"})),
    );
    json_of(res, StatusCode::OK);
    let moved = get_json(&s, &format!("/api/v1/lead-times/{id}"), Some(&admin));
    assert_eq!(due_dates(&moved), vec![undated_or("2025-05-02", None)]);
    assert_eq!(moved["version"], 1, "the rule itself did not change");
    let list = get_json(
        &s,
        &format!("/api/v1/lead-times?event={event}"),
        Some(&admin),
    );
    let listed: Vec<(Value, Value)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["title_display"].clone(), d["due_on"].clone()))
        .collect();
    // The event itself lists its deadlines, moved too.
    let shown = get_json(&s, &format!("/api/v1/events/{event}"), Some(&admin));
    let on_event: Vec<(Value, Value)> = shown["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["title_display"].clone(), d["due_on"].clone()))
        .collect();
    assert_eq!(
        on_event,
        vec![
            (json!("Список делегации"), json!("2025-05-02")),
            (json!("Confirm arrival"), json!("2025-06-18")),
        ]
    );
    // The end moved to 2 July: 14 days before is 18 June.
    assert_eq!(
        listed,
        vec![
            (json!("Список делегации"), json!("2025-05-02")),
            (json!("Confirm arrival"), json!("2025-06-18")),
        ]
    );
    assert_eq!(list["items"][0]["anchor_kind"], "event");
    assert_eq!(
        list["items"][0]["anchor_title"],
        json!({"en": "Tour in Astana"})
    );
    assert_eq!(list["total"], 2);
}

#[test]
fn lead_times_on_obligations_count_back_from_their_timeframe_and_each_year() {
    let s = Setup::new();
    let admin = s.token("admin");
    let tour = id_of(&s.item("1.1"));
    let exchange = id_of(&s.item("2.1"));
    // The tour is due by the end of II quarter 2025.
    let on_tour = lead_time(
        &s,
        &admin,
        json!({"obligation": tour, "anchor": "end", "days_before": 30, "title": {"en": "Report to the secretariat"}}),
    );
    assert_eq!(due_dates(&on_tour), vec![undated_or("2025-05-31", None)]);
    let prepare = lead_time(
        &s,
        &admin,
        json!({"obligation": tour, "anchor": "start", "days_before": 0, "title": {"en": "Programme of the tour"}}),
    );
    assert_eq!(due_dates(&prepare), vec![undated_or("2025-04-01", None)]);
    // The yearly exchange: one due date per year of the programme.
    let yearly = lead_time(
        &s,
        &admin,
        json!({"obligation": exchange, "anchor": "end", "days_before": 30, "title": {"en": "Annual list of literature"}, "party": "RU"}),
    );
    assert_eq!(
        due_dates(&yearly),
        vec![
            undated_or("2024-12-01", Some(2024)),
            undated_or("2025-12-01", Some(2025)),
            undated_or("2026-12-01", Some(2026)),
        ]
    );
    // The obligation views list them, by due date.
    let item = get_json(&s, &format!("/api/v1/obligations/{exchange}"), None);
    let deadlines: Vec<(Value, Value, Value)> = item["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["due_on"].clone(),
                d["occurrence_year"].clone(),
                d["party"].clone(),
            )
        })
        .collect();
    assert_eq!(
        deadlines,
        vec![
            (json!("2024-12-01"), json!(2024), json!("RU")),
            (json!("2025-12-01"), json!(2025), json!("RU")),
            (json!("2026-12-01"), json!(2026), json!("RU")),
        ]
    );
    assert_eq!(item["deadlines"][0]["id"], yearly["id"]);
    assert_eq!(item["deadlines"][0]["anchor"], "end");
    assert_eq!(item["deadlines"][0]["days_before"], 30);
    assert_eq!(
        item["deadlines"][0]["title_display"],
        "Annual list of literature"
    );
    let listed = s.item("1.1");
    let tour_deadlines: Vec<Value> = listed["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["due_on"].clone())
        .collect();
    assert_eq!(
        tour_deadlines,
        vec![json!("2025-04-01"), json!("2025-05-31")]
    );
    assert_eq!(s.item("1.2")["deadlines"], json!([]));

    // A decision of the meeting postpones the tour to III quarter 2025: the deadlines follow.
    let meeting = id_of(&meeting_4(&s, &admin));
    let res = send(
        &s,
        "POST",
        &format!("/api/v1/meetings/{meeting}/decisions"),
        Some(&admin),
        None,
        Some(
            json!({"number": "9", "kind": "postpone", "text": {"en": "The tour moves to autumn"}, "effects": [{"obligation": tour, "timeframe": "III quarter 2025"}]}),
        ),
    );
    json_of(res, StatusCode::CREATED);
    let moved = get_json(&s, &format!("/api/v1/lead-times/{}", id_of(&on_tour)), None);
    assert_eq!(due_dates(&moved), vec![undated_or("2025-08-31", None)]);
    // So do a yearly item's, written or postponed.
    let version = s.item("2.1")["version"].as_i64().unwrap();
    let res = s.patch(
        &exchange,
        Some(&admin),
        Some(version),
        json!({"timeframe": "2025-10"}),
    );
    json_of(res, StatusCode::OK);
    let moved = get_json(&s, &format!("/api/v1/lead-times/{}", id_of(&yearly)), None);
    assert_eq!(
        due_dates(&moved),
        vec![
            undated_or("2024-10-01", Some(2024)),
            undated_or("2025-10-01", Some(2025)),
            undated_or("2026-10-01", Some(2026)),
        ]
    );
    let res = send(
        &s,
        "POST",
        &format!("/api/v1/meetings/{meeting}/decisions"),
        Some(&admin),
        None,
        Some(
            json!({"number": "10", "kind": "postpone", "text": {"en": "The exchange moves to November"}, "effects": [{"obligation": exchange, "timeframe": "2025-11"}]}),
        ),
    );
    json_of(res, StatusCode::CREATED);
    let postponed = get_json(&s, &format!("/api/v1/obligations/{exchange}"), None);
    assert_eq!(
        occurrences(&postponed),
        years(&[
            (2024, "2024-11-01", "2024-11-30"),
            (2025, "2025-11-01", "2025-11-30"),
            (2026, "2026-11-01", "2026-11-30"),
        ])
    );
    let moved = get_json(&s, &format!("/api/v1/lead-times/{}", id_of(&yearly)), None);
    assert_eq!(
        due_dates(&moved),
        vec![
            undated_or("2024-10-31", Some(2024)),
            undated_or("2025-10-31", Some(2025)),
            undated_or("2026-10-31", Some(2026)),
        ]
    );
    // An item whose dates are to be agreed has a deadline without a date.
    let catalogue = id_of(&s.item("2.2"));
    let undated = lead_time(
        &s,
        &admin,
        json!({"obligation": catalogue, "anchor": "start", "days_before": 10, "title": {"en": "Catalogue data"}}),
    );
    assert_eq!(due_dates(&undated), vec![(Value::Null, Value::Null)]);
    assert_eq!(s.item("2.2")["deadlines"][0]["due_on"], Value::Null);
}

#[test]
fn a_lead_time_on_a_meeting_moves_when_the_meeting_moves() {
    let s = Setup::new();
    let secretariat = s.token("secretariat");
    let meeting = meeting_4(&s, &secretariat);
    let meeting_id = id_of(&meeting);
    assert_eq!(meeting["deadlines"], json!([]));
    let created = lead_time(
        &s,
        &secretariat,
        json!({"meeting": meeting_id, "anchor": "start", "days_before": 30, "title": {"en": "Status report to the secretariat", "ru": "Отчёт в секретариат"}}),
    );
    // Meeting 4 is on 10 October 2025.
    assert_eq!(due_dates(&created), vec![undated_or("2025-09-10", None)]);
    let shown = get_json(
        &s,
        &format!("/api/v1/meetings/{meeting_id}"),
        Some(&secretariat),
    );
    assert_eq!(shown["deadlines"][0]["due_on"], "2025-09-10");
    assert_eq!(
        shown["deadlines"][0]["title_display"],
        "Отчёт в секретариат"
    );
    assert_eq!(
        meeting_4(&s, &secretariat)["deadlines"][0]["due_on"],
        "2025-09-10"
    );

    // The meeting moves to 14 November: the report is due on 15 October.
    let res = send(
        &s,
        "PATCH",
        &format!("/api/v1/meetings/{meeting_id}"),
        Some(&secretariat),
        Some(shown["version"].as_i64().unwrap()),
        Some(json!({"date": "2025-11-14"})),
    );
    let moved = json_of(res, StatusCode::OK);
    assert_eq!(moved["deadlines"][0]["due_on"], "2025-10-15");
    let rule = get_json(
        &s,
        &format!("/api/v1/lead-times/{}", id_of(&created)),
        Some(&secretariat),
    );
    assert_eq!(due_dates(&rule), vec![undated_or("2025-10-15", None)]);
    assert_eq!(
        meeting_4(&s, &secretariat)["deadlines"][0]["due_on"],
        "2025-10-15"
    );

    // Deleting the meeting deletes its lead times, audited.
    let res = send(
        &s,
        "DELETE",
        &format!("/api/v1/meetings/{meeting_id}"),
        Some(&s.token("admin")),
        Some(moved["version"].as_i64().unwrap()),
        None,
    );
    // Meeting 4 has a decision and a protocol item: it is kept, and so is the lead time.
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(
        s.get(
            &format!("/api/v1/lead-times/{}", id_of(&created)),
            Some(&secretariat)
        )
        .status(),
        StatusCode::OK
    );
    // A meeting without a record is deleted, and its lead times with it, audited.
    let res = send(
        &s,
        "POST",
        "/api/v1/bodies/kz-ru-sc/meetings",
        Some(&secretariat),
        None,
        Some(json!({"number": 5, "title": {"en": "Fifth meeting"}, "date": "2026-10-01"})),
    );
    let fifth = json_of(res, StatusCode::CREATED);
    let rule = lead_time(
        &s,
        &secretariat,
        json!({"meeting": id_of(&fifth), "anchor": "end", "days_before": 30, "title": {"en": "Draft protocol"}}),
    );
    assert_eq!(due_dates(&rule), vec![undated_or("2026-09-01", None)]);
    let res = send(
        &s,
        "DELETE",
        &format!("/api/v1/meetings/{}", id_of(&fifth)),
        Some(&secretariat),
        Some(1),
        None,
    );
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, _) = problem(s.get(
        &format!("/api/v1/lead-times/{}", id_of(&rule)),
        Some(&secretariat),
    ));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        audit_actions(&s, "lead_time", &id_of(&rule)),
        ["create", "delete"]
    );
}

#[test]
fn the_list_is_by_due_date_with_from_to_and_stable_pages() {
    let s = Setup::new();
    let admin = s.token("admin");
    let event = event_id(&s, &admin, "tour-astana-2025");
    let meeting = id_of(&meeting_4(&s, &admin));
    for body in [
        json!({"event": event, "anchor": "start", "days_before": 60, "title": {"en": "Delegation list"}}),
        json!({"obligation": id_of(&s.item("1.1")), "anchor": "end", "days_before": 30, "title": {"en": "Tour report"}}),
        json!({"obligation": id_of(&s.item("2.1")), "anchor": "end", "days_before": 30, "title": {"en": "Annual list"}}),
        json!({"meeting": meeting, "anchor": "start", "days_before": 30, "title": {"en": "Status report"}}),
        json!({"obligation": id_of(&s.item("2.2")), "anchor": "start", "days_before": 10, "title": {"en": "Catalogue data"}}),
    ] {
        lead_time(&s, &admin, body);
    }
    let dues = |page: &Value| -> Vec<(Value, Value)> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["due_on"].clone(), d["title_display"].clone()))
            .collect()
    };
    let all = get_json(&s, "/api/v1/lead-times", Some(&admin));
    let everything = vec![
        (json!("2024-12-01"), json!("Annual list")),
        (json!("2025-04-11"), json!("Delegation list")),
        (json!("2025-05-31"), json!("Tour report")),
        (json!("2025-09-10"), json!("Status report")),
        (json!("2025-12-01"), json!("Annual list")),
        (json!("2026-12-01"), json!("Annual list")),
        (Value::Null, json!("Catalogue data")),
    ];
    assert_eq!(dues(&all), everything);
    assert_eq!(all["total"], 7);
    let years: Vec<Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["occurrence_year"].clone())
        .collect();
    assert_eq!(
        years,
        vec![
            json!(2024),
            Value::Null,
            Value::Null,
            Value::Null,
            json!(2025),
            json!(2026),
            Value::Null
        ]
    );
    let kinds: Vec<Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["anchor_kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            "obligation",
            "event",
            "obligation",
            "meeting",
            "obligation",
            "obligation",
            "obligation"
        ]
        .map(|k| json!(k))
        .to_vec()
    );

    // From and to bound the due date and leave the undated out.
    let window = get_json(
        &s,
        "/api/v1/lead-times?from=2025-05-01&to=2025-12-31",
        Some(&admin),
    );
    assert_eq!(dues(&window), everything[2..5].to_vec());
    assert_eq!(window["total"], 3);
    let from = get_json(&s, "/api/v1/lead-times?from=2025-12-01", Some(&admin));
    assert_eq!(dues(&from), everything[4..6].to_vec());

    // Pages of three follow each other without gaps or repeats.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/lead-times?limit=3&cursor={c}"),
            None => "/api/v1/lead-times?limit=3".to_string(),
        };
        let page = get_json(&s, &path, Some(&admin));
        seen.extend(dues(&page));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, everything);

    // Per programme: its items' and the events fulfilling them, not the meeting's.
    let programme = get_json(&s, "/api/v1/lead-times?programme=kz-ru-test", Some(&admin));
    assert_eq!(programme["total"], 6);
    // Anonymous callers see the public programme's items only.
    let public = get_json(&s, "/api/v1/lead-times", None);
    assert_eq!(
        dues(&public),
        vec![
            everything[0].clone(),
            everything[2].clone(),
            everything[4].clone(),
            everything[5].clone(),
            everything[6].clone(),
        ]
    );
    let (status, _) = problem(s.get(&format!("/api/v1/lead-times?event={event}"), None));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = problem(s.get(&format!("/api/v1/lead-times?meeting={meeting}"), None));
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Bad filters name themselves.
    for (query, field) in [
        ("from=2025-06-01&to=2025-05-01", "to"),
        ("event=not-a-uuid", "event"),
        ("limit=0", "limit"),
        ("cursor=zz", "cursor"),
        ("from=1800-01-01", "from"),
    ] {
        let (status, body) = problem(s.get(&format!("/api/v1/lead-times?{query}"), Some(&admin)));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(fields(&body), [field], "{query}: {body}");
    }
    // An unknown anchor has no deadlines.
    let none = get_json(
        &s,
        "/api/v1/lead-times?obligation=00000000-0000-4000-8000-000000000000",
        Some(&admin),
    );
    assert_eq!(none["items"], json!([]));
}

#[test]
fn writes_follow_if_match_and_are_audited() {
    let s = Setup::new();
    let admin = s.token("admin");
    let tour = id_of(&s.item("1.1"));
    let created = lead_time(
        &s,
        &admin,
        json!({"obligation": tour, "anchor": "end", "days_before": 30, "title": {"en": "Report"}}),
    );
    let id = id_of(&created);
    let path = format!("/api/v1/lead-times/{id}");
    let res = s.get(&path, Some(&admin));
    assert_eq!(res.headers()["etag"], "\"1\"");
    let body = json!({"obligation": tour, "anchor": "start", "days_before": 7, "title": {"en": "Report", "ru": "Отчёт"}, "party": "RU"});
    // Without If-Match: 428; with an old version: 412; nothing changes.
    let (status, _) = problem(send(
        &s,
        "PUT",
        &path,
        Some(&admin),
        None,
        Some(body.clone()),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, _) = problem(send(
        &s,
        "PUT",
        &path,
        Some(&admin),
        Some(2),
        Some(body.clone()),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (status, _) = problem(send(
        &s,
        "PATCH",
        &path,
        Some(&admin),
        None,
        Some(json!({"days_before": 1})),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(get_json(&s, &path, Some(&admin))["days_before"], 30);

    let res = send(&s, "PUT", &path, Some(&admin), Some(1), Some(body));
    assert_eq!(res.headers()["etag"], "\"2\"");
    let replaced = json_of(res, StatusCode::OK);
    assert_eq!(replaced["anchor"], "start");
    assert_eq!(replaced["days_before"], 7);
    assert_eq!(replaced["party"], "RU");
    assert_eq!(due_dates(&replaced), vec![undated_or("2025-03-25", None)]);
    // A merge patch changes what it names; null removes the party.
    let res = send(
        &s,
        "PATCH",
        &path,
        Some(&admin),
        Some(2),
        Some(json!({"days_before": 14, "party": null})),
    );
    let patched = json_of(res, StatusCode::OK);
    assert_eq!(patched["version"], 3);
    assert_eq!(patched["party"], Value::Null);
    assert_eq!(patched["title"], json!({"en": "Report", "ru": "Отчёт"}));
    assert_eq!(due_dates(&patched), vec![undated_or("2025-03-18", None)]);
    // Moved to another anchor with a patch: the old one is removed with null.
    let event = event_id(&s, &admin, "tour-astana-2025");
    let res = send(
        &s,
        "PATCH",
        &path,
        Some(&admin),
        Some(3),
        Some(json!({"obligation": null, "event": event})),
    );
    let moved = json_of(res, StatusCode::OK);
    assert_eq!(moved["anchor_kind"], "event");
    assert_eq!(due_dates(&moved), vec![undated_or("2025-05-27", None)]);
    // The same content again changes nothing, not even the version.
    let res = send(
        &s,
        "PATCH",
        &path,
        Some(&admin),
        Some(4),
        Some(json!({"days_before": 14})),
    );
    assert_eq!(json_of(res, StatusCode::OK)["version"], 4);

    let (status, _) = problem(send(&s, "DELETE", &path, Some(&admin), None, None));
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, _) = problem(send(&s, "DELETE", &path, Some(&admin), Some(3), None));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let res = send(&s, "DELETE", &path, Some(&admin), Some(4), None);
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, _) = problem(s.get(&path, Some(&admin)));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        audit_actions(&s, "lead_time", &id),
        ["create", "delete", "update", "update", "update"]
    );
}

#[test]
fn only_who_may_change_the_anchor_writes_its_lead_times() {
    let s = Setup::new();
    let admin = s.token("admin");
    let viewer = s.token("viewer");
    let kz_editor = s.token("kz-editor");
    let ru_editor = s.token("ru-editor");
    // 1.2 is assigned to kz-mci only.
    let days = id_of(&s.item("1.2"));
    let event = event_id(&s, &admin, "tour-astana-2025");
    let meeting = id_of(&meeting_4(&s, &admin));
    let on = |field: &str, id: &str| json!({field: id, "anchor": "start", "days_before": 20, "title": {"en": "Programme of the visit"}});
    for (token, body, want) in [
        (None, on("obligation", &days), StatusCode::UNAUTHORIZED),
        (
            Some(&viewer),
            on("obligation", &days),
            StatusCode::FORBIDDEN,
        ),
        (
            Some(&ru_editor),
            on("obligation", &days),
            StatusCode::FORBIDDEN,
        ),
        (Some(&kz_editor), on("event", &event), StatusCode::FORBIDDEN),
        (
            Some(&kz_editor),
            on("meeting", &meeting),
            StatusCode::FORBIDDEN,
        ),
        (
            Some(&s.token("other-secretariat")),
            on("meeting", &meeting),
            StatusCode::FORBIDDEN,
        ),
        (
            Some(&s.token("other-secretariat")),
            on("obligation", &days),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let (status, _) = problem(send(
            &s,
            "POST",
            "/api/v1/lead-times",
            token.map(String::as_str),
            None,
            Some(body.clone()),
        ));
        assert_eq!(status, want, "{body}");
    }
    assert_eq!(get_json(&s, "/api/v1/lead-times", Some(&admin))["total"], 0);
    // The editor of the assigned organisation and the body's secretariat may.
    let mine = lead_time(&s, &kz_editor, on("obligation", &days));
    lead_time(&s, &s.token("secretariat"), on("meeting", &meeting));
    // An editor of another organisation may neither change nor delete it, nor move it onto an item of its own.
    let path = format!("/api/v1/lead-times/{}", id_of(&mine));
    for (method, body) in [
        ("PATCH", Some(json!({"days_before": 1}))),
        ("PUT", Some(on("obligation", &days))),
        ("DELETE", None),
    ] {
        let (status, _) = problem(send(&s, method, &path, Some(&ru_editor), Some(1), body));
        assert_eq!(status, StatusCode::FORBIDDEN, "{method}");
    }
    let (status, _) = problem(send(
        &s,
        "PATCH",
        &path,
        Some(&viewer),
        Some(1),
        Some(json!({"days_before": 1})),
    ));
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Nor may the KZ editor move it onto the event, which it may not change.
    let (status, _) = problem(send(
        &s,
        "PATCH",
        &path,
        Some(&kz_editor),
        Some(1),
        Some(json!({"obligation": null, "event": event})),
    ));
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(get_json(&s, &path, Some(&admin))["version"], 1);
    // Reading follows reading the anchor: an item of a public programme is public.
    assert_eq!(s.get(&path, None).status(), StatusCode::OK);
    let meeting_rule = get_json(
        &s,
        &format!("/api/v1/lead-times?meeting={meeting}"),
        Some(&viewer),
    );
    let rule_path = format!(
        "/api/v1/lead-times/{}",
        meeting_rule["items"][0]["id"].as_str().unwrap()
    );
    let (status, _) = problem(s.get(&rule_path, None));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(s.get(&rule_path, Some(&viewer)).status(), StatusCode::OK);
    // The KZ editor changes its own.
    let res = send(
        &s,
        "PATCH",
        &path,
        Some(&kz_editor),
        Some(1),
        Some(json!({"days_before": 45})),
    );
    assert_eq!(json_of(res, StatusCode::OK)["days_before"], 45);
}

#[test]
fn bad_lead_times_name_the_field_and_write_nothing() {
    let s = Setup::new();
    let admin = s.token("admin");
    let tour = id_of(&s.item("1.1"));
    let event = event_id(&s, &admin, "tour-astana-2025");
    let good =
        json!({"obligation": tour, "anchor": "end", "days_before": 30, "title": {"en": "Report"}});
    let with = |changes: Value| {
        let mut body = good.clone();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    for (body, field, reason) in [
        (
            with(json!({"event": event})),
            "obligation",
            Some("a lead time hangs on exactly one of `event`, `obligation` or `meeting`"),
        ),
        (
            with(json!({"obligation": null})),
            "event",
            Some("a lead time hangs on exactly one of `event`, `obligation` or `meeting`"),
        ),
        (
            with(json!({"obligation": "nope"})),
            "obligation",
            Some("`nope` is not a UUID"),
        ),
        (
            with(json!({"obligation": "00000000-0000-4000-8000-000000000000"})),
            "obligation",
            Some("obligation 00000000-0000-4000-8000-000000000000 does not exist"),
        ),
        (
            with(json!({"days_before": 3661})),
            "days_before",
            Some("3661 is out of range: 0 to 3660 days"),
        ),
        (
            with(json!({"days_before": -1})),
            "days_before",
            Some("-1 is out of range: 0 to 3660 days"),
        ),
        (with(json!({"days_before": "sixty"})), "days_before", None),
        (with(json!({"anchor": "middle"})), "anchor", None),
        (with(json!({"title": {}})), "title", None),
        (with(json!({"title": {"xx": "Report"}})), "title.?", None),
        (
            with(json!({"title": {"en": "x".repeat(501)}})),
            "title.en",
            Some("is longer than 500 characters"),
        ),
        (
            with(json!({"party": "ZZ"})),
            "party",
            Some("`ZZ` is not a party"),
        ),
        (with(json!({"colour": "red"})), "colour", None),
    ] {
        let (status, problem_body) = problem(send(
            &s,
            "POST",
            "/api/v1/lead-times",
            Some(&admin),
            None,
            Some(body.clone()),
        ));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(fields(&problem_body), [field], "{body}: {problem_body}");
        if let Some(reason) = reason {
            assert_eq!(problem_body["errors"][0]["reason"], reason, "{body}");
        }
    }
    // Several bad fields at once are all named.
    let (_, body) = problem(send(
        &s,
        "POST",
        "/api/v1/lead-times",
        Some(&admin),
        None,
        Some(with(json!({"days_before": 5000, "party": "ZZ"}))),
    ));
    assert_eq!(fields(&body), ["days_before", "party"]);
    assert_eq!(get_json(&s, "/api/v1/lead-times", Some(&admin))["total"], 0);
    let audit = get_json(&s, "/api/v1/audit?entity=lead_time", Some(&admin));
    assert_eq!(audit["items"], json!([]));

    // A bad change changes nothing either.
    let created = lead_time(&s, &admin, good.clone());
    let path = format!("/api/v1/lead-times/{}", id_of(&created));
    let (status, body) = problem(send(
        &s,
        "PATCH",
        &path,
        Some(&admin),
        Some(1),
        Some(json!({"days_before": 9999})),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(fields(&body), ["days_before"]);
    let (status, body) = problem(send(
        &s,
        "PATCH",
        &path,
        Some(&admin),
        Some(1),
        Some(json!({"meeting": event})),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(fields(&body), ["meeting"], "{body}");
    assert_eq!(get_json(&s, &path, Some(&admin)), created);
    let (status, _) = problem(s.get("/api/v1/lead-times/not-a-uuid", Some(&admin)));
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[test]
fn deleting_an_item_deletes_its_lead_times_audited() {
    let s = Setup::new();
    let admin = s.token("admin");
    let item = yearly_item(&s, &admin);
    let rule = lead_time(
        &s,
        &admin,
        json!({"obligation": id_of(&item), "anchor": "start", "days_before": 14, "title": {"en": "Delegation list"}}),
    );
    assert_eq!(
        due_dates(&rule),
        vec![
            undated_or("2024-03-18", Some(2024)),
            undated_or("2025-03-18", Some(2025)),
            undated_or("2026-03-18", Some(2026)),
        ]
    );
    let res = send(
        &s,
        "DELETE",
        &format!("/api/v1/obligations/{}", id_of(&item)),
        Some(&admin),
        Some(1),
        None,
    );
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, _) = problem(s.get(
        &format!("/api/v1/lead-times/{}", id_of(&rule)),
        Some(&admin),
    ));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        audit_actions(&s, "lead_time", &id_of(&rule)),
        ["create", "delete"]
    );
}

const WITH_LEAD_TIMES: &str = r#"
programmes:
  - key: kz-ru-test
    title: {en: Test programme 2024-2026, ru: Тестовая программа 2024-2026}
    agreement: kz-ru-1994
    body: kz-ru-sc
    period: "2024-2026"
    parties: [KZ, RU]
    public: true
    sections:
      - code: theatre
        title: {en: Theatre and music}
        obligations:
          - number: "1.1"
            text: {en: Tour of a theatre}
            kind: tour
            timeframe: II quarter 2025
            lead_times:
              - {anchor: end, days_before: 30, title: {en: Report to the secretariat}}
          - number: "1.4"
            text: {en: Exchange of delegations every year}
            kind: exchange_of_delegations
            timeframe: "2024"
            recurrence: yearly
            reports:
              - {party: KZ, as_of: 2024-12-10, occurrence_year: 2024, lifecycle: in_progress, completion: complete}
            lead_times:
              - {anchor: end, days_before: 30, title: {en: Annual report, ru: Годовой отчёт}, party: RU}
events:
  - key: tour-astana-2025
    title: {en: Tour in Astana}
    kind: tour
    start: 2025-06-10T19:00
    time_zone: Asia/Almaty
    lead_times:
      - {anchor: start, days_before: 60, title: {en: Delegation list}, party: KZ}
      - {anchor: start, days_before: 14, title: {en: Confirm arrival}, party: KZ}
"#;

#[test]
fn the_import_reads_lead_times_and_occurrence_years_idempotently() {
    let s = Setup::new();
    let pool = s.db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let ctx = write_context("import");
    let first = import::import_str(&mut conn, WITH_LEAD_TIMES, &ctx).unwrap();
    assert_eq!(first.created.get("lead times"), Some(&4), "{first}");
    let again = import::import_str(&mut conn, WITH_LEAD_TIMES, &ctx).unwrap();
    assert!(!again.changed_anything(), "{again}");
    assert_eq!(again.unchanged.get("lead times"), Some(&4), "{again}");
    // A changed party updates the rule in place; a changed title is another rule.
    let edited = WITH_LEAD_TIMES.replace("party: RU}", "party: KZ}");
    let third = import::import_str(&mut conn, &edited, &ctx).unwrap();
    assert_eq!(third.updated.get("lead times"), Some(&1), "{third}");
    drop(conn);

    let admin = s.token("admin");
    let list = get_json(&s, "/api/v1/lead-times", Some(&admin));
    let dues: Vec<(Value, Value, Value)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["due_on"].clone(),
                d["title_display"].clone(),
                d["party"].clone(),
            )
        })
        .collect();
    assert_eq!(
        dues,
        vec![
            (json!("2024-12-01"), json!("Годовой отчёт"), json!("KZ")),
            (json!("2025-04-11"), json!("Delegation list"), json!("KZ")),
            (json!("2025-05-27"), json!("Confirm arrival"), json!("KZ")),
            (
                json!("2025-05-31"),
                json!("Report to the secretariat"),
                Value::Null
            ),
            (json!("2025-12-01"), json!("Годовой отчёт"), json!("KZ")),
            (json!("2026-12-01"), json!("Годовой отчёт"), json!("KZ")),
        ]
    );
    let yearly = s.item("1.4");
    assert_eq!(
        yearly["occurrences"][0]["status"][0]["completion"],
        "complete"
    );
    assert_eq!(yearly["occurrences"][1]["status"], json!([]));
    let reports = get_json(
        &s,
        &format!("/api/v1/obligations/{}/reports", id_of(&yearly)),
        Some(&admin),
    );
    assert_eq!(reports["items"][0]["occurrence_year"], 2024);
}

#[test]
fn bad_lead_times_in_an_import_are_reported_with_their_lines() {
    let s = Setup::new();
    let pool = s.db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let bad = WITH_LEAD_TIMES
        .replace("days_before: 14", "days_before: 4000")
        .replace(
            "anchor: end, days_before: 30, title: {en: Report",
            "anchor: middle, days_before: 30, title: {en: Report",
        )
        .replace("occurrence_year: 2024", "occurrence_year: 2031")
        .replace("party: RU}", "party: XX}");
    let Err(ImportError::Invalid(problems)) =
        import::import_str(&mut conn, &bad, &write_context("import"))
    else {
        panic!("the file is refused");
    };
    let found: Vec<(Option<usize>, String, String)> = problems
        .iter()
        .map(|p| (p.line, p.path.clone(), p.message.clone()))
        .collect();
    let line_of = |needle: &str| bad.lines().position(|l| l.contains(needle)).map(|i| i + 1);
    let expected = vec![
        (
            line_of("anchor: middle"),
            "programmes[0].sections[0].obligations[0].lead_times[0].anchor".to_string(),
            "`middle` is not allowed here; expected one of: start, end".to_string(),
        ),
        (
            line_of("occurrence_year: 2031"),
            "programmes[0].sections[0].obligations[1].reports[0].occurrence_year".to_string(),
            "2031 is not a year of this item; its occurrences are in 2024, 2025, 2026".to_string(),
        ),
        (
            line_of("party: XX"),
            "programmes[0].sections[0].obligations[1].lead_times[0].party".to_string(),
            "party `XX` is neither in this file nor in the database".to_string(),
        ),
        (
            line_of("days_before: 4000"),
            "events[0].lead_times[1].days_before".to_string(),
            "4000 is out of range: 0 to 3660 days".to_string(),
        ),
    ];
    for want in &expected {
        assert!(want.0.is_some(), "{want:?}");
    }
    assert_eq!(found, expected);
    drop(conn);
    assert_eq!(
        get_json(&s, "/api/v1/lead-times", Some(&s.token("admin")))["total"],
        0
    );
}
