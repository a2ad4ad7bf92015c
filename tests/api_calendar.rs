//! Calendar feeds and single-event .ics: secret revocable URLs stored hashed,
//! what a feed holds (events across zones, all-day, cancelled, deadlines,
//! derived deadlines, meetings), SEQUENCE and UID stability, conditional
//! requests; every feed read back by two independent parsers.

mod common;

use std::io::{Read, Write};

use common::api::*;
use common::*;
use reqwest::blocking::Response;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn post(s: &Setup, path: &str, token: &str, body: Value) -> Response {
    s.client
        .post(s.server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .unwrap()
}

fn create_event(s: &Setup, token: &str, body: Value) -> Value {
    let res = post(s, "/api/v1/events", token, body.clone());
    assert_eq!(res.status(), StatusCode::CREATED, "POST {body}");
    res.json().unwrap()
}

fn patch_event(s: &Setup, token: &str, event: &Value, body: Value) -> Value {
    let res = s
        .client
        .patch(
            s.server
                .url(&format!("/api/v1/events/{}", event["id"].as_str().unwrap())),
        )
        .bearer_auth(token)
        .header("content-type", "application/merge-patch+json")
        .header("if-match", format!("\"{}\"", event["version"]))
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "PATCH {body}");
    res.json().unwrap()
}

/// Makes a feed and returns (its JSON, the path of its URL).
fn make_feed(s: &Setup, token: &str, body: Value) -> (Value, String) {
    let res = post(s, "/api/v1/calendar-feeds", token, body.clone());
    assert_eq!(res.status(), StatusCode::CREATED, "POST feed {body}");
    let feed: Value = res.json().unwrap();
    let url = feed["url"]
        .as_str()
        .expect("the URL is shown once")
        .to_string();
    let path = url
        .split_once("/calendar/")
        .map(|(_, rest)| format!("/calendar/{rest}"))
        .unwrap();
    (feed, path)
}

fn get_feed(s: &Setup, path: &str) -> (reqwest::header::HeaderMap, String) {
    let res = s.client.get(s.server.url(path)).send().unwrap();
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "text/calendar; charset=utf-8");
    (headers, res.text().unwrap())
}

/// A request with no Accept header at all, as calendar importers send it.
fn raw_get(s: &Setup, path: &str) -> (u16, String) {
    let addr = s
        .server
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    (status, answer)
}

fn feed_count(s: &Setup) -> i64 {
    table_counts(&s.db.migrated_pool())
        .into_iter()
        .find(|(t, _)| t == "calendar_feeds")
        .unwrap()
        .1
}

#[test]
fn feed_urls_are_secret_hashed_and_revocable() {
    let s = Setup::new();
    let admin = s.token("admin");
    let viewer = s.token("viewer");
    // Anyone signed in may make one; without a token, 401.
    let res = s
        .client
        .post(s.server.url("/api/v1/calendar-feeds"))
        .json(&json!({"organisation": "kz-mci"}))
        .send()
        .unwrap();
    assert_eq!(problem(res).0, StatusCode::UNAUTHORIZED);
    let (feed, path) = make_feed(&s, &viewer, json!({"organisation": "kz-mci", "lang": "kk"}));
    assert_eq!(feed["scope"], "organisation");
    assert_eq!(feed["of"], "kz-mci");
    assert_eq!(feed["lang"], "kk");
    let token = path
        .trim_start_matches("/calendar/")
        .trim_end_matches(".ics");
    assert!(token.len() >= 64, "a long random secret: {token}");

    // Stored as its SHA-256 only.
    let pool = s.db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let stored = accord::store::feeds::by_id(&mut conn, feed["id"].as_str().unwrap())
        .unwrap()
        .unwrap();
    assert_ne!(stored.token_hash, token);
    assert_eq!(
        stored.token_hash,
        accord::domain::credentials::hash_token(token)
    );
    drop(conn);

    // Calendar importers send no Accept header.
    let (status, answer) = raw_get(&s, &path);
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("BEGIN:VCALENDAR"));

    // The URL is not shown again; the maker sees the feed, others do not.
    let mine: Value = s
        .get("/api/v1/calendar-feeds", Some(&viewer))
        .json()
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert!(mine["items"][0].get("url").is_none());
    let one_path = format!("/api/v1/calendar-feeds/{}", feed["id"].as_str().unwrap());
    let res = s.get(&one_path, Some(&s.token("kz-editor")));
    assert_eq!(problem(res).0, StatusCode::FORBIDDEN);
    let theirs: Value = s
        .get("/api/v1/calendar-feeds", Some(&s.token("kz-editor")))
        .json()
        .unwrap();
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    let all: Value = s
        .get("/api/v1/calendar-feeds", Some(&admin))
        .json()
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 1);

    // Someone else may not revoke it; its maker may, and then it is gone.
    let res = s
        .client
        .delete(s.server.url(&one_path))
        .bearer_auth(s.token("kz-editor"))
        .send()
        .unwrap();
    assert_eq!(problem(res).0, StatusCode::FORBIDDEN);
    let res = s
        .client
        .delete(s.server.url(&one_path))
        .bearer_auth(&viewer)
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = s.client.get(s.server.url(&path)).send().unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let unknown = s
        .client
        .get(s.server.url("/calendar/acc_0000.ics"))
        .send()
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    // Revoked is deleted: gone from the API (kept in the audit log), not revocable twice.
    assert_eq!(
        s.get(&one_path, Some(&viewer)).status(),
        StatusCode::NOT_FOUND
    );
    let listed: Value = s
        .get("/api/v1/calendar-feeds", Some(&viewer))
        .json()
        .unwrap();
    assert!(
        !listed
            .to_string()
            .contains(one_path.rsplit('/').next().unwrap()),
        "{listed}"
    );
    let again = s
        .client
        .delete(s.server.url(&one_path))
        .bearer_auth(&viewer)
        .send()
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let audit: Value = s
        .get(
            "/api/v1/audit?entity=calendar_feed",
            Some(&s.token("admin")),
        )
        .json()
        .unwrap();
    assert!(audit.to_string().contains("revoked_at"), "{audit}");
}

