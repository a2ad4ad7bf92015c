//! Roll-ups, history (as_of, changes since), snapshots: through the real
//! server on each backend. The expected figures are computed here, from the
//! reports this test posts, by a small model of its own (not the production
//! code): latest report per party on a date, overall lifecycle, completion per
//! (item, responsible party) pair, percent, overdue / due soon.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use accord::clock::SettableClock;
use chrono::{NaiveDate, TimeZone, Utc};
use common::api::*;
use common::*;
use reqwest::blocking::Response;
use reqwest::StatusCode;
use serde_json::{json, Value};

const FIXTURE: &str = r#"
parties:
  - {code: KZ, name: {en: Kazakhstan, ru: Казахстан, kk: Қазақстан}, time_zone: Asia/Almaty}
  - {code: RU, name: {en: Russia, ru: Россия}, time_zone: Europe/Moscow}
organisations:
  - key: kz-mci
    party: KZ
    kind: ministry
    name: {en: Ministry of Culture and Information, ru: Министерство культуры и информации}
    contacts:
      - {name: Test Focal Point, email: focal@example.kz, language: kk, role: focal_point}
  - {key: kz-mci-arts, party: KZ, parent: kz-mci, kind: department, name: {en: Department of Arts}}
  - key: ru-mkrf
    party: RU
    kind: ministry
    name: {en: Ministry of Culture, ru: Министерство культуры}
    contacts:
      - {name: Ivan Petrov, email: petrov@example.ru, language: ru, role: focal_point}
  - {key: ru-museums, party: RU, kind: museum, name: {en: State Museum}}
agreements:
  - {key: kz-ru-1994, kind: agreement, title: {en: Agreement on Cooperation}, parties: [KZ, RU], signed: 1994-03-28}
bodies:
  - {key: kz-ru-igc, kind: commission, name: {en: Intergovernmental Commission}, parties: [KZ, RU]}
  - {key: kz-ru-sc, kind: sub_commission, parent: kz-ru-igc, name: {en: Sub-Commission}, parties: [KZ, RU]}
meetings:
  - {body: kz-ru-sc, number: 3, title: {en: Third meeting}, date: 2025-05-15, time: "11:00", time_zone: Europe/Moscow, status: held}
  - body: kz-ru-sc
    number: 4
    title: {en: Fourth meeting}
    date: 2025-10-10
    time: "11:00"
    time_zone: Europe/Moscow
    decisions:
      - {number: "1", kind: create, text: {en: Exchange concerts}}
    obligations:
      - number: "1"
        decision: "1"
        text: {en: Exchange concerts}
        kind: concert
        timeframe: "2026"
        assignments:
          - {organisation: ru-mkrf, role: lead}
  - {body: kz-ru-igc, number: 9, title: {en: Commission meeting}, date: 2025-04-01, time: "11:00", time_zone: Europe/Moscow, status: held}
programmes:
  - key: kz-ru-public
    title: {en: A public programme}
    agreement: kz-ru-1994
    body: kz-ru-sc
    period: "2024-2026"
    parties: [KZ, RU]
    public: true
    sections:
      - code: misc
        title: {en: Miscellany}
        obligations:
          - {number: "1", text: {en: Something}, kind: other, timeframe: "2026", assignments: [{organisation: kz-mci, role: lead}]}
  - key: kz-ru-roll
    title: {en: Roll-up programme 2024-2026, ru: Программа 2024-2026}
    agreement: kz-ru-1994
    body: kz-ru-sc
    period: "2024-2026"
    parties: [KZ, RU]
    public: false
    sections:
      - code: theatre
        title: {en: Theatre, ru: Театр}
        obligations:
          - number: "1.1"
            text: {en: Tour of a theatre, ru: Гастроли театра}
            kind: tour
            timeframe: II quarter 2025
            assignments:
              - {organisation: kz-mci, role: sending}
              - {organisation: ru-mkrf, role: hosting}
          - number: "1.2"
            text: {en: Days of Culture}
            kind: days_of_culture
            timeframe: "2025"
            assignments:
              - {organisation: kz-mci, role: lead}
      - code: cinema
        title: {en: Cinema}
        obligations:
          - number: "2.1"
            text: {en: Film week}
            kind: film_week
            timeframe: March 2025
            assignments:
              - {organisation: kz-mci-arts, role: lead}
              - {organisation: ru-mkrf, role: co_executor}
          - number: "2.2"
            text: {en: Joint film}
            kind: co_production
            timeframe: to be agreed
            assignments:
              - {organisation: ru-mkrf, role: lead}
      - code: museums
        title: {en: Museums}
        obligations:
          - number: "3.1"
            text: {en: Exhibition}
            kind: exhibition
            timeframe: "2024"
            assignments:
              - {organisation: ru-museums, role: lead}
              - {organisation: kz-mci, role: co_executor}
          - number: "3.2"
            text: {en: Catalogue}
            kind: publication
            timeframe: "2025-08-10"
            assignments:
              - {organisation: kz-mci-arts, role: lead}
"#;

const PROGRAMME: &str = "kz-ru-roll";
const DUE_SOON_DAYS: i64 = 30;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

