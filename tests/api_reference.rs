//! Reference data over HTTP: parties, organisations and their contacts.
//! CRUD with ETags and audit, lists and stable pages, who may write, and
//! malformed input that changes nothing.

mod common;

use common::api::*;
use common::*;
use reqwest::blocking::Response;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// One request: JSON body (merge patch for PATCH), optional token and If-Match.
fn call(
    s: &Setup,
    method: Method,
    path: &str,
    token: Option<&str>,
    if_match: Option<i64>,
    body: Option<Value>,
) -> Response {
    let content_type = if method == Method::PATCH {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let mut req = s.client.request(method, s.server.url(path));
    if let Some(b) = body {
        req = req.header("content-type", content_type).body(b.to_string());
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(v) = if_match {
        req = req.header("if-match", format!("\"{v}\""));
    }
    req.send().unwrap()
}

fn etag(res: &Response) -> String {
    res.headers()["etag"].to_str().unwrap().to_string()
}

fn location(res: &Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

/// The audit entries of one record, read back through the API as admin.
fn audit_actions(s: &Setup, admin: &str, entity: &str, id: &str) -> Vec<String> {
    let res = s.get(
        &format!("/api/v1/audit?entity={entity}&entity_id={id}"),
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
    actions.sort();
    actions
}

fn audit_entries(s: &Setup, admin: &str, entity: &str, id: &str) -> Vec<Value> {
    let page: Value = s
        .get(
            &format!("/api/v1/audit?entity={entity}&entity_id={id}"),
            Some(admin),
        )
        .json()
        .unwrap();
    page["items"].as_array().unwrap().clone()
}

fn field_names(problem: &Value) -> Vec<String> {
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

/// Codes or keys of a list page, in order.
fn names(page: &Value, field: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[field].as_str().unwrap().to_string())
        .collect()
}

fn list(s: &Setup, path: &str, token: Option<&str>, field: &str) -> Vec<String> {
    let res = s.get(path, token);
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    names(&res.json().unwrap(), field)
}

#[test]
fn parties_crud_with_etags_location_conflicts_and_one_audit_entry_per_write() {
    let s = Setup::new();
    let admin = s.token("admin");
    let pool = s.db.pool();

    // Anyone reads parties; names come whole with a display value.
    let page: Value = s.get("/api/v1/parties?lang=en", None).json().unwrap();
    assert_eq!(names(&page, "code"), ["KZ", "KZ-KUS", "RU"]);
    assert_eq!(page["total"], 3);
    assert!(page["next_cursor"].is_null());
    let kus = &page["items"][1];
    assert_eq!(kus["kind"], "region");
    assert_eq!(kus["parent"], "KZ");
    assert_eq!(kus["time_zone"], "Asia/Qostanay");
    let res = s.get("/api/v1/parties/KZ?lang=kk", None);
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"1\"");
    let kz: Value = res.json().unwrap();
    assert_eq!(
        kz["name"],
        json!({"en": "Kazakhstan", "ru": "Казахстан", "kk": "Қазақстан"})
    );
    assert_eq!(kz["name_display"], "Қазақстан");
    assert_eq!(kz["kind"], "state");
    assert!(kz["parent"].is_null());
    chrono::DateTime::parse_from_rfc3339(kz["updated_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        problem(s.get("/api/v1/parties/BY", None)).0,
        StatusCode::NOT_FOUND
    );

    // Create a state and one of its regions.
    let res = call(
        &s,
        Method::POST,
        "/api/v1/parties",
        Some(&admin),
        None,
        Some(
            json!({"code": "BY", "name": {"ru": "Беларусь", "en": "Belarus"}, "time_zone": "Europe/Minsk"}),
        ),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(location(&res), "/api/v1/parties/BY");
    assert_eq!(etag(&res), "\"1\"");
    let by: Value = res.json().unwrap();
    assert_eq!(by["code"], "BY");
    assert_eq!(by["kind"], "state");
    assert_eq!(by["name_display"], "Беларусь");
    let by_id = by["id"].as_str().unwrap().to_string();
    assert_eq!(audit_actions(&s, &admin, "party", &by_id), ["create"]);
    let res = call(
        &s,
        Method::POST,
        "/api/v1/parties",
        Some(&admin),
        None,
        Some(
            json!({"code": "BY-HM", "parent": "BY", "name": {"en": "Minsk"}, "time_zone": "Europe/Minsk"}),
        ),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let minsk: Value = res.json().unwrap();
    assert_eq!(
        (minsk["kind"].as_str(), minsk["parent"].as_str()),
        (Some("region"), Some("BY"))
    );
    let minsk_id = minsk["id"].as_str().unwrap().to_string();
    assert_eq!(
        s.get("/api/v1/parties/BY-HM", None)
            .json::<Value>()
            .unwrap()["id"],
        minsk_id.as_str()
    );

    // The same code twice: 409, nothing written.
    let counts = table_counts(&pool);
    let (status, body) = problem(call(
        &s,
        Method::POST,
        "/api/v1/parties",
        Some(&admin),
        None,
        Some(json!({"code": "BY", "name": {"en": "Belarus"}, "time_zone": "Europe/Minsk"})),
    ));
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "conflict");
    assert_eq!(table_counts(&pool), counts);

    // PATCH merges into the name; the version moves; one more audit entry.
    let res = call(
        &s,
        Method::PATCH,
        "/api/v1/parties/BY",
        Some(&admin),
        Some(1),
        Some(json!({"name": {"en": "Republic of Belarus"}})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"2\"");
    let patched: Value = res.json().unwrap();
    assert_eq!(
        patched["name"],
        json!({"en": "Republic of Belarus", "ru": "Беларусь"})
    );
    assert_eq!(
        audit_actions(&s, &admin, "party", &by_id),
        ["create", "update"]
    );
    let update = audit_entries(&s, &admin, "party", &by_id)
        .into_iter()
        .find(|e| e["action"] == "update")
        .unwrap();
    assert_eq!(update["actor"], "user:admin");
    let before: Value = serde_json::from_str(update["before"].as_str().unwrap()).unwrap();
    let after: Value = serde_json::from_str(update["after"].as_str().unwrap()).unwrap();
    assert_eq!(before["version"], 1);
    assert_eq!(after["version"], 2);
    assert!(after["name"]
        .as_str()
        .unwrap()
        .contains("Republic of Belarus"));

    // Stale and missing If-Match change nothing.
    let counts = table_counts(&pool);
    let (status, _) = problem(call(
        &s,
        Method::PATCH,
        "/api/v1/parties/BY",
        Some(&admin),
        Some(1),
        Some(json!({"time_zone": "Europe/Moscow"})),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (status, _) = problem(call(
        &s,
        Method::PUT,
        "/api/v1/parties/BY",
        Some(&admin),
        None,
        Some(json!({"name": {"en": "Belarus"}, "time_zone": "Europe/Minsk"})),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(table_counts(&pool), counts);
    assert_eq!(
        s.get("/api/v1/parties/BY", None).json::<Value>().unwrap()["time_zone"],
        "Europe/Minsk"
    );

    // PUT replaces the whole: the Russian name is gone.
    let res = call(
        &s,
        Method::PUT,
        "/api/v1/parties/BY",
        Some(&admin),
        Some(2),
        Some(json!({"name": {"en": "Belarus"}, "time_zone": "Europe/Minsk"})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"3\"");
    assert_eq!(
        res.json::<Value>().unwrap()["name"],
        json!({"en": "Belarus"})
    );
    assert_eq!(audit_actions(&s, &admin, "party", &by_id).len(), 3);

    // A state with a region cannot go; the region can, then the state.
    let (status, body) = problem(call(
        &s,
        Method::DELETE,
        "/api/v1/parties/BY",
        Some(&admin),
        Some(3),
        None,
    ));
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["detail"].as_str().unwrap().contains("1 regions"),
        "{body}"
    );
    let (status, _) = problem(call(
        &s,
        Method::DELETE,
        "/api/v1/parties/BY-HM",
        Some(&admin),
        Some(7),
        None,
    ));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let res = call(
        &s,
        Method::DELETE,
        "/api/v1/parties/BY-HM",
        Some(&admin),
        Some(1),
        None,
    );
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        audit_actions(&s, &admin, "party", &minsk_id),
        ["create", "delete"]
    );
    assert_eq!(
        problem(s.get("/api/v1/parties/BY-HM", None)).0,
        StatusCode::NOT_FOUND
    );
    let res = call(
        &s,
        Method::DELETE,
        "/api/v1/parties/BY",
        Some(&admin),
        Some(3),
        None,
    );
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(audit_actions(&s, &admin, "party", &by_id).len(), 4);

    // Parties in use stay, and the answer says what uses them.
    let counts = table_counts(&pool);
    let (status, body) = problem(call(
        &s,
        Method::DELETE,
        "/api/v1/parties/KZ",
        Some(&admin),
        Some(1),
        None,
    ));
    assert_eq!(status, StatusCode::CONFLICT);
    let detail = body["detail"].as_str().unwrap();
    for what in [
        "regions",
        "organisations",
        "agreements",
        "programmes",
        "assignments",
        "status reports",
    ] {
        assert!(detail.contains(what), "{what}: {detail}");
    }
    let (status, body) = problem(call(
        &s,
        Method::DELETE,
        "/api/v1/parties/RU",
        Some(&admin),
        Some(1),
        None,
    ));
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["detail"].as_str().unwrap().contains("organisations"));
    assert_eq!(table_counts(&pool), counts);
}

#[test]
fn organisations_crud_with_parent_checks_conflicts_and_one_audit_entry_per_write() {
    let s = Setup::new();
    let admin = s.token("admin");
    let secretariat = s.token("secretariat");
    let pool = s.db.pool();

    let page: Value = s
        .get("/api/v1/organisations?lang=ru", Some(&secretariat))
        .json()
        .unwrap();
    assert_eq!(names(&page, "key"), ["kz-mci", "kz-mci-arts", "ru-mkrf"]);
    assert_eq!(page["total"], 3);
    let arts = &page["items"][1];
    assert_eq!(arts["parent"], "kz-mci");
    assert_eq!(arts["party"], "KZ");
    assert_eq!(arts["kind"], "department");
    assert_eq!(
        arts["time_zone"], "Asia/Almaty",
        "the party's zone by default"
    );
    assert_eq!(
        page["items"][0]["name_display"],
        "Министерство культуры и информации"
    );

    // A secretariat adds a museum under the ministry; the zone defaults to the party's.
    let res = call(
        &s,
        Method::POST,
        "/api/v1/organisations",
        Some(&secretariat),
        None,
        Some(json!({
            "key": "kz-central-museum", "party": "KZ", "kind": "museum", "parent": "kz-mci",
            "name": {"ru": "Центральный государственный музей", "en": "Central State Museum"},
            "email": "info@csmrk.kz", "website": "https://csmrk.kz"
        })),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(etag(&res), "\"1\"");
    let loc = location(&res);
    let museum: Value = res.json().unwrap();
    let id = museum["id"].as_str().unwrap().to_string();
    assert_eq!(loc, format!("/api/v1/organisations/{id}"));
    assert_eq!(museum["time_zone"], "Asia/Almaty");
    assert_eq!(museum["parent"], "kz-mci");
    assert_eq!(museum["email"], "info@csmrk.kz");
    assert_eq!(audit_actions(&s, &admin, "organisation", &id), ["create"]);
    // Found by the Location, by id and by key alike.
    let res = s.get(&loc, Some(&secretariat));
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"1\"");
    let by_key: Value = s
        .get(
            "/api/v1/organisations/kz-central-museum",
            Some(&secretariat),
        )
        .json()
        .unwrap();
    assert_eq!(by_key["id"], id.as_str());

    // The key is taken.
    let counts = table_counts(&pool);
    let (status, _) = problem(call(
        &s,
        Method::POST,
        "/api/v1/organisations",
        Some(&secretariat),
        None,
        Some(
            json!({"key": "kz-central-museum", "party": "RU", "kind": "museum", "name": {"en": "Another"}}),
        ),
    ));
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(table_counts(&pool), counts);

    // PATCH the zone and drop the website.
    let res = call(
        &s,
        Method::PATCH,
        "/api/v1/organisations/kz-central-museum",
        Some(&secretariat),
        Some(1),
        Some(json!({"time_zone": "Asia/Qostanay", "website": null})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"2\"");
    let patched: Value = res.json().unwrap();
    assert_eq!(patched["time_zone"], "Asia/Qostanay");
    assert!(patched["website"].is_null());
    assert_eq!(patched["name"]["ru"], "Центральный государственный музей");
    assert_eq!(
        audit_actions(&s, &admin, "organisation", &id),
        ["create", "update"]
    );

    // A parent that is itself or below it would make a cycle.
    let counts = table_counts(&pool);
    let (status, body) = problem(call(
        &s,
        Method::PATCH,
        &format!("/api/v1/organisations/{id}"),
        Some(&secretariat),
        Some(2),
        Some(json!({"parent": "kz-central-museum"})),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field_names(&body), ["parent"]);
    let (status, body) = problem(call(
        &s,
        Method::PATCH,
        "/api/v1/organisations/kz-mci",
        Some(&secretariat),
        Some(1),
        Some(json!({"parent": "kz-central-museum"})),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field_names(&body), ["parent"]);
    assert!(body["errors"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("cycle"));
    // Stale If-Match.
    let (status, _) = problem(call(
        &s,
        Method::PUT,
        &format!("/api/v1/organisations/{id}"),
        Some(&secretariat),
        Some(1),
        Some(
            json!({"key": "kz-central-museum", "party": "KZ", "kind": "museum", "name": {"en": "Central State Museum"}}),
        ),
    ));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(table_counts(&pool), counts);

    // PUT renames the key; the id stays.
    let res = call(
        &s,
        Method::PUT,
        &format!("/api/v1/organisations/{id}"),
        Some(&secretariat),
        Some(2),
        Some(
            json!({"key": "kz-csm", "party": "KZ", "kind": "museum", "name": {"en": "Central State Museum"}}),
        ),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let put: Value = res.json().unwrap();
    assert_eq!(
        (put["key"].as_str(), put["version"].as_i64()),
        (Some("kz-csm"), Some(3))
    );
    assert!(put["parent"].is_null());
    assert_eq!(put["time_zone"], "Asia/Almaty", "absent zone: the party's");
    assert_eq!(audit_actions(&s, &admin, "organisation", &id).len(), 3);

    // An organisation in use stays, and the answer says what uses it.
    let counts = table_counts(&pool);
    let (status, body) = problem(call(
        &s,
        Method::DELETE,
        "/api/v1/organisations/kz-mci",
        Some(&secretariat),
        Some(1),
        None,
    ));
    assert_eq!(status, StatusCode::CONFLICT);
    let detail = body["detail"].as_str().unwrap();
    for what in [
        "assignments",
        "events",
        "users",
        "child organisations",
        "contacts",
    ] {
        assert!(detail.contains(what), "{what}: {detail}");
    }
    assert_eq!(table_counts(&pool), counts);

    let res = call(
        &s,
        Method::DELETE,
        "/api/v1/organisations/kz-csm",
        Some(&secretariat),
        Some(3),
        None,
    );
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        audit_actions(&s, &admin, "organisation", &id),
        ["create", "delete", "update", "update"]
    );
    assert_eq!(
        problem(s.get(&loc, Some(&secretariat))).0,
        StatusCode::NOT_FOUND
    );
    // With its only child gone... kz-mci-arts has no references of its own.
    let res = call(
        &s,
        Method::DELETE,
        "/api/v1/organisations/kz-mci-arts",
        Some(&admin),
        Some(1),
        None,
    );
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[test]
fn contacts_crud_lowercased_unique_emails_defaults_and_audit() {
    let s = Setup::new();
    let admin = s.token("admin");
    let secretariat = s.token("secretariat");
    let viewer = s.token("viewer");
    let pool = s.db.pool();

    let page: Value = s
        .get("/api/v1/organisations/kz-mci/contacts", Some(&viewer))
        .json()
        .unwrap();
    assert_eq!(page["total"], 1);
    let focal = &page["items"][0];
    assert_eq!(focal["email"], "focal@example.kz");
    assert_eq!(focal["language"], "kk");
    assert_eq!(focal["role"], "focal_point");
    assert_eq!(focal["organisation"], "kz-mci");

    let res = call(
        &s,
        Method::POST,
        "/api/v1/organisations/kz-mci/contacts",
        Some(&secretariat),
        None,
        Some(
            json!({"name": "Aigerim Deputy", "email": " Deputy@Example.KZ ", "language": "ru", "role": "deputy"}),
        ),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(etag(&res), "\"1\"");
    let loc = location(&res);
    let deputy: Value = res.json().unwrap();
    let id = deputy["id"].as_str().unwrap().to_string();
    assert_eq!(loc, format!("/api/v1/contacts/{id}"));
    assert_eq!(deputy["email"], "deputy@example.kz");
    assert_eq!(
        deputy["time_zone"], "Asia/Almaty",
        "the organisation's zone"
    );
    assert_eq!(deputy["notifications"], "immediate");
    assert_eq!(deputy["active"], true);
    assert_eq!(audit_actions(&s, &admin, "contact", &id), ["create"]);

    // Unique per organisation, whatever the case; another organisation may have it.
    let counts = table_counts(&pool);
    let (status, _) = problem(call(
        &s,
        Method::POST,
        "/api/v1/organisations/kz-mci/contacts",
        Some(&secretariat),
        None,
        Some(
            json!({"name": "Same", "email": "DEPUTY@example.kz", "language": "en", "role": "other"}),
        ),
    ));
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(table_counts(&pool), counts);
    let res = call(
        &s,
        Method::POST,
        "/api/v1/organisations/ru-mkrf/contacts",
        Some(&secretariat),
        None,
        Some(
            json!({"name": "Same person", "email": "deputy@example.kz", "language": "ru", "role": "focal_point", "time_zone": "Europe/Moscow", "notifications": "weekly_digest"}),
        ),
    );
    assert_eq!(res.status(), StatusCode::CREATED);

    let res = s.get(&loc, Some(&viewer));
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"1\"");

    let res = call(
        &s,
        Method::PATCH,
        &loc,
        Some(&secretariat),
        Some(1),
        Some(json!({"notifications": "daily_digest", "active": false, "language": "kk"})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"2\"");
    let patched: Value = res.json().unwrap();
    assert_eq!(
        (
            patched["notifications"].as_str(),
            patched["active"].as_bool(),
            patched["language"].as_str()
        ),
        (Some("daily_digest"), Some(false), Some("kk"))
    );
    assert_eq!(patched["name"], "Aigerim Deputy");
    assert_eq!(
        audit_actions(&s, &admin, "contact", &id),
        ["create", "update"]
    );

    // Filters.
    assert_eq!(
        list(
            &s,
            "/api/v1/organisations/kz-mci/contacts?role=deputy",
            Some(&viewer),
            "email"
        ),
        ["deputy@example.kz"]
    );
    assert_eq!(
        list(
            &s,
            "/api/v1/organisations/kz-mci/contacts?active=true",
            Some(&viewer),
            "email"
        ),
        ["focal@example.kz"]
    );
    assert_eq!(
        list(
            &s,
            "/api/v1/organisations/kz-mci/contacts",
            Some(&viewer),
            "email"
        ),
        ["deputy@example.kz", "focal@example.kz"]
    );

    // PUT: absent optional fields take their defaults.
    let res = call(
        &s,
        Method::PUT,
        &loc,
        Some(&secretariat),
        Some(2),
        Some(
            json!({"name": "Aigerim Deputy", "email": "deputy@example.kz", "language": "en", "role": "deputy"}),
        ),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let put: Value = res.json().unwrap();
    assert_eq!(
        (put["notifications"].as_str(), put["active"].as_bool()),
        (Some("immediate"), Some(true))
    );

    let counts = table_counts(&pool);
    let (status, _) = problem(call(
        &s,
        Method::DELETE,
        &loc,
        Some(&secretariat),
        Some(2),
        None,
    ));
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (status, _) = problem(call(
        &s,
        Method::DELETE,
        &loc,
        Some(&secretariat),
        None,
        None,
    ));
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(table_counts(&pool), counts);
    let res = call(&s, Method::DELETE, &loc, Some(&secretariat), Some(3), None);
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        audit_actions(&s, &admin, "contact", &id),
        ["create", "delete", "update", "update"]
    );
    assert_eq!(problem(s.get(&loc, Some(&viewer))).0, StatusCode::NOT_FOUND);
    assert_eq!(
        problem(s.get("/api/v1/organisations/nobody/contacts", Some(&viewer))).0,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn lists_filter_in_any_language_and_pages_stay_stable_while_rows_are_inserted() {
    let s = Setup::new();
    let admin = s.token("admin");
    let viewer = s.token("viewer");

    // Parties.
    assert_eq!(
        list(&s, "/api/v1/parties?kind=state", None, "code"),
        ["KZ", "RU"]
    );
    assert_eq!(
        list(&s, "/api/v1/parties?kind=region", None, "code"),
        ["KZ-KUS"]
    );
    assert_eq!(
        list(&s, "/api/v1/parties?parent=KZ", None, "code"),
        ["KZ-KUS"]
    );
    assert_eq!(
        list(&s, "/api/v1/parties?parent=RU", None, "code"),
        Vec::<String>::new()
    );
    assert_eq!(
        list(&s, "/api/v1/parties?parent=XX", None, "code"),
        Vec::<String>::new()
    );
    // РОССИЯ in capitals finds Россия; KOSTANAY finds the region's English name.
    assert_eq!(
        list(
            &s,
            "/api/v1/parties?q=%D0%A0%D0%9E%D0%A1%D0%A1%D0%98%D0%AF",
            None,
            "code"
        ),
        ["RU"]
    );
    assert_eq!(
        list(&s, "/api/v1/parties?q=KOSTANAY", None, "code"),
        ["KZ-KUS"]
    );
    assert_eq!(
        list(&s, "/api/v1/parties?q=kz", None, "code"),
        ["KZ", "KZ-KUS"]
    );
    let page: Value = s.get("/api/v1/parties?q=kz&limit=1", None).json().unwrap();
    assert_eq!(page["total"], 2);

    // Organisations.
    assert_eq!(
        list(&s, "/api/v1/organisations?party=RU", Some(&viewer), "key"),
        ["ru-mkrf"]
    );
    assert_eq!(
        list(&s, "/api/v1/organisations?party=BY", Some(&viewer), "key"),
        Vec::<String>::new()
    );
    assert_eq!(
        list(
            &s,
            "/api/v1/organisations?kind=department",
            Some(&viewer),
            "key"
        ),
        ["kz-mci-arts"]
    );
    assert_eq!(
        list(
            &s,
            "/api/v1/organisations?parent=kz-mci",
            Some(&viewer),
            "key"
        ),
        ["kz-mci-arts"]
    );
    // МИНИСТЕРСТВО (ru, capitals) and мәдениет (kk, lower case of Мәдениет).
    assert_eq!(
        list(
            &s,
            "/api/v1/organisations?q=%D0%9C%D0%98%D0%9D%D0%98%D0%A1%D0%A2%D0%95%D0%A0%D0%A1%D0%A2%D0%92%D0%9E",
            Some(&viewer),
            "key"
        ),
        ["kz-mci", "ru-mkrf"]
    );
    assert_eq!(
        list(
            &s,
            "/api/v1/organisations?q=%D0%BC%D3%99%D0%B4%D0%B5%D0%BD%D0%B8%D0%B5%D1%82",
            Some(&viewer),
            "key"
        ),
        ["kz-mci"]
    );
    assert_eq!(
        list(
            &s,
            "/api/v1/organisations?q=ministry&party=KZ",
            Some(&viewer),
            "key"
        ),
        ["kz-mci"]
    );
    assert_eq!(
        list(&s, "/api/v1/organisations?q=100%25", Some(&viewer), "key"),
        Vec::<String>::new()
    );

    // Organisations two at a time while others are added before and after the cursor.
    let add_org = |key: &str| {
        let res = call(
            &s,
            Method::POST,
            "/api/v1/organisations",
            Some(&admin),
            None,
            Some(json!({"key": key, "party": "KZ", "kind": "theatre", "name": {"en": key}})),
        );
        assert_eq!(res.status(), StatusCode::CREATED, "{key}");
    };
    let first: Value = s
        .get("/api/v1/organisations?limit=2", Some(&viewer))
        .json()
        .unwrap();
    assert_eq!(first["total"], 3);
    let mut seen = names(&first, "key");
    assert_eq!(seen, ["kz-mci", "kz-mci-arts"]);
    let mut cursor = first["next_cursor"].as_str().map(str::to_string);
    add_org("aa-before"); // sorts before the cursor: not on later pages
    add_org("kz-mci-opera"); // after it: seen once
    add_org("zz-after");
    while let Some(c) = cursor {
        let page: Value = s
            .get(
                &format!("/api/v1/organisations?limit=2&cursor={c}"),
                Some(&viewer),
            )
            .json()
            .unwrap();
        seen.extend(names(&page, "key"));
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_some() {
            add_org(&format!("kz-z{}", seen.len()));
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "seen twice: {seen:?}");
    for key in [
        "kz-mci",
        "kz-mci-arts",
        "kz-mci-opera",
        "ru-mkrf",
        "zz-after",
    ] {
        assert!(seen.contains(&key.to_string()), "{key} skipped: {seen:?}");
    }
    assert!(!seen.contains(&"aa-before".to_string()));
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, seen, "keyset order by key");

    // Parties one at a time, the same way.
    let add_party = |code: &str| {
        let res = call(
            &s,
            Method::POST,
            "/api/v1/parties",
            Some(&admin),
            None,
            Some(json!({"code": code, "name": {"en": code}, "time_zone": "Asia/Tashkent"})),
        );
        assert_eq!(res.status(), StatusCode::CREATED, "{code}");
    };
    let first: Value = s.get("/api/v1/parties?limit=1", None).json().unwrap();
    let mut seen = names(&first, "code");
    let mut cursor = first["next_cursor"].as_str().map(str::to_string);
    add_party("AM");
    add_party("UZ");
    while let Some(c) = cursor {
        let page: Value = s
            .get(&format!("/api/v1/parties?limit=1&cursor={c}"), None)
            .json()
            .unwrap();
        seen.extend(names(&page, "code"));
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen, ["KZ", "KZ-KUS", "RU", "UZ"]);

    // Contacts one at a time.
    for (i, email) in ["b@example.kz", "c@example.kz"].iter().enumerate() {
        let res = call(
            &s,
            Method::POST,
            "/api/v1/organisations/ru-mkrf/contacts",
            Some(&admin),
            None,
            Some(
                json!({"name": format!("Contact {i}"), "email": email, "language": "ru", "role": "other"}),
            ),
        );
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let first: Value = s
        .get(
            "/api/v1/organisations/ru-mkrf/contacts?limit=1",
            Some(&viewer),
        )
        .json()
        .unwrap();
    assert_eq!(first["total"], 2);
    let mut seen = names(&first, "email");
    let mut cursor = first["next_cursor"].as_str().map(str::to_string);
    let res = call(
        &s,
        Method::POST,
        "/api/v1/organisations/ru-mkrf/contacts",
        Some(&admin),
        None,
        Some(json!({"name": "Later", "email": "d@example.kz", "language": "en", "role": "other"})),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    while let Some(c) = cursor {
        let page: Value = s
            .get(
                &format!("/api/v1/organisations/ru-mkrf/contacts?limit=1&cursor={c}"),
                Some(&viewer),
            )
            .json()
            .unwrap();
        seen.extend(names(&page, "email"));
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen, ["b@example.kz", "c@example.kz", "d@example.kz"]);

    // Bad paging parameters.
    for path in [
        "/api/v1/parties?cursor=zz",
        "/api/v1/parties?limit=0",
        "/api/v1/parties?limit=201",
        "/api/v1/parties?kind=city",
        "/api/v1/parties?colour=red",
        "/api/v1/organisations?cursor=zz",
        "/api/v1/organisations?kind=circus",
        "/api/v1/organisations/kz-mci/contacts?role=boss",
    ] {
        assert_eq!(
            problem(s.get(path, Some(&viewer))).0,
            StatusCode::BAD_REQUEST,
            "{path}"
        );
    }
}

const USERS: [&str; 7] = [
    "anonymous",
    "admin",
    "secretariat",
    "other-secretariat",
    "kz-editor",
    "ru-editor",
    "viewer",
];

/// Runs `run` as each of `USERS` in turn and checks the status each gets.
fn expect(
    tokens: &[Option<String>],
    what: &str,
    wants: [u16; 7],
    run: impl Fn(usize, Option<&str>) -> Response,
) {
    for (i, want) in wants.into_iter().enumerate() {
        let res = run(i, tokens[i].as_deref());
        assert_eq!(res.status().as_u16(), want, "{} {what}", USERS[i]);
    }
}

#[test]
fn who_may_read_and_write_parties_organisations_and_contacts() {
    let s = Setup::new();
    let tokens: Vec<Option<String>> = USERS
        .iter()
        .map(|u| (*u != "anonymous").then(|| s.token(u)))
        .collect();
    let admin = tokens[1].as_deref();
    let focal_id = s
        .get("/api/v1/organisations/kz-mci/contacts", admin)
        .json::<Value>()
        .unwrap()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let focal = format!("/api/v1/contacts/{focal_id}");

    // Reads: parties are public; organisations and contacts need a token.
    expect(&tokens, "lists parties", [200; 7], |_, t| {
        s.get("/api/v1/parties", t)
    });
    expect(&tokens, "reads a party", [200; 7], |_, t| {
        s.get("/api/v1/parties/KZ", t)
    });
    let token_needed = [401, 200, 200, 200, 200, 200, 200];
    expect(&tokens, "lists organisations", token_needed, |_, t| {
        s.get("/api/v1/organisations", t)
    });
    expect(&tokens, "reads an organisation", token_needed, |_, t| {
        s.get("/api/v1/organisations/kz-mci", t)
    });
    expect(&tokens, "lists contacts", token_needed, |_, t| {
        s.get("/api/v1/organisations/kz-mci/contacts", t)
    });
    expect(&tokens, "reads a contact", token_needed, |_, t| {
        s.get(&focal, t)
    });

    // Parties: admins only. Callers are refused before their input is looked at.
    let admins_only = [401, 201, 403, 403, 403, 403, 403];
    expect(&tokens, "creates a party", admins_only, |i, t| {
        let code = format!("A{}", (b'A' + i as u8) as char); // admin: AB
        call(
            &s,
            Method::POST,
            "/api/v1/parties",
            t,
            None,
            Some(json!({"code": code, "name": {"en": "x"}, "time_zone": "Asia/Yerevan"})),
        )
    });
    let admins_only = [401, 200, 403, 403, 403, 403, 403];
    expect(&tokens, "changes a party", admins_only, |_, t| {
        call(
            &s,
            Method::PATCH,
            "/api/v1/parties/AB",
            t,
            Some(1),
            Some(json!({"time_zone": "Asia/Baku"})),
        )
    });
    let admins_only = [401, 204, 403, 403, 403, 403, 403];
    expect(&tokens, "deletes a party", admins_only, |_, t| {
        call(&s, Method::DELETE, "/api/v1/parties/AB", t, Some(2), None)
    });

    // Organisations and contacts: admins and secretariats (of any body).
    let writers = [401, 201, 201, 201, 403, 403, 403];
    expect(&tokens, "creates an organisation", writers, |i, t| {
        call(
            &s,
            Method::POST,
            "/api/v1/organisations",
            t,
            None,
            Some(
                json!({"key": format!("org-{i}"), "party": "KZ", "kind": "library", "name": {"en": "Library"}}),
            ),
        )
    });
    expect(&tokens, "adds a contact", writers, |i, t| {
        call(
            &s,
            Method::POST,
            "/api/v1/organisations/kz-mci/contacts",
            t,
            None,
            Some(
                json!({"name": "Someone", "email": format!("p{i}@example.kz"), "language": "ru", "role": "other"}),
            ),
        )
    });
    // Each writer changes its own organisation (version 1 -> 2); editors may
    // not change even their own ministry.
    let writers = [401, 200, 200, 200, 403, 403, 403];
    expect(&tokens, "changes an organisation", writers, |i, t| {
        let path = match i {
            1..=3 => format!("/api/v1/organisations/org-{i}"),
            4 => "/api/v1/organisations/kz-mci".to_string(),
            5 => "/api/v1/organisations/ru-mkrf".to_string(),
            _ => "/api/v1/organisations/org-1".to_string(),
        };
        call(
            &s,
            Method::PATCH,
            &path,
            t,
            Some(1),
            Some(json!({"website": "https://library.kz"})),
        )
    });
    expect(
        &tokens,
        "changes a contact",
        [401, 200, 200, 200, 403, 403, 403],
        |i, t| {
            // Writers in turn: versions 1, 2, 3.
            let version = if (1..=3).contains(&i) { i as i64 } else { 1 };
            call(
                &s,
                Method::PATCH,
                &focal,
                t,
                Some(version),
                Some(json!({"name": format!("Focal {i}")})),
            )
        },
    );
    let writers = [401, 204, 204, 204, 403, 403, 403];
    expect(&tokens, "deletes an organisation", writers, |i, t| {
        let key = if (1..=3).contains(&i) {
            format!("org-{i}")
        } else {
            "org-1".to_string()
        };
        call(
            &s,
            Method::DELETE,
            &format!("/api/v1/organisations/{key}"),
            t,
            Some(2),
            None,
        )
    });
    let contacts: Value = s
        .get("/api/v1/organisations/kz-mci/contacts", admin)
        .json()
        .unwrap();
    let contact_of = |email: &str| -> String {
        contacts["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["email"] == email)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    expect(&tokens, "deletes a contact", writers, |i, t| {
        // Each writer deletes the contact it added.
        let n = if (1..=3).contains(&i) { i } else { 1 };
        let id = contact_of(&format!("p{n}@example.kz"));
        call(
            &s,
            Method::DELETE,
            &format!("/api/v1/contacts/{id}"),
            t,
            Some(1),
            None,
        )
    });
}

/// Method, path, If-Match, body, and the fields the problem must name.
type Case = (Method, String, Option<i64>, Value, Vec<&'static str>);

#[test]
fn malformed_input_answers_400_naming_the_field_and_changes_nothing() {
    let s = Setup::new();
    let admin = s.token("admin");
    let pool = s.db.pool();
    let focal_id = s
        .get("/api/v1/organisations/kz-mci/contacts", Some(&admin))
        .json::<Value>()
        .unwrap()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let counts = table_counts(&pool);
    let audit_before = s
        .get("/api/v1/audit?limit=500", Some(&admin))
        .json::<Value>()
        .unwrap()["items"]
        .as_array()
        .unwrap()
        .len();
    let party = |extra: Value| {
        let mut body =
            json!({"code": "UZ", "name": {"en": "Uzbekistan"}, "time_zone": "Asia/Tashkent"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let organisation = |extra: Value| {
        let mut body =
            json!({"key": "uz-museum", "party": "KZ", "kind": "museum", "name": {"en": "Museum"}});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let contact = |extra: Value| {
        let mut body = json!({"name": "New Person", "email": "new@example.kz", "language": "ru", "role": "deputy"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<Case> = vec![
        // Parties.
        (
            Method::POST,
            "/api/v1/parties".into(),
            None,
            party(json!({"capital": "Tashkent"})),
            vec!["capital"],
        ),
        (
            Method::POST,
            "/api/v1/parties".into(),
            None,
            party(json!({"code": "UZB"})),
            vec!["code"],
        ),
        (
            Method::POST,
            "/api/v1/parties".into(),
            None,
            party(json!({"code": "uz"})),
            vec!["code"],
        ),
        (
            Method::POST,
            "/api/v1/parties".into(),
            None,
            party(json!({"time_zone": "Asia/Astana"})),
            vec!["time_zone"],
        ),
        (
            Method::POST,
            "/api/v1/parties".into(),
            None,
            party(json!({"name": {"xx": "Uzbekistan"}})),
            vec!["name"],
        ),
        (
            Method::POST,
            "/api/v1/parties".into(),
            None,
            party(json!({"name": {}})),
            vec!["name"],
        ),
        (
            Method::POST,
            "/api/v1/parties".into(),
            None,
            party(json!({"code": "UZ-TK"})),
            vec!["parent"],
        ),
        (
            Method::POST,
            "/api/v1/parties".into(),
            None,
            party(json!({"code": "UZ-TK", "parent": "KZ"})),
            vec!["parent"],
        ),
        (
            Method::POST,
            "/api/v1/parties".into(),
            None,
            party(json!({"code": "KZ-KUS-X", "parent": "KZ"})),
            vec!["code"],
        ),
        (
            Method::POST,
            "/api/v1/parties".into(),
            None,
            party(json!({"code": "Uz", "time_zone": "UTC+5"})),
            vec!["code", "time_zone"],
        ),
        (
            Method::PATCH,
            "/api/v1/parties/KZ".into(),
            Some(1),
            json!({"time_zone": "Mars/Olympus"}),
            vec!["time_zone"],
        ),
        (
            Method::PATCH,
            "/api/v1/parties/KZ".into(),
            Some(1),
            json!({"code": "KZ"}),
            vec!["code"],
        ),
        (
            Method::PUT,
            "/api/v1/parties/KZ".into(),
            Some(1),
            json!({"name": {"en": "Kazakhstan"}}),
            vec!["time_zone"],
        ),
        // Organisations.
        (
            Method::POST,
            "/api/v1/organisations".into(),
            None,
            organisation(json!({"colour": "red"})),
            vec!["colour"],
        ),
        (
            Method::POST,
            "/api/v1/organisations".into(),
            None,
            organisation(json!({"key": "UZ Museum"})),
            vec!["key"],
        ),
        (
            Method::POST,
            "/api/v1/organisations".into(),
            None,
            organisation(json!({"party": "XX"})),
            vec!["party"],
        ),
        (
            Method::POST,
            "/api/v1/organisations".into(),
            None,
            organisation(json!({"party": "kz"})),
            vec!["party"],
        ),
        (
            Method::POST,
            "/api/v1/organisations".into(),
            None,
            organisation(json!({"kind": "circus"})),
            vec!["kind"],
        ),
        (
            Method::POST,
            "/api/v1/organisations".into(),
            None,
            organisation(json!({"parent": "nobody"})),
            vec!["parent"],
        ),
        (
            Method::POST,
            "/api/v1/organisations".into(),
            None,
            organisation(json!({"time_zone": "Asia/Astana"})),
            vec!["time_zone"],
        ),
        (
            Method::POST,
            "/api/v1/organisations".into(),
            None,
            organisation(json!({"email": "museum at example.kz"})),
            vec!["email"],
        ),
        (
            Method::POST,
            "/api/v1/organisations".into(),
            None,
            organisation(json!({"website": "javascript:alert(1)"})),
            vec!["website"],
        ),
        (
            Method::POST,
            "/api/v1/organisations".into(),
            None,
            organisation(json!({"name": {"en": " "}})),
            vec!["name"],
        ),
        (
            Method::POST,
            "/api/v1/organisations".into(),
            None,
            organisation(json!({"key": "-bad", "time_zone": "Nowhere", "email": "x"})),
            vec!["key", "time_zone", "email"],
        ),
        (
            Method::PATCH,
            "/api/v1/organisations/kz-mci".into(),
            Some(1),
            json!({"time_zone": "Mars/Olympus"}),
            vec!["time_zone"],
        ),
        (
            Method::PATCH,
            "/api/v1/organisations/kz-mci".into(),
            Some(1),
            json!({"kind": 3}),
            vec!["kind"],
        ),
        (
            Method::PATCH,
            "/api/v1/organisations/kz-mci".into(),
            Some(1),
            json!({"id": "x"}),
            vec!["id"],
        ),
        // Contacts.
        (
            Method::POST,
            "/api/v1/organisations/kz-mci/contacts".into(),
            None,
            contact(json!({"phone": "+7"})),
            vec!["phone"],
        ),
        (
            Method::POST,
            "/api/v1/organisations/kz-mci/contacts".into(),
            None,
            contact(json!({"language": "xx"})),
            vec!["language"],
        ),
        (
            Method::POST,
            "/api/v1/organisations/kz-mci/contacts".into(),
            None,
            contact(json!({"language": "RU"})),
            vec!["language"],
        ),
        (
            Method::POST,
            "/api/v1/organisations/kz-mci/contacts".into(),
            None,
            contact(json!({"time_zone": "Asia/Astana"})),
            vec!["time_zone"],
        ),
        (
            Method::POST,
            "/api/v1/organisations/kz-mci/contacts".into(),
            None,
            contact(json!({"email": "nobody"})),
            vec!["email"],
        ),
        (
            Method::POST,
            "/api/v1/organisations/kz-mci/contacts".into(),
            None,
            contact(json!({"role": "boss"})),
            vec!["role"],
        ),
        (
            Method::POST,
            "/api/v1/organisations/kz-mci/contacts".into(),
            None,
            contact(json!({"notifications": "hourly"})),
            vec!["notifications"],
        ),
        (
            Method::POST,
            "/api/v1/organisations/kz-mci/contacts".into(),
            None,
            contact(json!({"name": ""})),
            vec!["name"],
        ),
        (
            Method::POST,
            "/api/v1/organisations/kz-mci/contacts".into(),
            None,
            json!({"name": "No Email", "language": "ru", "role": "deputy"}),
            vec!["email"],
        ),
        (
            Method::PATCH,
            format!("/api/v1/contacts/{focal_id}"),
            Some(1),
            json!({"language": "fr"}),
            vec!["language"],
        ),
        (
            Method::PATCH,
            format!("/api/v1/contacts/{focal_id}"),
            Some(1),
            json!({"active": "yes"}),
            vec!["active"],
        ),
        (
            Method::PUT,
            format!("/api/v1/contacts/{focal_id}"),
            Some(1),
            contact(json!({"organisation": "ru-mkrf"})),
            vec!["organisation"],
        ),
    ];
    for (method, path, if_match, body, fields) in cases {
        let res = call(
            &s,
            method.clone(),
            &path,
            Some(&admin),
            if_match,
            Some(body.clone()),
        );
        let (status, problem) = problem(res);
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{method} {path} {body}: {problem}"
        );
        assert_eq!(problem["code"], "validation_failed", "{problem}");
        let named = field_names(&problem);
        for field in fields {
            assert!(
                named.iter().any(|n| n.contains(field))
                    || problem["detail"].as_str().unwrap().contains(field),
                "{method} {path} {body}: `{field}` not named in {problem}"
            );
        }
    }
    // Bad codes, keys and ids in paths.
    for path in [
        "/api/v1/parties/kz",
        "/api/v1/parties/KAZ",
        "/api/v1/organisations/KZ%20MCI",
        "/api/v1/contacts/not-a-uuid",
    ] {
        let (status, body) = problem(s.get(path, Some(&admin)));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
    }
    // SQL and script fragments are data.
    assert_eq!(
        table_counts(&pool),
        counts,
        "a failed write wrote something"
    );
    let audit_after = s
        .get("/api/v1/audit?limit=500", Some(&admin))
        .json::<Value>()
        .unwrap()["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(audit_after, audit_before, "a failed write was audited");
    let nasty = "'); DROP TABLE organisations; -- <script>alert(1)</script>";
    let res = call(
        &s,
        Method::PATCH,
        "/api/v1/organisations/kz-mci",
        Some(&admin),
        Some(1),
        Some(json!({"name": {"en": nasty}})),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = s
        .get("/api/v1/organisations?q=drop%20table&lang=en", Some(&admin))
        .json()
        .unwrap();
    assert_eq!(page["items"][0]["name_display"], nasty);
}

#[test]
fn the_openapi_description_lists_every_reference_path() {
    let s = Setup::new();
    let spec: Value = s.get("/api/v1/openapi.json", None).json().unwrap();
    for (path, methods) in [
        ("/api/v1/parties", &["get", "post"][..]),
        (
            "/api/v1/parties/{code}",
            &["get", "put", "patch", "delete"][..],
        ),
        ("/api/v1/organisations", &["get", "post"][..]),
        (
            "/api/v1/organisations/{id}",
            &["get", "put", "patch", "delete"][..],
        ),
        ("/api/v1/organisations/{id}/contacts", &["get", "post"][..]),
        (
            "/api/v1/contacts/{id}",
            &["get", "put", "patch", "delete"][..],
        ),
    ] {
        for m in methods {
            assert!(spec["paths"][path][m].is_object(), "{m} {path} missing");
        }
    }
    let language = &spec["components"]["schemas"]["LanguageCode"]["enum"];
    assert!(
        language.as_array().unwrap().contains(&json!("kk")),
        "{language}"
    );
}