#[test]
fn bad_feed_requests_name_the_field_and_make_nothing() {
    let s = Setup::new();
    let admin = s.token("admin");
    let before = feed_count(&s);
    for (body, field) in [
        (json!({}), "organisation"),
        (
            json!({"organisation": "kz-mci", "party": "KZ"}),
            "organisation",
        ),
        (json!({"organisation": "no-such-org"}), "organisation"),
        (json!({"party": "XX"}), "party"),
        (json!({"programme": "nope"}), "programme"),
        (json!({"contact": "not-a-uuid"}), "contact"),
        (json!({"party": "KZ", "lang": "fr"}), "lang"),
    ] {
        let (status, p) = problem(post(&s, "/api/v1/calendar-feeds", &admin, body.clone()));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{body}: {p}"
        );
    }
    let (status, _) = problem(post(
        &s,
        "/api/v1/calendar-feeds",
        &admin,
        json!({"party": "KZ", "colour": "red"}),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(feed_count(&s), before);
    let (_, path) = make_feed(&s, &admin, json!({"party": "KZ"}));
    let res = s
        .client
        .get(s.server.url(&format!("{path}?lang=xx")))
        .send()
        .unwrap();
    let (status, p) = problem(res);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(p["errors"][0]["field"], "lang");
}

const RU_TITLE: &str = "Дни культуры Республики Казахстан в Российской Федерации: гала-концерт мастеров искусств, выставка декоративно-прикладного искусства и неделя казахстанского кино";
const KK_TITLE: &str = "Қазақстан Республикасының Ресей Федерациясындағы мәдениет күндері: өнер шеберлерінің гала-концерті, сәндік-қолданбалы өнер көрмесі және қазақстандық кино апталығы";

fn find<'a>(events: &'a [common::ics::ParsedEvent], uid: &str) -> &'a common::ics::ParsedEvent {
    events
        .iter()
        .find(|e| e.uid == uid && e.recurrence_id.is_none())
        .unwrap_or_else(|| panic!("{uid} is not in the feed"))
}

fn uid_of_event(e: &Value) -> String {
    format!("event-{}@accord", e["id"].as_str().unwrap())
}