// ---------------------------------------------------------------------------
// The test's own model.

struct Item {
    number: &'static str,
    section: &'static str,
    /// Due date; None: to be agreed.
    due: Option<NaiveDate>,
    /// (organisation key, party).
    orgs: &'static [(&'static str, &'static str)],
}

fn items() -> Vec<Item> {
    vec![
        Item {
            number: "1.1",
            section: "theatre",
            due: Some(d(2025, 6, 30)),
            orgs: &[("kz-mci", "KZ"), ("ru-mkrf", "RU")],
        },
        Item {
            number: "1.2",
            section: "theatre",
            due: Some(d(2025, 12, 31)),
            orgs: &[("kz-mci", "KZ")],
        },
        Item {
            number: "2.1",
            section: "cinema",
            due: Some(d(2025, 3, 31)),
            orgs: &[("kz-mci-arts", "KZ"), ("ru-mkrf", "RU")],
        },
        Item {
            number: "2.2",
            section: "cinema",
            due: None,
            orgs: &[("ru-mkrf", "RU")],
        },
        Item {
            number: "3.1",
            section: "museums",
            due: Some(d(2024, 12, 31)),
            orgs: &[("ru-museums", "RU"), ("kz-mci", "KZ")],
        },
        Item {
            number: "3.2",
            section: "museums",
            due: Some(d(2025, 8, 10)),
            orgs: &[("kz-mci-arts", "KZ")],
        },
    ]
}

impl Item {
    fn parties(&self) -> BTreeSet<&'static str> {
        self.orgs.iter().map(|(_, p)| *p).collect()
    }
}

#[derive(Clone)]
struct Posted {
    number: &'static str,
    party: &'static str,
    as_of: NaiveDate,
    filed: NaiveDate,
    lifecycle: &'static str,
    completion: &'static str,
}

/// The last report of `party` on `number` known on `day` (None: every report).
fn latest<'a>(
    reports: &'a [Posted],
    number: &str,
    party: &str,
    day: Option<NaiveDate>,
) -> Option<&'a Posted> {
    let mut best: Option<&Posted> = None;
    for r in reports {
        if r.number != number || r.party != party {
            continue;
        }
        if day.is_some_and(|day| r.as_of > day || r.filed > day) {
            continue;
        }
        // Posted in time order: a later one with the same or a later as_of wins.
        if best.is_none_or(|b| (r.as_of, r.filed) >= (b.as_of, b.filed)) {
            best = Some(r);
        }
    }
    best
}

fn score(level: &str) -> Option<u32> {
    match level {
        "not_started" => Some(0),
        "limited" => Some(1),
        "substantial" => Some(2),
        "complete" => Some(3),
        _ => None,
    }
}

/// What the test expects of one item on `day`.
struct Expected {
    lifecycle: &'static str,
    /// Completion per responsible party.
    completion: BTreeMap<&'static str, &'static str>,
    overdue: bool,
    due_soon: bool,
}

fn expect_item(
    item: &Item,
    reports: &[Posted],
    as_of: Option<NaiveDate>,
    today: NaiveDate,
) -> Expected {
    let day = as_of.unwrap_or(today);
    let mut completion = BTreeMap::new();
    let mut done = true;
    let mut any_active = false;
    for party in item.parties() {
        let r = latest(reports, item.number, party, as_of);
        completion.insert(party, r.map_or("no_evidence", |r| r.completion));
        done &= r.is_some_and(|r| r.lifecycle == "completed" || r.completion == "complete");
        any_active |= r.is_some_and(|r| r.lifecycle == "in_progress" || r.lifecycle == "completed");
    }
    // Every item of the scenario is stored as planned; the reports move it.
    let lifecycle = if done {
        "completed"
    } else if any_active {
        "in_progress"
    } else {
        "planned"
    };
    let (overdue, due_soon) = match item.due {
        Some(due) if lifecycle != "completed" => {
            let left = (due - day).num_days();
            (left < 0, (0..=DUE_SOON_DAYS).contains(&left))
        }
        _ => (false, false),
    };
    Expected {
        lifecycle,
        completion,
        overdue,
        due_soon,
    }
}

#[derive(Debug, Default, PartialEq)]
struct Figures {
    obligations: u64,
    by_lifecycle: BTreeMap<String, u64>,
    pairs: u64,
    by_completion: BTreeMap<String, u64>,
    scored: u64,
    no_evidence: u64,
    percent: Option<String>,
    overdue: u64,
    due_soon: u64,
}

#[derive(Default)]
struct Acc {
    f: Figures,
    sum: u32,
}

impl Acc {
    fn item(&mut self, e: &Expected) {
        self.f.obligations += 1;
        *self
            .f
            .by_lifecycle
            .entry(e.lifecycle.to_string())
            .or_default() += 1;
        self.f.overdue += u64::from(e.overdue);
        self.f.due_soon += u64::from(e.due_soon);
    }
    fn pair(&mut self, level: &str) {
        self.f.pairs += 1;
        *self.f.by_completion.entry(level.to_string()).or_default() += 1;
        match score(level) {
            Some(s) => {
                self.f.scored += 1;
                self.sum += s;
            }
            None => self.f.no_evidence += 1,
        }
    }
    fn done(mut self) -> Figures {
        if self.f.scored > 0 {
            let p = f64::from(self.sum) / (self.f.scored as f64 * 3.0) * 100.0;
            self.f.percent = Some(format!("{p:.6}"));
        }
        self.f
    }
}

