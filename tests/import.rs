//! `accord import`: round trip through HTTP, idempotence, all-or-nothing.

mod common;

use accord::import::{self, ImportError};
use common::*;
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/small-programme.yaml");

fn import_fixture(db: &TestDb) -> accord::import::Summary {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    import::import_str(&mut conn, FIXTURE, &write_context("test")).unwrap()
}

#[test]
fn imported_programme_reads_back_through_http_as_written() {
    let db = TestDb::new();
    import_fixture(&db);
    let server = TestServer::start(&db, fixed_clock(2025, 8, 1));
    let source: Value = serde_norway::from_str(FIXTURE).unwrap();

    let list = server.get_json("/api/v1/programmes");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let id = items[0]["id"].as_str().unwrap();

    let p = server.get_json(&format!("/api/v1/programmes/{id}"));
    let sp = &source["programmes"][0];
    assert_eq!(p["key"], sp["key"]);
    assert_eq!(p["title"], sp["title"]);
    assert_eq!(p["parties"], serde_json::json!(["KZ", "RU"]));
    assert_eq!(p["period"]["start"], "2024-01-01");
    assert_eq!(p["period"]["end"], "2026-12-31");
    assert_eq!(p["public"], true);

    let sections = p["sections"].as_array().unwrap();
    let source_sections = sp["sections"].as_array().unwrap();
    assert_eq!(sections.len(), source_sections.len());
    for (s, ss) in sections.iter().zip(source_sections) {
        assert_eq!(s["code"], ss["code"]);
        assert_eq!(s["title"], ss["title"]);
        let obligations = s["obligations"].as_array().unwrap();
        let source_obligations = ss["obligations"].as_array().unwrap();
        assert_eq!(obligations.len(), source_obligations.len());
        for (o, so) in obligations.iter().zip(source_obligations) {
            assert_eq!(o["number"], so["number"]);
            assert_eq!(o["text"], so["text"]);
            assert_eq!(o["kind"], so["kind"]);
            assert_eq!(o["timeframe"]["text"], so["timeframe"]);
            assert_eq!(
                o["firmness"],
                so.get("firmness")
                    .cloned()
                    .unwrap_or(Value::from("binding"))
            );
            let roles: Vec<(String, String)> = o["assignments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    (
                        a["organisation_key"].as_str().unwrap().to_string(),
                        a["role"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let mut want: Vec<(String, String)> = so
                .get("assignments")
                .and_then(Value::as_array)
                .map(|v| {
                    v.iter()
                        .map(|a| {
                            (
                                a["organisation"].as_str().unwrap().to_string(),
                                a["role"].as_str().unwrap().to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut got = roles.clone();
            got.sort();
            want.sort();
            assert_eq!(got, want, "assignments of {}", o["number"]);
        }
    }

    // Normalised timeframes and computed flags on 2025-08-01.
    let item = |number: &str| {
        sections
            .iter()
            .flat_map(|s| s["obligations"].as_array().unwrap().iter())
            .find(|o| o["number"] == number)
            .unwrap()
            .clone()
    };
    let tour = item("1.1");
    assert_eq!(tour["timeframe"]["kind"], "quarter");
    assert_eq!(tour["timeframe"]["earliest"], "2025-04-01");
    assert_eq!(tour["timeframe"]["latest"], "2025-06-30");
    assert_eq!(
        tour["quantities"],
        serde_json::json!({"max_persons": 5, "max_days": 7})
    );
    assert_eq!(
        tour["cost_terms"],
        serde_json::json!({"international_travel": "sending", "accommodation": "hosting"})
    );
    // Russia has not reported on the tour, which was due by 30 June: still overdue.
    assert_eq!(tour["overdue"], true, "{tour}");
    assert_eq!(tour["status"][0]["party"], "KZ");
    assert_eq!(tour["status"][0]["lifecycle"], "completed");
    let days = item("1.2");
    assert_eq!(days["overdue"], false);
    assert_eq!(days["timeframe"]["latest"], "2025-12-31");
    let exchange = item("2.1");
    assert_eq!(exchange["timeframe"]["kind"], "programme_period");
    assert_eq!(exchange["timeframe"]["latest"], "2026-12-31");
    assert_eq!(exchange["recurrence"], "yearly");
    let catalogue = item("2.2");
    assert_eq!(catalogue["timeframe"]["kind"], "to_be_agreed");
    assert_eq!(catalogue["timeframe"]["latest"], Value::Null);
    assert_eq!(catalogue["assessment"]["urgency"]["state"], "unscheduled");
    assert_eq!(p["counts"]["overdue"], 1);

    // By key as well as by id.
    let by_key = server.get_json("/api/v1/programmes/kz-ru-test");
    assert_eq!(by_key["id"], p["id"]);

    // Agreements, with dates as precise as the source.
    let agreements = server.get_json("/api/v1/agreements");
    let items = agreements["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let a1994 = items.iter().find(|a| a["key"] == "kz-ru-1994").unwrap();
    assert_eq!(a1994["signed"]["earliest"], "1994-03-28");
    assert_eq!(a1994["in_force_on"], "1998-12-03");
    assert_eq!(a1994["notice_months"], 6);
    // In force 1998-12-03 for 5 years, renewed by 5: on 2025-08-01 the
    // period running ends 2028-12-03, and notice is due six months before.
    assert_eq!(
        a1994["notice"],
        serde_json::json!({"period_ends": "2028-12-03", "notice_by": "2028-06-03", "renews": true})
    );
    assert_eq!(
        items
            .iter()
            .find(|a| a["key"] == "kz-ru-memo-2012")
            .unwrap()["notice"],
        Value::Null
    );
    let memo = items
        .iter()
        .find(|a| a["key"] == "kz-ru-memo-2012")
        .unwrap();
    assert_eq!(memo["signed"]["kind"], "month");
    assert_eq!(memo["signed"]["earliest"], "2012-09-01");
    assert_eq!(memo["signed"]["latest"], "2012-09-30");
    let detail = server.get_json("/api/v1/agreements/kz-ru-1994");
    assert_eq!(detail["programmes"][0]["key"], "kz-ru-test");
}

#[test]
fn importing_the_same_file_twice_changes_nothing() {
    let db = TestDb::new();
    let first = import_fixture(&db);
    assert!(first.changed_anything());
    assert_eq!(first.created.get("obligations"), Some(&5));
    assert_eq!(first.created.get("status reports"), Some(&1));
    let pool = db.pool();
    let before = table_counts(&pool);
    let mut conn = pool.get().unwrap();
    let second = import::import_str(&mut conn, FIXTURE, &write_context("test")).unwrap();
    assert!(
        !second.changed_anything(),
        "second import changed: {second}"
    );
    drop(conn);
    assert_eq!(table_counts(&pool), before);
}

#[test]
fn an_edited_file_updates_in_place_and_audits_before_and_after() {
    let db = TestDb::new();
    import_fixture(&db);
    let pool = db.pool();
    let edited = FIXTURE.replace("timeframe: II quarter 2025", "timeframe: III quarter 2025");
    let mut conn = pool.get().unwrap();
    let summary = import::import_str(&mut conn, &edited, &write_context("editor")).unwrap();
    assert_eq!(summary.updated.get("obligations"), Some(&1), "{summary}");
    assert_eq!(summary.created.get("obligations"), None);
    let programme = accord::store::programmes::by_key(&mut conn, "kz-ru-test")
        .unwrap()
        .unwrap();
    let item = accord::store::obligations::by_number(
        &mut conn,
        accord::store::obligations::Owner::Programme(&programme.id),
        "1.1",
    )
    .unwrap()
    .unwrap();
    assert_eq!(item.latest.unwrap().to_string(), "2025-09-30");
    assert_eq!(item.version, 2);
    let audit = accord::store::audit::for_entity(&mut conn, "obligation", &item.id).unwrap();
    assert_eq!(audit.len(), 2, "one create, one update");
    let update = &audit[1];
    assert_eq!(update.action, "update");
    assert_eq!(update.actor, "editor");
    assert!(update.before.as_ref().unwrap().contains("II quarter 2025"));
    assert!(update.after.as_ref().unwrap().contains("III quarter 2025"));
}

#[test]
fn a_file_with_problems_reports_each_with_its_line_and_writes_nothing() {
    let db = TestDb::new();
    import_fixture(&db);
    let pool = db.pool();
    let before = table_counts(&pool);
    let broken = "\
parties:
  - {code: AM, name: {en: Armenia}, time_zone: Asia/Yerevan}
  - {code: BY, name: {en: Belarus}, time_zone: Europe/Mensk}
programmes:
  - key: am-by-2025
    title: {en: A programme}
    period: \"2025-2026\"
    parties: [AM, BY, XX]
    sections:
      - code: s
        title: {xx: Unknown language}
        obligations:
          - number: \"1\"
            text: {en: An item}
            kind: tour
            timeframe: 2025-Q5
          - number: \"2\"
            text: {en: Another}
            kind: parade
            timeframe: 2025-13
";
    let mut conn = pool.get().unwrap();
    let err = import::import_str(&mut conn, broken, &write_context("test")).unwrap_err();
    let ImportError::Invalid(problems) = err else {
        panic!("{err}")
    };
    let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    let expect = [
        "line 3: parties[1].time_zone: `Europe/Mensk` is not an IANA time zone name",
        "line 8: programmes[0].parties[2]: party `XX` is neither in this file nor in the database",
        "line 11: programmes[0].sections[0].title: `xx` is not a supported language code",
        "line 16: programmes[0].sections[0].obligations[0].timeframe: quarter 5 is out of range",
        "line 19: programmes[0].sections[0].obligations[1].kind: `parade` is not allowed here",
        "line 20: programmes[0].sections[0].obligations[1].timeframe: month 13 is out of range",
    ];
    for e in expect {
        assert!(
            lines.iter().any(|l| l.starts_with(e)),
            "missing `{e}` in:\n{}",
            lines.join("\n")
        );
    }
    assert_eq!(problems.len(), expect.len(), "{}", lines.join("\n"));
    drop(conn);
    assert_eq!(
        table_counts(&pool),
        before,
        "a failed import wrote something"
    );
}

#[test]
fn a_file_that_is_not_yaml_of_the_format_says_where() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let err = import::import_str(
        &mut conn,
        "parties:\n  - code: KZ\n    nmae: {en: x}\n",
        &write_context("t"),
    )
    .unwrap_err();
    let ImportError::Invalid(problems) = err else {
        panic!("{err}")
    };
    assert_eq!(problems[0].line, Some(3), "{:?}", problems);
    assert!(problems[0].message.contains("nmae"), "{:?}", problems);
}

#[test]
fn a_problem_late_in_the_file_keeps_the_earlier_records_out_too() {
    // The first event is fine; the second starts in a DST gap. The first
    // must not be written either.
    let db = TestDb::new();
    import_fixture(&db);
    let pool = db.pool();
    let before = table_counts(&pool);
    let file = "\
events:
  - {key: new-one, title: {en: New}, kind: concert, when: 2025-05}
  - {key: gap, title: {en: Gap}, kind: concert, start: 2025-03-30T02:30, time_zone: Europe/Berlin}
";
    let mut conn = pool.get().unwrap();
    let err = import::import_str(&mut conn, file, &write_context("t")).unwrap_err();
    let ImportError::Invalid(problems) = err else {
        panic!("{err}")
    };
    assert!(
        problems[0]
            .to_string()
            .contains("does not exist in Europe/Berlin"),
        "{}",
        problems[0]
    );
    drop(conn);
    assert_eq!(table_counts(&pool), before);
}

#[test]
fn the_demo_data_imports_cleanly_and_idempotently() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    for file in ["demo/reference.yaml", "demo/kz-ru-programme-2024-2026.yaml"] {
        let summary = import::import_file(&mut conn, &repo_path(file), &write_context("demo"));
        match summary {
            Ok(s) => assert!(s.changed_anything(), "{file}: {s}"),
            Err(ImportError::Invalid(problems)) => {
                panic!(
                    "{file}:\n{}",
                    problems
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            }
            Err(e) => panic!("{file}: {e}"),
        }
    }
    drop(conn);
    let before = table_counts(&pool);
    let mut conn = pool.get().unwrap();
    for file in ["demo/reference.yaml", "demo/kz-ru-programme-2024-2026.yaml"] {
        let s = import::import_file(&mut conn, &repo_path(file), &write_context("demo")).unwrap();
        assert!(!s.changed_anything(), "{file}: {s}");
    }
    drop(conn);
    assert_eq!(table_counts(&pool), before);
}

#[test]
fn due_soon_and_overdue_follow_the_clock() {
    let db = TestDb::new();
    import_fixture(&db);
    let flags = |y, m, d| {
        let server = TestServer::start(&db, fixed_clock(y, m, d));
        let p = server.get_json("/api/v1/programmes/kz-ru-test");
        let tour = p["sections"][0]["obligations"][0].clone();
        assert_eq!(tour["number"], "1.1");
        (
            tour["overdue"].as_bool().unwrap(),
            tour["due_soon"].as_bool().unwrap(),
            tour["assessment"]["urgency"].clone(),
        )
    };
    // The tour is due on 30 June 2025 (II quarter), Russia never reports.
    assert_eq!(
        flags(2025, 5, 1),
        (false, false, serde_json::json!({"state": "not_yet_due"}))
    );
    assert_eq!(
        flags(2025, 6, 15),
        (
            false,
            true,
            serde_json::json!({"state": "due_soon", "days_left": 15})
        )
    );
    assert_eq!(
        flags(2025, 6, 30),
        (
            false,
            true,
            serde_json::json!({"state": "due_soon", "days_left": 0})
        )
    );
    assert_eq!(
        flags(2025, 7, 1),
        (
            true,
            false,
            serde_json::json!({"state": "overdue", "days_late": 1})
        )
    );
}