#[test]
fn a_feed_holds_events_deadlines_and_meetings_as_two_parsers_read_them() {
    let s = Setup::new();
    let admin = s.token("admin");
    let titles =
        json!({"ru": RU_TITLE, "kk": KK_TITLE, "en": "Days of Culture of Kazakhstan in Russia"});
    let before_change = create_event(
        &s,
        &admin,
        json!({"title": titles, "kind": "days_of_culture", "status": "confirmed",
               "start": "2023-06-10T10:00", "end": "2023-06-10T12:00", "time_zone": "Asia/Almaty",
               "organisers": ["kz-mci"], "city": "Astana", "venue": "Қазақконцерт, зал; №1"}),
    );
    let after_change = create_event(
        &s,
        &admin,
        json!({"title": titles, "kind": "days_of_culture", "status": "confirmed",
               "start": "2025-06-10T10:00", "time_zone": "Asia/Almaty", "organisers": ["kz-mci"]}),
    );
    let all_day = create_event(
        &s,
        &admin,
        json!({"title": {"en": "Exhibition"}, "kind": "exhibition", "when": "2025-10-07..2025-10-08",
               "organisers": ["kz-mci"]}),
    );
    let cancelled = create_event(
        &s,
        &admin,
        json!({"title": {"en": "Concert, cancelled"}, "kind": "concert", "status": "cancelled",
               "start": "2025-09-01T18:00", "time_zone": "Asia/Almaty", "organisers": ["kz-mci"]}),
    );
    let ambiguous = create_event(
        &s,
        &admin,
        json!({"title": {"en": "Night of museums; Berlin"}, "kind": "other",
               "start": "2025-10-26T02:30", "time_zone": "Europe/Berlin", "organisers": ["kz-mci"]}),
    );
    let approximate = create_event(
        &s,
        &admin,
        json!({"title": {"en": "Some time in 2025"}, "kind": "other", "when": "2025",
               "organisers": ["kz-mci"]}),
    );
    let elsewhere = create_event(
        &s,
        &admin,
        json!({"title": {"en": "Russian event"}, "kind": "other", "when": "2025-11-01",
               "organisers": ["ru-mkrf"]}),
    );
    let (_, path) = make_feed(&s, &admin, json!({"organisation": "kz-mci", "lang": "kk"}));
    let (_, text) = get_feed(&s, &path);

    // Folded at 75 octets, never inside a UTF-8 sequence (the text is a String).
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    assert!(text.contains("TZID:Asia/Almaty"));
    assert!(
        text.contains("TZOFFSETFROM:+0600\r\nTZOFFSETTO:+0500")
            || text.contains("TZOFFSETTO:+0500")
    );
    assert!(text.contains("X-WR-CALNAME:"));
    assert!(text.contains("REFRESH-INTERVAL;VALUE=DURATION:PT4H"));

    let item_1_1 = s.item("1.1");
    let item_1_2 = s.item("1.2");
    let meeting: Value = s
        .get("/api/v1/bodies/kz-ru-sc/meetings", Some(&admin))
        .json()
        .unwrap();
    let meeting_id = meeting["items"][0]["id"].as_str().unwrap().to_string();
    for parsed in common::ics::parse_with_both(&text, "2023-01-01", "2027-01-01") {
        let ev = &parsed.events;
        let e = find(ev, &uid_of_event(&before_change));
        assert_eq!(e.start, "2023-06-10T04:00:00Z", "{}", parsed.parser);
        assert_eq!(e.end.as_deref(), Some("2023-06-10T06:00:00Z"));
        assert_eq!(e.summary.as_deref(), Some(KK_TITLE));
        assert_eq!(e.location.as_deref(), Some("Қазақконцерт, зал; №1, Astana"));
        assert_eq!(e.status.as_deref(), Some("CONFIRMED"));
        assert_eq!(
            find(ev, &uid_of_event(&after_change)).start,
            "2025-06-10T05:00:00Z"
        );
        let d = find(ev, &uid_of_event(&all_day));
        assert!(d.all_day);
        assert_eq!(d.start, "2025-10-07");
        assert_eq!(d.end.as_deref(), Some("2025-10-09"));
        assert_eq!(d.status.as_deref(), Some("TENTATIVE"));
        assert_eq!(
            find(ev, &uid_of_event(&cancelled)).status.as_deref(),
            Some("CANCELLED")
        );
        assert_eq!(
            find(ev, &uid_of_event(&ambiguous)).start,
            "2025-10-26T00:30:00Z"
        );
        assert_eq!(
            find(ev, &uid_of_event(&ambiguous)).summary.as_deref(),
            Some("Night of museums; Berlin")
        );
        for absent in [&approximate, &elsewhere] {
            assert!(
                !ev.iter().any(|e| e.uid == uid_of_event(absent)),
                "{absent}"
            );
        }
        // The fixture's own event organised by kz-mci.
        assert!(ev.iter().any(|e| e.start == "2025-06-10T14:00:00Z"));
        // Items' deadlines, all-day on their last day.
        let due = find(
            ev,
            &format!("obligation-{}@accord", item_1_1["id"].as_str().unwrap()),
        );
        assert!(due.all_day);
        assert_eq!(due.start, "2025-06-30");
        assert_eq!(due.end.as_deref(), Some("2025-07-01"));
        assert!(due.summary.as_deref().unwrap().starts_with("Мерзімі: 1.1 "));
        let due = find(
            ev,
            &format!("obligation-{}@accord", item_1_2["id"].as_str().unwrap()),
        );
        assert_eq!(due.start, "2025-12-31");
        // The meetings of the body of the items' programme: 11:00 in Moscow.
        let m = find(ev, &format!("meeting-{meeting_id}@accord"));
        assert_eq!(m.start, "2025-10-10T08:00:00Z");
    }

    // Another language on the same URL.
    let (_, ru) = get_feed(&s, &format!("{path}?lang=ru"));
    for parsed in common::ics::parse_with_both(&ru, "2023-01-01", "2027-01-01") {
        let e = find(&parsed.events, &uid_of_event(&before_change));
        assert_eq!(e.summary.as_deref(), Some(RU_TITLE), "{}", parsed.parser);
        assert!(parsed.events.iter().any(|e| e
            .summary
            .as_deref()
            .is_some_and(|t| t.starts_with("Срок: 1.1 "))));
    }

    // A party's feed: the notice deadline of its agreement (in force
    // 1998-12-03, 60-month terms renewed, 6 months' notice: 2028-06-03).
    let (_, path) = make_feed(&s, &admin, json!({"party": "KZ", "lang": "en"}));
    let (_, text) = get_feed(&s, &path);
    for parsed in common::ics::parse_with_both(&text, "2023-01-01", "2030-01-01") {
        let notice = parsed
            .events
            .iter()
            .find(|e| e.uid.starts_with("agreement-notice-"))
            .expect("the notice deadline");
        assert_eq!(notice.start, "2028-06-03", "{}", parsed.parser);
        assert!(notice.all_day);
        assert!(notice
            .summary
            .as_deref()
            .unwrap()
            .starts_with("Last day to give notice of non-renewal: "));
    }
}