struct Model {
    totals: Figures,
    sections: BTreeMap<String, Figures>,
    parties: BTreeMap<String, Figures>,
    organisations: BTreeMap<String, Figures>,
    overdue: Vec<String>,
    due_soon: Vec<String>,
}

fn model(reports: &[Posted], as_of: Option<NaiveDate>, today: NaiveDate) -> Model {
    let mut totals = Acc::default();
    let mut sections: BTreeMap<String, Acc> = BTreeMap::new();
    let mut parties: BTreeMap<String, Acc> = BTreeMap::new();
    let mut organisations: BTreeMap<String, Acc> = BTreeMap::new();
    let mut overdue = Vec::new();
    let mut due_soon = Vec::new();
    for item in items() {
        let e = expect_item(&item, reports, as_of, today);
        totals.item(&e);
        let s = sections.entry(item.section.to_string()).or_default();
        s.item(&e);
        for (party, level) in &e.completion {
            totals.pair(level);
            s.pair(level);
            let p = parties.entry(party.to_string()).or_default();
            p.item(&e);
            p.pair(level);
        }
        for (org, party) in item.orgs {
            let o = organisations.entry(org.to_string()).or_default();
            o.item(&e);
            o.pair(e.completion[party]);
        }
        if e.overdue {
            overdue.push(item.number.to_string());
        }
        if e.due_soon {
            due_soon.push(item.number.to_string());
        }
    }
    let done = |m: BTreeMap<String, Acc>| m.into_iter().map(|(k, a)| (k, a.done())).collect();
    overdue.sort();
    due_soon.sort();
    Model {
        totals: totals.done(),
        sections: done(sections),
        parties: done(parties),
        organisations: done(organisations),
        overdue,
        due_soon,
    }
}

/// The figures the API gave for one group (zeros dropped, as the model has none).
fn figures(v: &Value) -> Figures {
    let nonzero = |m: &Value| -> BTreeMap<String, u64> {
        m.as_object()
            .unwrap()
            .iter()
            .filter(|(_, n)| n.as_u64() != Some(0))
            .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
            .collect()
    };
    Figures {
        obligations: v["obligations"].as_u64().unwrap(),
        by_lifecycle: nonzero(&v["by_lifecycle"]),
        pairs: v["pairs"].as_u64().unwrap(),
        by_completion: nonzero(&v["by_completion"]),
        scored: v["scored"].as_u64().unwrap(),
        no_evidence: v["no_evidence"].as_u64().unwrap(),
        percent: v["completion_percent"].as_f64().map(|p| format!("{p:.6}")),
        overdue: v["overdue"].as_u64().unwrap(),
        due_soon: v["due_soon"].as_u64().unwrap(),
    }
}

fn groups(v: &Value) -> BTreeMap<String, Figures> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"].as_str().unwrap().to_string(), figures(g)))
        .collect()
}

fn numbers(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

fn assert_rollup(got: &Value, want: &Model, what: &str) {
    assert_eq!(figures(&got["totals"]), want.totals, "{what}: totals");
    assert_eq!(groups(&got["sections"]), want.sections, "{what}: sections");
    assert_eq!(groups(&got["parties"]), want.parties, "{what}: parties");
    assert_eq!(
        groups(&got["organisations"]),
        want.organisations,
        "{what}: organisations"
    );
    assert_eq!(numbers(&got["overdue"]), want.overdue, "{what}: overdue");
    assert_eq!(numbers(&got["due_soon"]), want.due_soon, "{what}: due soon");
}

// ---------------------------------------------------------------------------
// The server side.

struct World {
    s: Setup,
    clock: SettableClock,
    admin: String,
    ids: BTreeMap<String, String>,
    posted: Vec<Posted>,
}

impl World {
    fn new() -> World {
        let mut s = Setup::with_fixture(FIXTURE);
        let clock = SettableClock::new(Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap());
        // The same database, served with a clock the test moves.
        s.server = TestServer::start(&s.db, Arc::new(clock.clone()));
        let admin = s.token("admin");
        let page = json_ok(s.get(
            &format!("/api/v1/obligations?programme={PROGRAMME}"),
            Some(&admin),
        ));
        let ids = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["number"].as_str().unwrap().to_string(),
                    o["id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        World {
            s,
            clock,
            admin,
            ids,
            posted: Vec::new(),
        }
    }

    fn today(&self) -> NaiveDate {
        self.clock_now().date_naive()
    }

    fn clock_now(&self) -> chrono::DateTime<Utc> {
        use accord::clock::Clock;
        self.clock.now()
    }

    /// Moves the clock; tokens expire, so the admin signs in again.
    fn set_today(&mut self, day: NaiveDate) {
        self.clock
            .set(Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap()));
        self.admin = self.s.token("admin");
    }

    fn report(
        &mut self,
        number: &'static str,
        party: &'static str,
        as_of: NaiveDate,
        lifecycle: &'static str,
        completion: &'static str,
    ) {
        let body = json!({
            "party": party, "lifecycle": lifecycle, "completion": completion, "as_of": as_of,
            "narrative": {"en": format!("{number} {party} {as_of}")},
            "evidence": [{"kind": "official_letter", "description": format!("letter {as_of}")}],
        });
        let res = self.s.report(&self.ids[number], Some(&self.admin), body);
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().unwrap());
        let filed = self.today();
        self.posted.push(Posted {
            number,
            party,
            as_of,
            filed,
            lifecycle,
            completion,
        });
    }

    fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.s.get(&format!("/api/v1{path}"), token)
    }

    fn rollup(&self, query: &str) -> Value {
        json_ok(self.get(
            &format!("/programmes/{PROGRAMME}/rollup{query}"),
            Some(&self.admin),
        ))
    }

    fn post(&self, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let mut req = self
            .s
            .client
            .post(self.s.server.url(&format!("/api/v1{path}")));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        req.send().unwrap()
    }
}