#[test]
fn a_moved_event_keeps_its_uid_and_a_cancelled_one_stays_with_a_higher_sequence() {
    let s = Setup::new();
    let admin = s.token("admin");
    let event = create_event(
        &s,
        &admin,
        json!({"title": {"en": "Premiere"}, "kind": "premiere", "status": "confirmed",
               "start": "2025-11-20T19:00", "time_zone": "Europe/Moscow", "organisers": ["ru-mkrf"]}),
    );
    let (_, path) = make_feed(&s, &admin, json!({"organisation": "ru-mkrf"}));
    let uid = uid_of_event(&event);
    let read = |s: &Setup| {
        let (_, text) = get_feed(s, &path);
        common::ics::parse_with_both(&text, "2025-01-01", "2026-12-31")
    };
    let first = read(&s);
    for p in &first {
        let e = find(&p.events, &uid);
        assert_eq!(e.start, "2025-11-20T16:00:00Z");
        assert_eq!(e.sequence, Some(0));
    }
    let moved = patch_event(&s, &admin, &event, json!({"start": "2025-11-21T18:00"}));
    for p in &read(&s) {
        let e = find(&p.events, &uid);
        assert_eq!(e.start, "2025-11-21T15:00:00Z", "{}", p.parser);
        assert_eq!(e.sequence, Some(1));
        assert_eq!(e.status.as_deref(), Some("CONFIRMED"));
    }
    // A change that is not of date, time or status leaves SEQUENCE alone.
    let renamed = patch_event(&s, &admin, &moved, json!({"note": "With subtitles"}));
    for p in &read(&s) {
        assert_eq!(find(&p.events, &uid).sequence, Some(1), "{}", p.parser);
    }
    patch_event(&s, &admin, &renamed, json!({"status": "cancelled"}));
    for p in &read(&s) {
        let e = find(&p.events, &uid);
        assert_eq!(e.status.as_deref(), Some("CANCELLED"), "{}", p.parser);
        assert_eq!(e.sequence, Some(2));
        assert_eq!(e.start, "2025-11-21T15:00:00Z");
    }
}