fn json_ok(res: Response) -> Value {
    let status = res.status();
    let url = res.url().to_string();
    let text = res.text().unwrap();
    assert_eq!(status, StatusCode::OK, "{url}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn field_error(res: Response, field: &str) {
    let (status, body) = problem(res);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec![field], "{body}");
}

/// Three rounds of reports, filed on three days.
fn scenario(w: &mut World) {
    w.set_today(d(2025, 3, 1));
    w.report("1.1", "KZ", d(2025, 2, 15), "in_progress", "limited");
    w.report("2.1", "KZ", d(2025, 2, 20), "in_progress", "substantial");
    w.report("3.1", "RU", d(2025, 2, 1), "in_progress", "limited");
    w.set_today(d(2025, 5, 1));
    w.report("1.1", "KZ", d(2025, 4, 20), "in_progress", "substantial");
    w.report("1.1", "RU", d(2025, 4, 25), "scheduled", "not_started");
    w.report("3.1", "KZ", d(2025, 4, 10), "completed", "complete");
    w.report("2.2", "RU", d(2025, 4, 1), "planned", "not_started");
    // Filed late, but speaking for a date before the March round: as_of decides.
    w.report("2.1", "KZ", d(2025, 2, 10), "in_progress", "limited");
}

fn later_round(w: &mut World) {
    w.set_today(d(2025, 7, 1));
    w.report("1.1", "KZ", d(2025, 6, 28), "completed", "complete");
    w.report("1.1", "RU", d(2025, 6, 30), "completed", "complete");
    w.report("2.1", "RU", d(2025, 6, 15), "in_progress", "limited");
    w.report("3.2", "KZ", d(2025, 6, 20), "in_progress", "limited");
}

#[test]
fn rollup_figures_match_an_independent_count_now_and_as_of_earlier_dates() {
    let mut w = World::new();
    // Nothing reported: every pair is no evidence, the percent is null.
    let empty = w.rollup("");
    assert_eq!(empty["totals"]["completion_percent"], Value::Null);
    assert_eq!(empty["due_soon_days"], DUE_SOON_DAYS);
    assert_rollup(&empty, &model(&[], None, w.today()), "before any report");

    scenario(&mut w);
    later_round(&mut w);
    w.set_today(d(2025, 8, 1));
    let today = w.today();
    let now = w.rollup("");
    assert_eq!(now["as_of"], "2025-08-01");
    assert_rollup(&now, &model(&w.posted, None, today), "now");
    // Spot checks of the model itself, so that a wrong model cannot agree with a wrong roll-up.
    // Scores now: 1.1 KZ complete 3, RU complete 3; 1.2 KZ no evidence (apart);
    // 2.1 KZ substantial 2 (as of 2025-02-20, later than the late-filed
    // 2025-02-10 report), RU limited 1; 2.2 RU not started 0; 3.1 RU limited 1,
    // KZ complete 3; 3.2 KZ limited 1: 9 pairs, 8 scored, sum 14.
    assert_eq!(now["totals"]["pairs"], 9);
    assert_eq!(now["totals"]["no_evidence"], 1);
    assert_eq!(now["totals"]["scored"], 8);
    let p = now["totals"]["completion_percent"].as_f64().unwrap();
    assert!((p - 14.0 / 24.0 * 100.0).abs() < 1e-9, "{p}");
    assert_eq!(numbers(&now["overdue"]), vec!["2.1", "3.1"]);
    assert_eq!(numbers(&now["due_soon"]), vec!["3.2"]);
    // Overdue items name their responsible organisations and contacts.
    let late = now["overdue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["number"] == "2.1")
        .unwrap();
    let ru = late["responsible"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["organisation_key"] == "ru-mkrf")
        .unwrap();
    assert_eq!(ru["party"], "RU");
    assert_eq!(ru["contacts"][0]["email"], "petrov@example.ru");
    // Most late first.
    assert_eq!(now["overdue"][0]["number"], "3.1");

    for as_of in [
        d(2025, 2, 16),
        d(2025, 3, 10),
        d(2025, 4, 30),
        d(2025, 5, 15),
        d(2025, 6, 29),
        d(2025, 7, 31),
    ] {
        let got = w.rollup(&format!("?as_of={as_of}"));
        assert_eq!(got["as_of"], as_of.to_string());
        assert_eq!(got["today"], "2025-08-01");
        assert_rollup(
            &got,
            &model(&w.posted, Some(as_of), today),
            &format!("as of {as_of}"),
        );
    }
    // Before a report's as_of, and before the day it was filed, it does not count.
    let april = w.rollup("?as_of=2025-04-30");
    let theatre = |v: &Value| {
        v["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == "theatre")
            .unwrap()
            .clone()
    };
    assert_eq!(
        theatre(&april)["by_completion"]["limited"],
        1,
        "1.1 KZ as filed in March"
    );
    assert_eq!(
        theatre(&april)["by_completion"]["substantial"],
        0,
        "filed on 2025-05-01"
    );
    assert_eq!(
        theatre(&w.rollup("?as_of=2025-05-01"))["by_completion"]["substantial"],
        1
    );
    // Sections come in their order.
    let keys: Vec<&str> = now["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["theatre", "cinema", "museums"]);
}

#[test]
fn meeting_rollup_counts_the_protocol() {
    let w = World::new();
    let body = json_ok(w.get("/bodies/kz-ru-sc/meetings", Some(&w.admin)));
    let meetings = body["items"].as_array().unwrap();
    let fourth = meetings.iter().find(|m| m["number"] == 4).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let got = json_ok(w.get(&format!("/meetings/{fourth}/rollup"), Some(&w.admin)));
    assert_eq!(got["totals"]["obligations"], 1);
    assert_eq!(got["totals"]["pairs"], 1);
    assert_eq!(got["totals"]["no_evidence"], 1);
    assert_eq!(got["parties"][0]["key"], "RU");
    // Not public: a token is needed; any signed-in user reads it.
    assert_eq!(
        w.get(&format!("/meetings/{fourth}/rollup"), None).status(),
        StatusCode::UNAUTHORIZED
    );
    let viewer = w.s.token("viewer");
    assert_eq!(
        w.get(&format!("/meetings/{fourth}/rollup"), Some(&viewer))
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        w.get(
            "/meetings/00000000-0000-4000-8000-000000000000/rollup",
            Some(&viewer)
        )
        .status(),
        StatusCode::NOT_FOUND
    );
    field_error(
        w.get(
            &format!("/meetings/{fourth}/rollup?as_of=2025-02-30"),
            Some(&viewer),
        ),
        "as_of",
    );
}

#[test]
fn changes_since_list_exactly_the_changed_items() {
    let mut w = World::new();
    scenario(&mut w);
    // A change of dates before the meeting: not a change since it.
    w.set_today(d(2025, 5, 2));
    let item =
        |w: &World, n: &str| json_ok(w.get(&format!("/obligations/{}", w.ids[n]), Some(&w.admin)));
    let v = item(&w, "2.2")["version"].as_i64().unwrap();
    let res = w.s.patch(
        &w.ids["2.2"],
        Some(&w.admin),
        Some(v),
        json!({"timeframe": "2026"}),
    );
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().unwrap());
    later_round(&mut w);
    // A change of dates after it.
    let v = item(&w, "1.2")["version"].as_i64().unwrap();
    let res = w.s.patch(
        &w.ids["1.2"],
        Some(&w.admin),
        Some(v),
        json!({"timeframe": "III quarter 2025"}),
    );
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().unwrap());
    w.set_today(d(2025, 8, 1));

    let since = d(2025, 5, 15);
    let got = json_ok(w.get(
        &format!("/programmes/{PROGRAMME}/changes?since={since}"),
        Some(&w.admin),
    ));
    assert_eq!(got["since"], "2025-05-15");
    // Expected: the model's status then and now, plus the one change of dates.
    let mut want: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for item in items() {
        let then = expect_item(&item, &w.posted, Some(since), w.today());
        let now = expect_item(&item, &w.posted, None, w.today());
        let mut axes = BTreeSet::new();
        if then.lifecycle != now.lifecycle {
            axes.insert("lifecycle".to_string());
        }
        if then.completion != now.completion {
            axes.insert("completion".to_string());
        }
        if item.number == "1.2" {
            axes.insert("dates".to_string());
        }
        if !axes.is_empty() {
            want.insert(item.number.to_string(), axes);
        }
    }
    let got_map: BTreeMap<String, BTreeSet<String>> = got["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let axes = c["changed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            (c["number"].as_str().unwrap().to_string(), axes)
        })
        .collect();
    assert_eq!(got_map, want);
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        vec!["1.1", "1.2", "2.1", "3.2"]
    );
    let one = got["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["number"] == "1.1")
        .unwrap();
    assert_eq!(
        one["before"]["completion"],
        json!({"KZ": "substantial", "RU": "not_started"})
    );
    assert_eq!(
        one["after"]["completion"],
        json!({"KZ": "complete", "RU": "complete"})
    );
    assert_eq!(one["before"]["lifecycle"], "in_progress");
    assert_eq!(one["after"]["lifecycle"], "completed");
    let dates = got["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["number"] == "1.2")
        .unwrap();
    assert_eq!(dates["before"]["timeframe"], "2025");
    assert_eq!(dates["before"]["latest"], "2025-12-31");
    assert_eq!(dates["after"]["timeframe"], "III quarter 2025");
    assert_eq!(dates["after"]["latest"], "2025-09-30");

    // As of the meeting, 1.2 had its old timeframe.
    let table = |q: &str| {
        let t = json_ok(w.get(
            &format!("/programmes/{PROGRAMME}/implementation-table?format=json{q}"),
            Some(&w.admin),
        ));
        let row = t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["number"] == "1.2")
            .unwrap()
            .clone();
        (row["timeframe"].clone(), row["due"].clone())
    };
    assert_eq!(
        table("&as_of=2025-05-15"),
        (json!("2025"), json!("2025-12-31"))
    );
    assert_eq!(table(""), (json!("III quarter 2025"), json!("2025-09-30")));

    // The last meeting of the programme's body held before today: 2025-05-15
    // (the commission's own meeting is another body's; the fourth is to come).
    let last = json_ok(w.get(
        &format!("/programmes/{PROGRAMME}/changes?since=last_meeting"),
        Some(&w.admin),
    ));
    assert_eq!(last["since"], "2025-05-15");
    assert!(last["meeting_id"].is_string());
    assert_eq!(last["items"], got["items"]);

    // Since before the first report: every item with a report, and the two date changes.
    let all = json_ok(w.get(
        &format!("/programmes/{PROGRAMME}/changes?since=2025-01-01"),
        Some(&w.admin),
    ));
    assert_eq!(
        numbers(&all["items"]),
        vec!["1.1", "1.2", "2.1", "2.2", "3.1", "3.2"]
    );

    for bad in ["yesterday", "2025-13-01", "15.05.2025", ""] {
        field_error(
            w.get(
                &format!("/programmes/{PROGRAMME}/changes?since={bad}"),
                Some(&w.admin),
            ),
            "since",
        );
    }
    field_error(
        w.get(&format!("/programmes/{PROGRAMME}/changes"), Some(&w.admin)),
        "since",
    );
    // No meeting held yet at all (the clock before the third meeting).
    w.set_today(d(2025, 5, 10));
    field_error(
        w.get(
            &format!("/programmes/{PROGRAMME}/changes?since=last_meeting"),
            Some(&w.admin),
        ),
        "since",
    );
}