#[test]
fn feeds_answer_conditional_requests_with_a_strong_etag() {
    let s = Setup::new();
    let admin = s.token("admin");
    let (_, path) = make_feed(&s, &admin, json!({"organisation": "kz-mci"}));
    let (headers, body) = get_feed(&s, &path);
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong: {etag}"
    );
    let last_modified = headers["last-modified"].to_str().unwrap().to_string();
    // The same content gives the same bytes and the same tag.
    let (again, body_again) = get_feed(&s, &path);
    assert_eq!(again["etag"].to_str().unwrap(), etag);
    assert_eq!(body_again, body);

    let conditional = |name: &str, value: &str| {
        s.client
            .get(s.server.url(&path))
            .header(name, value)
            .send()
            .unwrap()
    };
    let res = conditional("if-none-match", &etag);
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);
    assert!(res.text().unwrap().is_empty());
    let res = conditional("if-none-match", &format!("\"other\", {etag}"));
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = conditional("if-modified-since", &last_modified);
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = conditional("if-none-match", "\"stale\"");
    assert_eq!(res.status(), StatusCode::OK);
    let res = conditional("if-modified-since", "Mon, 01 Jan 2024 00:00:00 GMT");
    assert_eq!(res.status(), StatusCode::OK);
    let res = s.client.head(s.server.url(&path)).send().unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);

    // A change: a new tag, and the old one no longer answers 304.
    let event = create_event(
        &s,
        &admin,
        json!({"title": {"en": "New"}, "kind": "other", "when": "2025-12-01", "organisers": ["kz-mci"]}),
    );
    let res = conditional("if-none-match", &etag);
    assert_eq!(res.status(), StatusCode::OK);
    let etag2 = res.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(etag2, etag);
    // A deletion too: the entry goes, the tag changes again.
    let res = s
        .client
        .delete(
            s.server
                .url(&format!("/api/v1/events/{}", event["id"].as_str().unwrap())),
        )
        .bearer_auth(&admin)
        .header("if-match", format!("\"{}\"", event["version"]))
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = conditional("if-none-match", &etag2);
    assert_eq!(res.status(), StatusCode::OK);
    let after_delete = res.headers().clone();
    let text = res.text().unwrap();
    assert!(!text.contains(&uid_of_event(&event)));
    assert_ne!(after_delete["etag"].to_str().unwrap(), etag2);
    assert_eq!(text, body, "back to the first content");
    // Last-Modified never goes back: the deletion is the latest change.
    let lm = |h: &str| chrono::DateTime::parse_from_rfc2822(&h.replace("GMT", "+0000")).unwrap();
    assert!(lm(after_delete["last-modified"].to_str().unwrap()) >= lm(&last_modified));
}

#[test]
fn one_event_downloads_as_ics() {
    let s = Setup::new();
    let admin = s.token("admin");
    let event = create_event(
        &s,
        &admin,
        json!({"title": {"en": "Opening", "ru": "Открытие"}, "kind": "opening", "status": "confirmed",
               "start": "2025-10-26T02:30+01:00", "time_zone": "Europe/Berlin", "organisers": ["kz-mci"]}),
    );
    let path = format!("/api/v1/events/{}/event.ics", event["id"].as_str().unwrap());
    let res = s.client.get(s.server.url(&path)).send().unwrap();
    assert_eq!(problem(res).0, StatusCode::UNAUTHORIZED);
    let res = s
        .client
        .get(s.server.url(&format!("{path}?lang=ru")))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let text = res.text().unwrap();
    for p in common::ics::parse_with_both(&text, "2025-01-01", "2026-01-01") {
        assert_eq!(p.events.len(), 1, "{}", p.parser);
        let e = &p.events[0];
        assert_eq!(e.uid, uid_of_event(&event));
        assert_eq!(e.summary.as_deref(), Some("Открытие"));
        // The later of the two 02:30s, as the offset asked.
        assert_eq!(e.start, "2025-10-26T01:30:00Z");
    }
    let res = s
        .client
        .get(s.server.url(&format!("{path}?lang=ru")))
        .bearer_auth(&admin)
        .header("if-none-match", &etag)
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = s
        .client
        .get(
            s.server
                .url("/api/v1/events/00000000-0000-4000-8000-000000000000/event.ics"),
        )
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(problem(res).0, StatusCode::NOT_FOUND);
}

fn put_occurrence(s: &Setup, token: &str, event_id: &str, recurrence_id: &str, body: Value) {
    let version = s
        .get(&format!("/api/v1/events/{event_id}"), Some(token))
        .json::<Value>()
        .unwrap()["version"]
        .clone();
    let res = s
        .client
        .put(s.server.url(&format!(
            "/api/v1/events/{event_id}/occurrences/{recurrence_id}"
        )))
        .bearer_auth(token)
        .header("if-match", format!("\"{version}\""))
        .json(&body)
        .send()
        .unwrap();
    assert!(
        res.status().is_success(),
        "PUT occurrence {recurrence_id}: {}",
        res.text().unwrap()
    );
}