#[test]
fn a_snapshot_stays_as_taken_while_the_live_status_moves_on() {
    let mut w = World::new();
    scenario(&mut w);
    let known = w.posted.len();
    w.set_today(d(2025, 5, 20));
    let secretariat = w.s.token("secretariat");
    let live_rollup = w.rollup("");
    let live_table = json_ok(w.get(
        &format!("/programmes/{PROGRAMME}/implementation-table?format=json"),
        Some(&w.admin),
    ));
    let meetings = json_ok(w.get("/bodies/kz-ru-sc/meetings", Some(&w.admin)));
    let third = meetings["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["number"] == 3)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = w.post(
        &format!("/programmes/{PROGRAMME}/snapshots"),
        Some(&secretariat),
        Some(json!({"meeting_id": third, "label": "For the 4th meeting"})),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let info: Value = res.json().unwrap();
    assert_eq!(
        location,
        format!("/api/v1/snapshots/{}", info["id"].as_str().unwrap())
    );
    assert_eq!(info["as_of"], "2025-05-20");
    assert_eq!(info["taken_by"], "user:secretariat");
    let id = info["id"].as_str().unwrap().to_string();

    later_round(&mut w);
    w.set_today(d(2025, 8, 1));
    let frozen = json_ok(w.get(&format!("/snapshots/{id}"), Some(&w.admin)));
    assert_eq!(frozen["rollup"], live_rollup);
    assert_eq!(frozen["implementation_table"], live_table);
    assert_eq!(frozen["label"], "For the 4th meeting");
    assert_eq!(frozen["meeting_id"], third.as_str());
    // The live ones moved on.
    let now = w.rollup("");
    assert_ne!(now["totals"], frozen["rollup"]["totals"]);
    assert_rollup(
        &frozen["rollup"],
        &model(&w.posted[..known], None, d(2025, 5, 20)),
        "snapshot",
    );
    assert_rollup(&now, &model(&w.posted, None, d(2025, 8, 1)), "live");
    // The frozen table shows 1.1 as it stood: KZ substantial with its narrative and evidence.
    let row = |t: &Value, n: &str| {
        t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["number"] == n)
            .unwrap()
            .clone()
    };
    let kz = row(&frozen["implementation_table"], "1.1")["status"][0].clone();
    assert_eq!(
        (kz["party"].as_str(), kz["completion"].as_str()),
        (Some("KZ"), Some("substantial"))
    );
    assert_eq!(kz["narrative"]["en"], "1.1 KZ 2025-04-20");
    assert_eq!(kz["evidence"][0]["description"], "letter 2025-04-20");
    let live_table = json_ok(w.get(
        &format!("/programmes/{PROGRAMME}/implementation-table?format=json"),
        Some(&w.admin),
    ));
    assert_eq!(
        row(&live_table, "1.1")["status"][0]["completion"],
        "complete"
    );

    // A snapshot as of a past date; and listed in order.
    let res = w.post(
        &format!("/programmes/{PROGRAMME}/snapshots"),
        Some(&w.admin),
        Some(json!({"as_of": "2025-03-10"})),
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let past: Value = res.json().unwrap();
    let past = json_ok(w.get(
        &format!("/snapshots/{}", past["id"].as_str().unwrap()),
        Some(&w.admin),
    ));
    assert_rollup(
        &past["rollup"],
        &model(&w.posted, Some(d(2025, 3, 10)), d(2025, 8, 1)),
        "past snapshot",
    );
    let res = w.post(
        &format!("/programmes/{PROGRAMME}/snapshots"),
        Some(&w.admin),
        None,
    );
    assert_eq!(res.status(), StatusCode::CREATED);
    let list = json_ok(w.get(
        &format!("/programmes/{PROGRAMME}/snapshots"),
        Some(&w.admin),
    ));
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["id"], id.as_str());
    assert!(list[0].get("rollup").is_none(), "lists carry no contents");

    // Immutable: no route changes or deletes one.
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ] {
        let res =
            w.s.client
                .request(
                    method.clone(),
                    w.s.server.url(&format!("/api/v1/snapshots/{id}")),
                )
                .bearer_auth(&w.admin)
                .send()
                .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    // The database itself refuses to change or delete one.
    {
        use diesel::RunQueryDsl;
        let pool = w.s.db.pool();
        let mut conn = pool.get().unwrap();
        for sql in [
            "UPDATE snapshots SET label = 'changed'",
            "DELETE FROM snapshots",
        ] {
            let refused = diesel::sql_query(sql).execute(&mut *conn);
            assert!(refused.is_err(), "{sql} was allowed");
        }
    }
    // Audited.
    let audit = json_ok(w.get(
        &format!("/audit?entity=snapshot&entity_id={id}"),
        Some(&w.admin),
    ));
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["action"], "create");
    assert_eq!(entries[0]["actor"], "user:secretariat");

    // Bad input names the field.
    let path = format!("/programmes/{PROGRAMME}/snapshots");
    field_error(
        w.post(&path, Some(&w.admin), Some(json!({"as_of": "2025-02-30"}))),
        "as_of",
    );
    field_error(
        w.post(
            &path,
            Some(&w.admin),
            Some(json!({"label": "x".repeat(201)})),
        ),
        "label",
    );
    let other = meetings_of(&w, "kz-ru-igc");
    field_error(
        w.post(&path, Some(&w.admin), Some(json!({"meeting_id": other}))),
        "meeting_id",
    );
    let (status, _) = problem(w.post(&path, Some(&w.admin), Some(json!({"colour": "red"}))));
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn meetings_of(w: &World, body: &str) -> String {
    let page = json_ok(w.get(&format!("/bodies/{body}/meetings"), Some(&w.admin)));
    page["items"][0]["id"].as_str().unwrap().to_string()
}