#[test]
fn a_series_with_an_exdate_a_moved_and_a_cancelled_occurrence_and_derived_deadlines_in_a_feed() {
    let s = Setup::new();
    let admin = s.token("admin");
    let series = create_event(
        &s,
        &admin,
        json!({"title": {"en": "Masterclass"}, "kind": "other", "status": "confirmed",
               "start": "2025-10-14T10:00", "end": "2025-10-14T11:00", "time_zone": "Europe/Berlin",
               "rrule": "FREQ=WEEKLY;COUNT=4", "exdates": ["2025-10-21T10:00"], "organisers": ["kz-mci"]}),
    );
    let id = series["id"].as_str().unwrap();
    put_occurrence(
        &s,
        &admin,
        id,
        "2025-10-28T10:00",
        json!({"start": "2025-10-29T12:00", "end": "2025-10-29T13:00"}),
    );
    put_occurrence(
        &s,
        &admin,
        id,
        "2025-11-04T10:00",
        json!({"start": "2025-11-04T10:00", "status": "cancelled"}),
    );
    let lead = post(
        &s,
        "/api/v1/lead-times",
        &admin,
        json!({"event": id, "anchor": "start", "days_before": 7, "title": {"en": "Send the programme"}}),
    );
    assert_eq!(lead.status(), StatusCode::CREATED);
    let lead: Value = lead.json().unwrap();
    let item = s.item("1.1");
    let item_lead = post(
        &s,
        "/api/v1/lead-times",
        &admin,
        json!({"obligation": item["id"], "anchor": "end", "days_before": 14, "title": {"en": "Delegation list"}}),
    );
    assert_eq!(item_lead.status(), StatusCode::CREATED);
    let item_lead: Value = item_lead.json().unwrap();

    let (_, path) = make_feed(&s, &admin, json!({"organisation": "kz-mci", "lang": "en"}));
    let (_, text) = get_feed(&s, &path);
    let uid = uid_of_event(&series);
    let lead_uid = format!("lead-time-{}@accord", lead["id"].as_str().unwrap());
    let item_lead_uid = format!("lead-time-{}@accord", item_lead["id"].as_str().unwrap());
    for p in common::ics::parse_with_both(&text, "2025-10-01", "2025-12-01") {
        let occurrences: Vec<(String, Option<String>)> = p
            .occurrences
            .iter()
            .filter(|o| o.uid == uid)
            .map(|o| (o.start.clone(), o.status.clone()))
            .collect();
        assert_eq!(
            occurrences,
            vec![
                (
                    "2025-10-14T08:00:00Z".to_string(),
                    Some("CONFIRMED".to_string())
                ),
                (
                    "2025-10-29T11:00:00Z".to_string(),
                    Some("CONFIRMED".to_string())
                ),
                (
                    "2025-11-04T09:00:00Z".to_string(),
                    Some("CANCELLED".to_string())
                ),
            ],
            "{}",
            p.parser
        );
        let master = find(&p.events, &uid);
        assert_eq!(master.rrule.as_deref(), Some("FREQ=WEEKLY;COUNT=4"));
        assert_eq!(master.exdates, vec!["2025-10-21T08:00:00Z".to_string()]);
        // The derived deadline of the series: 7 days before its first day.
        let d = find(&p.events, &lead_uid);
        assert!(d.all_day);
        assert_eq!(d.start, "2025-10-07");
        assert_eq!(d.end.as_deref(), Some("2025-10-08"));
    }
    // The item's derived deadline, 14 days before its end (30 June 2025),
    // moves with the item, with a higher SEQUENCE.
    let (_, text) = get_feed(&s, &path);
    let before = common::ics::parse_with_both(&text, "2025-01-01", "2025-02-01");
    for p in &before {
        assert_eq!(
            find(&p.events, &item_lead_uid).start,
            "2025-06-16",
            "{}",
            p.parser
        );
    }
    let res = s.patch(
        item["id"].as_str().unwrap(),
        Some(&admin),
        item["version"].as_i64(),
        json!({"timeframe": "I quarter 2025"}),
    );
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().unwrap());
    let (_, text) = get_feed(&s, &path);
    for (p, old) in common::ics::parse_with_both(&text, "2025-01-01", "2025-02-01")
        .iter()
        .zip(&before)
    {
        let moved = find(&p.events, &item_lead_uid);
        assert_eq!(moved.start, "2025-03-17", "{}", p.parser);
        assert!(moved.sequence > find(&old.events, &item_lead_uid).sequence);
    }
}

#[test]
fn a_contacts_feed_speaks_their_language_and_a_programmes_feed_holds_its_items() {
    let s = Setup::new();
    let admin = s.token("admin");
    let contacts: Value = s
        .get("/api/v1/organisations/kz-mci/contacts", Some(&admin))
        .json()
        .unwrap();
    let contact = &contacts["items"][0];
    assert_eq!(contact["language"], "kk");
    let (feed, path) = make_feed(&s, &admin, json!({"contact": contact["id"]}));
    assert_eq!(feed["scope"], "contact");
    assert_eq!(
        feed["lang"], "kk",
        "a contact's feed is in the contact's language"
    );
    let (_, text) = get_feed(&s, &path);
    let item = s.item("1.1");
    let due_uid = format!("obligation-{}@accord", item["id"].as_str().unwrap());
    for p in common::ics::parse_with_both(&text, "2025-01-01", "2026-01-01") {
        let due = find(&p.events, &due_uid);
        assert!(
            due.summary.as_deref().unwrap().starts_with("Мерзімі: 1.1 "),
            "{}",
            p.parser
        );
    }
    // DTSTAMP and LAST-MODIFIED are the record's last change, not the time of the request.
    let pool = s.db.migrated_pool();
    let stored =
        accord::store::obligations::by_id(&mut pool.get().unwrap(), item["id"].as_str().unwrap())
            .unwrap()
            .unwrap();
    let updated = stored.updated_at.format("%Y%m%dT%H%M%SZ").to_string();
    let unfolded = text.replace("\r\n ", "");
    let block = unfolded
        .split("BEGIN:VEVENT")
        .find(|b| b.contains(&format!("UID:{due_uid}")))
        .unwrap();
    assert!(block.contains(&format!("DTSTAMP:{updated}")), "{block}");
    assert!(
        block.contains(&format!("LAST-MODIFIED:{updated}")),
        "{block}"
    );

    // A programme's feed: its items (1.1 of kz-mci, 2.1 of ru-mkrf), the events
    // that fulfil them, and its body's meetings; not the events of others.
    let (feed, path) = make_feed(&s, &admin, json!({"programme": "kz-ru-test", "lang": "en"}));
    assert_eq!(feed["of"], "kz-ru-test");
    let (_, text) = get_feed(&s, &path);
    let item_2_1 = s.item("2.1");
    for p in common::ics::parse_with_both(&text, "2024-01-01", "2027-01-01") {
        assert!(p.events.iter().any(|e| e.uid == due_uid), "{}", p.parser);
        // 2.1 is yearly over 2024-2026: one deadline per year, on 31 December.
        let yearly: Vec<&str> = p
            .events
            .iter()
            .filter(|e| {
                e.uid
                    .starts_with(&format!("obligation-{}-", item_2_1["id"].as_str().unwrap()))
            })
            .map(|e| e.start.as_str())
            .collect();
        assert_eq!(yearly, vec!["2024-12-31", "2025-12-31", "2026-12-31"]);
        // The tour fulfils 1.1: 19:00 in Astana is 14:00Z.
        assert!(p.events.iter().any(|e| e.start == "2025-06-10T14:00:00Z"));
        assert!(p.events.iter().any(|e| e.uid.starts_with("meeting-")));
        // The all-day event of the fixture fulfils nothing: not here.
        assert!(!p.events.iter().any(|e| e.start == "2021-10-07"));
    }
}

/// PATCHes a resource at its current version (read first).
fn patch_current(s: &Setup, token: &str, path: &str, body: Value) {
    let version = s.get(path, Some(token)).json::<Value>().unwrap()["version"].clone();
    let res = s
        .client
        .patch(s.server.url(path))
        .bearer_auth(token)
        .header("content-type", "application/merge-patch+json")
        .header("if-match", format!("\"{version}\""))
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "PATCH {path} {body}");
}

/// The tag of a feed now: read by a full GET, which the same tag then
/// answers with 304 (the tag comes without rendering the feed).
fn tag_of(s: &Setup, path: &str) -> String {
    let (headers, _) = get_feed(s, path);
    let tag = headers["etag"].to_str().unwrap().to_string();
    let res = s
        .client
        .get(s.server.url(path))
        .header("if-none-match", &tag)
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{path}");
    assert_eq!(res.headers()["etag"].to_str().unwrap(), tag);
    tag
}