#[test]
fn who_may_read_and_take_snapshots() {
    let w = World::new();
    let path = format!("/programmes/{PROGRAMME}/snapshots");
    let mut taken = None;
    for (user, want) in [
        ("viewer", StatusCode::FORBIDDEN),
        ("kz-editor", StatusCode::FORBIDDEN),
        ("other-secretariat", StatusCode::FORBIDDEN),
        ("secretariat", StatusCode::CREATED),
        ("admin", StatusCode::CREATED),
    ] {
        let token = w.s.token(user);
        let res = w.post(&path, Some(&token), None);
        assert_eq!(res.status(), want, "{user}");
        if want == StatusCode::CREATED {
            taken = Some(
                res.json::<Value>().unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        } else {
            assert_eq!(problem(res).0, want);
        }
    }
    assert_eq!(w.post(&path, None, None).status(), StatusCode::UNAUTHORIZED);
    let taken = taken.unwrap();

    // A private programme: anonymous callers get 401 everywhere; any signed-in user reads.
    let viewer = w.s.token("viewer");
    for p in [
        format!("/programmes/{PROGRAMME}/rollup"),
        format!("/programmes/{PROGRAMME}/changes?since=2025-01-01"),
        format!("/programmes/{PROGRAMME}/snapshots"),
        format!("/snapshots/{taken}"),
    ] {
        assert_eq!(problem(w.get(&p, None)).0, StatusCode::UNAUTHORIZED, "{p}");
        assert_eq!(w.get(&p, Some(&viewer)).status(), StatusCode::OK, "{p}");
    }
    // A public programme is read without a token.
    let public = json_ok(w.get("/programmes/kz-ru-public/rollup", None));
    assert_eq!(public["totals"]["obligations"], 1);
    assert_eq!(
        json_ok(w.get("/programmes/kz-ru-public/snapshots", None)),
        json!([])
    );
    // Unknown ones.
    assert_eq!(
        problem(w.get("/programmes/no-such-programme/rollup", Some(&viewer))).0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        problem(w.get("/snapshots/no-such", Some(&viewer))).0,
        StatusCode::NOT_FOUND
    );
    for bad in ["2025-13-01", "tomorrow", "1899-12-31"] {
        field_error(
            w.get(
                &format!("/programmes/{PROGRAMME}/rollup?as_of={bad}"),
                Some(&viewer),
            ),
            "as_of",
        );
    }
}

#[test]
fn the_openapi_document_describes_these_routes_with_resolvable_schemas() {
    let w = World::new();
    let doc = json_ok(w.get("/openapi.json", None));
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
    for (path, methods) in [
        ("/api/v1/programmes/{id}/rollup", vec!["get"]),
        ("/api/v1/meetings/{id}/rollup", vec!["get"]),
        ("/api/v1/programmes/{id}/changes", vec!["get"]),
        ("/api/v1/programmes/{id}/snapshots", vec!["get", "post"]),
        ("/api/v1/snapshots/{id}", vec!["get"]),
    ] {
        for method in methods {
            let op = &doc["paths"][path][method];
            assert!(op.is_object(), "{method} {path} is not documented");
            refs(op, &mut seen);
        }
    }
    let rollup = &doc["paths"]["/api/v1/programmes/{id}/rollup"]["get"]["description"];
    assert!(rollup
        .as_str()
        .unwrap()
        .contains("per (obligation, responsible party) pair"));
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
    assert!(seen.iter().any(|r| r.ends_with("/Rollup")), "{seen:?}");
}

#[test]
fn a_programme_with_snapshots_cannot_be_deleted() {
    let w = World::new();
    let res = w.post(
        "/programmes",
        Some(&w.admin),
        Some(json!({
            "key": "kz-ru-empty",
            "title": {"en": "An empty programme"},
            "body": "kz-ru-sc",
            "period": "2025-2026",
            "parties": ["KZ", "RU"],
            "public": false,
        })),
    );
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().unwrap());
    let res = w.post(
        "/programmes/kz-ru-empty/snapshots",
        Some(&w.admin),
        Some(json!({})),
    );
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().unwrap());
    let programme = json_ok(w.get("/programmes/kz-ru-empty", Some(&w.admin)));
    let res =
        w.s.client
            .delete(w.s.server.url(&format!(
                "/api/v1/programmes/{}",
                programme["id"].as_str().unwrap()
            )))
            .bearer_auth(&w.admin)
            .header("if-match", format!("\"{}\"", programme["version"]))
            .send()
            .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let problem: Value = res.json().unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("snapshot"),
        "{problem}"
    );
    // Still there, with its snapshot.
    assert_eq!(
        w.get("/programmes/kz-ru-empty", Some(&w.admin)).status(),
        StatusCode::OK
    );
    let listed = json_ok(w.get("/programmes/kz-ru-empty/snapshots", Some(&w.admin)));
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
}