#[test]
fn a_feeds_tag_changes_with_every_change_it_shows_and_stays_otherwise() {
    let s = Setup::new();
    let admin = s.token("admin");
    let (_, org) = make_feed(&s, &admin, json!({"organisation": "kz-mci", "lang": "en"}));
    let (_, programme) = make_feed(&s, &admin, json!({"programme": "kz-ru-test", "lang": "en"}));
    let mut seen = std::collections::BTreeSet::new();
    let mut org_tag = tag_of(&s, &org);
    let mut programme_tag = tag_of(&s, &programme);
    seen.insert(org_tag.clone());
    seen.insert(programme_tag.clone());

    // Nothing changed: the same tags (they come from the database and the
    // request, so every instance of the service gives the same).
    assert_eq!(tag_of(&s, &org), org_tag);
    assert_eq!(tag_of(&s, &programme), programme_tag);
    // Writes to what no feed shows leave the tags alone: another feed.
    make_feed(&s, &admin, json!({"party": "KZ"}));
    assert_eq!(tag_of(&s, &org), org_tag);
    assert_eq!(tag_of(&s, &programme), programme_tag);

    // Each change gives a tag never seen before, and the old one a full answer.
    let mut changed = |what: &str, path: &str, tag: &mut String| {
        let res = s
            .client
            .get(s.server.url(path))
            .header("if-none-match", tag.as_str())
            .send()
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "after {what}");
        let now = tag_of(&s, path);
        assert!(seen.insert(now.clone()), "after {what}: {now} seen before");
        *tag = now;
    };
    let event = create_event(
        &s,
        &admin,
        json!({"title": {"en": "Tour"}, "kind": "other", "when": "2025-12-01", "organisers": ["kz-mci"]}),
    );
    changed("an event added", &org, &mut org_tag);
    let event = patch_event(
        &s,
        &admin,
        &event,
        json!({"title": {"en": "Tour, renamed"}}),
    );
    changed("an event edited", &org, &mut org_tag);
    patch_event(&s, &admin, &event, json!({"status": "cancelled"}));
    changed("an event cancelled", &org, &mut org_tag);
    let series = create_event(
        &s,
        &admin,
        json!({"title": {"en": "Masterclass"}, "kind": "other", "status": "confirmed",
               "start": "2025-10-14T10:00", "end": "2025-10-14T11:00", "time_zone": "Asia/Almaty",
               "rrule": "FREQ=WEEKLY;COUNT=4", "organisers": ["kz-mci"]}),
    );
    changed("a series added", &org, &mut org_tag);
    let series_id = series["id"].as_str().unwrap();
    put_occurrence(
        &s,
        &admin,
        series_id,
        "2025-10-21T10:00",
        json!({"start": "2025-10-22T10:00", "end": "2025-10-22T11:00"}),
    );
    changed("an occurrence moved", &org, &mut org_tag);
    let res = s
        .client
        .delete(s.server.url(&format!("/api/v1/events/{series_id}")))
        .bearer_auth(&admin)
        .header("if-match", "\"2\"")
        .send()
        .unwrap();
    let status = res.status();
    if status == StatusCode::PRECONDITION_FAILED {
        let version = s
            .get(&format!("/api/v1/events/{series_id}"), Some(&admin))
            .json::<Value>()
            .unwrap()["version"]
            .clone();
        let res = s
            .client
            .delete(s.server.url(&format!("/api/v1/events/{series_id}")))
            .bearer_auth(&admin)
            .header("if-match", format!("\"{version}\""))
            .send()
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    } else {
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    changed("an event deleted", &org, &mut org_tag);

    // Items and programmes: an item's text is in both feeds, the
    // programme's title names its feed.
    let item = s.item("1.1");
    patch_current(
        &s,
        &admin,
        &format!("/api/v1/obligations/{}", item["id"].as_str().unwrap()),
        json!({"text": {"en": "Days of Culture, revised", "ru": "Дни культуры"}}),
    );
    changed("an item edited", &org, &mut org_tag);
    changed("an item edited", &programme, &mut programme_tag);
    patch_current(
        &s,
        &admin,
        "/api/v1/programmes/kz-ru-test",
        json!({"title": {"en": "Renamed", "ru": "Переименована"}}),
    );
    changed("the programme renamed", &programme, &mut programme_tag);
    // The tag follows the tables a feed reads, not each feed's rows: the
    // organisation's feed gets a new one too (a full answer once, no more).
    org_tag = tag_of(&s, &org);

    // The feed's options: another language is another tag, the same one the same.
    let ru = format!("{org}?lang=ru");
    let ru_tag = tag_of(&s, &ru);
    assert_ne!(ru_tag, org_tag);
    assert_eq!(tag_of(&s, &ru), ru_tag);
    assert_eq!(tag_of(&s, &org), org_tag);
}