#[test]
fn as_of_a_date_each_item_is_as_its_first_later_change_found_it() {
    // The store reads every item's later changes in one query (not one per
    // item): with two changes after a day, the first one's before-image is
    // the item on that day; an item changed once, and one never changed, beside it.
    let mut w = World::new();
    scenario(&mut w);
    let patch = |w: &World, n: &str, timeframe: &str| {
        let v = json_ok(w.get(&format!("/obligations/{}", w.ids[n]), Some(&w.admin)))["version"]
            .as_i64()
            .unwrap();
        let res = w.s.patch(
            &w.ids[n],
            Some(&w.admin),
            Some(v),
            json!({ "timeframe": timeframe }),
        );
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().unwrap());
    };
    w.set_today(d(2025, 6, 1));
    patch(&w, "1.2", "2026");
    patch(&w, "2.2", "IV quarter 2025");
    w.set_today(d(2025, 8, 1));
    patch(&w, "1.2", "2027");
    let table = |w: &World, q: &str| -> BTreeMap<String, Value> {
        let t = json_ok(w.get(
            &format!("/programmes/{PROGRAMME}/implementation-table?format=json{q}"),
            Some(&w.admin),
        ));
        t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["number"].as_str().unwrap().to_string(),
                    r["timeframe"].clone(),
                )
            })
            .collect()
    };
    let now = table(&w, "");
    let may = table(&w, "&as_of=2025-05-15");
    let july = table(&w, "&as_of=2025-07-01");
    assert_eq!(
        (&may["1.2"], &july["1.2"], &now["1.2"]),
        (&json!("2025"), &json!("2026"), &json!("2027"))
    );
    assert_ne!(may["2.2"], json!("IV quarter 2025"));
    assert_eq!(july["2.2"], json!("IV quarter 2025"));
    assert_eq!(now["2.2"], json!("IV quarter 2025"));
    for n in ["1.1", "2.1", "3.1", "3.2"] {
        assert_eq!((&may[n], &july[n]), (&now[n], &now[n]), "{n} never changed");
    }
}
