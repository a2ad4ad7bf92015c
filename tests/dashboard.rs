//! The HTML dashboard through the real server on each backend: plain HTTP
//! checks of access, escaping, languages, sign-in and bad input, and a real
//! browser (Debian's headless chromium driven by playwright-core, installed by
//! scripts/browser-check/install) reading the pages a visitor sees, with a
//! screenshot of each page (ru and en) under target/screenshots/.
//!
//! The expected figures are computed here from the reports this test posts
//! (latest report per responsible party, scores 0-3, no evidence apart), not
//! by the production code, and compared with the roll-up API as well.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::api::*;
use common::*;
use reqwest::blocking::Client;
use reqwest::redirect::Policy;
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
      - {name: Aigerim Focal, email: focal@example.kz, language: kk, role: focal_point}
  - key: ru-mkrf
    party: RU
    kind: ministry
    name: {en: Ministry of Culture, ru: Министерство культуры}
    contacts:
      - {name: Ivan Petrov, email: petrov@example.ru, language: ru, role: focal_point}
bodies:
  - {key: kz-ru-igc, kind: commission, name: {en: Intergovernmental Commission}, parties: [KZ, RU]}
  - {key: kz-ru-sc, kind: sub_commission, parent: kz-ru-igc, name: {en: Sub-Commission}, parties: [KZ, RU]}
programmes:
  - key: kz-ru-open
    title: {en: Open programme 2024-2026, ru: Открытая программа 2024-2026}
    body: kz-ru-sc
    period: "2024-2026"
    parties: [KZ, RU]
    public: true
    sections:
      - code: theatre
        title: {en: Theatre, ru: Театр}
        obligations:
          - number: "1.1"
            text: {en: "<script>alert(1)</script> Tour & \"quotes\"", ru: "<script>alert(1)</script> Гастроли"}
            kind: tour
            timeframe: II quarter 2025
            assignments:
              - {organisation: kz-mci, role: sending}
              - {organisation: ru-mkrf, role: hosting}
          - number: "1.2"
            text: {en: Days of Culture, ru: Дни культуры}
            kind: days_of_culture
            timeframe: "2025"
            assignments:
              - {organisation: kz-mci, role: lead}
      - code: cinema
        title: {en: Cinema, ru: Кино}
        obligations:
          - number: "2.1"
            text: {en: Film week, ru: Неделя кино}
            kind: film_week
            timeframe: March 2025
            assignments:
              - {organisation: kz-mci, role: lead}
              - {organisation: ru-mkrf, role: co_executor}
          - number: "2.2"
            text: {en: Joint film, ru: Совместный фильм}
            kind: co_production
            timeframe: to be agreed
            assignments:
              - {organisation: ru-mkrf, role: lead}
  - key: kz-ru-closed
    title: {en: Closed programme of secrets}
    body: kz-ru-sc
    period: "2024-2026"
    parties: [KZ, RU]
    public: false
    sections:
      - code: misc
        title: {en: Misc}
        obligations:
          - {number: "1", text: {en: Secret item}, kind: other, timeframe: "2025-05-01", assignments: [{organisation: kz-mci, role: lead}]}
events:
  - key: tour-astana-2025
    title: {en: Tour in Astana, ru: Гастроли в Астане}
    kind: tour
    status: confirmed
    start: 2025-06-10T19:00
    end: 2025-06-10T21:30
    time_zone: Asia/Almaty
    host: KZ
    city: Astana
    organisers: [kz-mci]
    fulfils:
      - {programme: kz-ru-open, number: "1.1"}
"#;

/// (number, party, as_of, lifecycle, completion): what the parties report.
const REPORTS: [(&str, &str, &str, &str, &str); 5] = [
    ("1.1", "KZ", "2025-06-12", "completed", "complete"),
    ("1.1", "RU", "2025-05-20", "in_progress", "not_started"),
    ("1.1", "RU", "2025-06-15", "in_progress", "limited"),
    ("2.1", "KZ", "2025-03-20", "in_progress", "substantial"),
    ("2.2", "RU", "2025-04-01", "planned", "substantial"),
];

/// Responsible parties and due date (None: to be agreed) of the open programme's items.
fn items() -> Vec<(&'static str, Vec<&'static str>, Option<&'static str>)> {
    vec![
        ("1.1", vec!["KZ", "RU"], Some("2025-06-30")),
        ("1.2", vec!["KZ"], Some("2025-12-31")),
        ("2.1", vec!["KZ", "RU"], Some("2025-03-31")),
        ("2.2", vec!["RU"], None),
    ]
}

/// The test's own figures: (percent, overdue numbers, no-evidence pairs) on
/// `today` (2025-08-01, the fixed clock), from REPORTS.
fn expected() -> (f64, Vec<&'static str>, usize) {
    let today = "2025-08-01";
    let mut latest: BTreeMap<(&str, &str), (&str, &str)> = BTreeMap::new();
    for (number, party, as_of, lifecycle, completion) in REPORTS {
        // Reports are listed in date order per pair: the last one wins.
        let _ = as_of;
        latest.insert((number, party), (lifecycle, completion));
    }
    let score = |c: &str| match c {
        "not_started" => Some(0.0),
        "limited" => Some(1.0),
        "substantial" => Some(2.0),
        "complete" => Some(3.0),
        _ => None,
    };
    let (mut sum, mut scored, mut none) = (0.0, 0.0, 0);
    let mut overdue = Vec::new();
    for (number, parties, due) in items() {
        let mut all_completed = true;
        for p in &parties {
            match latest.get(&(number, *p)) {
                Some((lifecycle, completion)) => {
                    if let Some(s) = score(completion) {
                        sum += s;
                        scored += 1.0;
                    }
                    all_completed &= *lifecycle == "completed";
                }
                None => {
                    none += 1;
                    all_completed = false;
                }
            }
        }
        if due.is_some_and(|d| d < today) && !all_completed {
            overdue.push(number);
        }
    }
    (sum / (scored * 3.0) * 100.0, overdue, none)
}

struct World {
    s: Setup,
    public_id: String,
    private_id: String,
}

fn world() -> World {
    let s = Setup::with_fixture(FIXTURE);
    let admin = s.token("admin");
    let page: Value = s
        .get("/api/v1/obligations?programme=kz-ru-open", Some(&admin))
        .json()
        .unwrap();
    let ids: BTreeMap<String, String> = page["items"]
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
    for (number, party, as_of, lifecycle, completion) in REPORTS {
        let res = s.report(
            &ids[number],
            Some(&admin),
            json!({"party": party, "lifecycle": lifecycle, "completion": completion, "as_of": as_of,
                   "narrative": {"en": format!("<b>{number}</b> {party}")}}),
        );
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().unwrap());
    }
    let id_of = |key: &str| {
        let p: Value = s
            .get(&format!("/api/v1/programmes/{key}"), Some(&admin))
            .json()
            .unwrap();
        p["id"].as_str().unwrap().to_string()
    };
    let (public_id, private_id) = (id_of("kz-ru-open"), id_of("kz-ru-closed"));
    World {
        s,
        public_id,
        private_id,
    }
}

fn client() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

fn page(c: &Client, w: &World, path: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let mut req = c.get(w.s.server.url(path));
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let res = req.send().unwrap();
    let status = res.status();
    if status.is_success() || status == StatusCode::NOT_FOUND {
        assert_eq!(
            res.headers()["content-type"],
            "text/html; charset=utf-8",
            "{path}"
        );
    }
    (status, res.text().unwrap())
}

fn en_percent(p: f64) -> String {
    format!("{p:.1}%")
}

fn ru_percent(p: f64) -> String {
    format!("{} %", format!("{p:.1}").replace('.', ","))
}

#[test]
fn pages_show_the_figures_escape_text_and_hide_private_programmes() {
    let w = world();
    let c = client();
    let (percent, overdue, no_evidence) = expected();
    assert_eq!(overdue, vec!["1.1", "2.1"]);
    // The roll-up API agrees with the test's own count.
    let rollup: Value =
        w.s.get("/api/v1/programmes/kz-ru-open/rollup", None)
            .json()
            .unwrap();
    assert!((rollup["totals"]["completion_percent"].as_f64().unwrap() - percent).abs() < 1e-9);
    assert_eq!(rollup["totals"]["overdue"], overdue.len());
    assert_eq!(rollup["totals"]["no_evidence"], no_evidence);

    // Overview, anonymous: the public programme with its figures, not the private one.
    let (status, html) = page(&c, &w, "/dashboard?lang=en", None);
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Open programme 2024-2026"));
    assert!(!html.contains("Closed programme of secrets"));
    assert!(html.contains(&en_percent(percent)), "{html}");
    assert!(html.contains("Weighted completion"));

    // Programme page: percent, overdue count, and the item's title as text.
    let path = format!("/dashboard/programmes/{}?lang=en", w.public_id);
    let (status, html) = page(&c, &w, &path, None);
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("data-test=\"overdue\">{}</b>", overdue.len())));
    assert!(html.contains(&en_percent(percent)));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; Tour &amp; &quot;quotes&quot;"));
    assert!(!html.contains("<script>"), "no script element on the page");
    assert!(
        html.contains("&lt;b&gt;1.1&lt;/b&gt; KZ"),
        "narratives escaped"
    );
    // By key as well, in Russian with its decimal comma.
    let (status, html) = page(&c, &w, "/dashboard/programmes/kz-ru-open?lang=ru", None);
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&ru_percent(percent)));
    assert!(html.contains("Взвешенное выполнение"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; Гастроли"));

    // Filters: section, status=overdue, party.
    for (query, shown) in [
        ("section=cinema", 2),
        ("status=overdue", overdue.len()),
        ("party=RU", 3),
        ("organisation=kz-mci&status=completed", 0),
    ] {
        let (status, html) = page(
            &c,
            &w,
            &format!("/dashboard/programmes/{}?{query}", w.public_id),
            None,
        );
        assert_eq!(status, StatusCode::OK, "{query}");
        assert!(
            html.contains(&format!("data-test=\"rows-shown\">{shown}</span>")),
            "{query}"
        );
    }

    // The private programme: 404 to an anonymous visitor, by id and by key, like a missing one.
    for path in [
        format!("/dashboard/programmes/{}", w.private_id),
        "/dashboard/programmes/kz-ru-closed".to_string(),
        "/dashboard/programmes/no-such-programme".to_string(),
    ] {
        let (status, html) = page(&c, &w, &path, None);
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!html.contains("Secret item"));
    }
    // ... but shown to a bearer token.
    let viewer = w.s.token("viewer");
    let res = c
        .get(
            w.s.server
                .url(&format!("/dashboard/programmes/{}", w.private_id)),
        )
        .bearer_auth(&viewer)
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().unwrap().contains("Secret item"));

    // Overdue page: the public programme's overdue items with contacts; the private one hidden.
    let (_, html) = page(&c, &w, "/dashboard/overdue?lang=en", None);
    assert!(html.contains(&format!(
        "data-test=\"overdue-total\">{}</b>",
        overdue.len()
    )));
    assert!(html.contains("petrov@example.ru"));
    assert!(!html.contains("Secret item"));

    // Calendar: the event at its local time in its zone, the item's deadline on its day.
    let (status, html) = page(&c, &w, "/dashboard/calendar?month=2025-06&lang=en", None);
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("June 2025"));
    let cell = |date: &str| {
        let start = html.find(&format!("data-date=\"{date}\"")).unwrap();
        let end = html[start..].find("</td>").unwrap();
        html[start..start + end].to_string()
    };
    assert!(
        cell("2025-06-10").contains("19:00 Asia/Almaty"),
        "{}",
        cell("2025-06-10")
    );
    assert!(cell("2025-06-10").contains("Tour in Astana"));
    assert!(cell("2025-06-30").contains("1.1"), "{}", cell("2025-06-30"));
    assert!(cell("2025-06-30").contains("&lt;script&gt;"));
    // The private programme's deadline (2025-05-01) is not shown to an anonymous visitor.
    let (_, may) = page(&c, &w, "/dashboard/calendar?month=2025-05&lang=en", None);
    assert!(!may.contains("Secret item"));
}

#[test]
fn language_switch_is_remembered_and_bad_input_names_the_field() {
    let w = world();
    let c = client();
    let res = c.get(w.s.server.url("/dashboard?lang=kk")).send().unwrap();
    let set = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.starts_with("accord_lang=kk"), "{set}");
    assert!(set.contains("Path=/dashboard"));
    assert!(res.text().unwrap().contains("Бағдарламалар"));
    // The cookie alone keeps Kazakh; Accept-Language picks one when there is none.
    let (_, html) = page(&c, &w, "/dashboard/overdue", Some("accord_lang=kk"));
    assert!(html.contains("Мерзімі өткендер"));
    assert!(html.contains("lang=\"kk\""));
    let res = c
        .get(w.s.server.url("/dashboard"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .unwrap();
    assert!(res.text().unwrap().contains("Programmes"));
    let (_, html) = page(&c, &w, "/dashboard", None);
    assert!(html.contains("Программы"), "Russian by default");

    for (path, field) in [
        ("/dashboard?lang=de", "lang"),
        ("/dashboard/calendar?month=2025-13", "month"),
        ("/dashboard/calendar?month=June", "month"),
        ("/dashboard/programmes/kz-ru-open?as_of=2025-02-30", "as_of"),
        ("/dashboard/programmes/kz-ru-open?status=finished", "status"),
    ] {
        let (status, body) = problem(c.get(w.s.server.url(path)).send().unwrap());
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(body["errors"][0]["field"], field, "{path}: {body}");
    }
}

fn set_cookie(res: &reqwest::blocking::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with(&format!("{name}=")))
}

#[test]
fn sign_in_opens_a_session_sign_out_revokes_it_failures_are_throttled() {
    let w = world();
    let c = client();
    let post = |form: &[(&str, &str)], cookie: Option<&str>, path: &str| {
        let mut req = c.post(w.s.server.url(path)).form(form);
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req.send().unwrap()
    };
    let res = post(
        &[("username", "viewer"), ("password", "wrong password")],
        None,
        "/dashboard/login?lang=en",
    );
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&res, "accord_session").is_none());
    assert!(res.text().unwrap().contains("Wrong user name or password."));

    let res = post(
        &[("username", "viewer"), ("password", PASSWORD)],
        None,
        "/dashboard/login",
    );
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = set_cookie(&res, "accord_session").unwrap();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/dashboard"] {
        assert!(set.contains(part), "{set}");
    }
    let session = set.split(';').next().unwrap().to_string();
    let private = format!("/dashboard/programmes/{}?lang=en", w.private_id);
    let (status, html) = page(&c, &w, &private, Some(&session));
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Secret item"));
    assert!(html.contains("data-test=\"user\">viewer</b>"));
    let (_, html) = page(&c, &w, "/dashboard?lang=en", Some(&session));
    assert!(html.contains("Closed programme of secrets"));

    // The session is an ordinary token, labelled and revocable.
    let admin = w.s.token("admin");
    let audit: Value =
        w.s.get("/api/v1/audit?entity=api_token", Some(&admin))
            .json()
            .unwrap();
    assert!(audit.to_string().contains("dashboard session"), "{audit}");

    let res = post(&[], Some(&session), "/dashboard/logout");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let gone = set_cookie(&res, "accord_session").unwrap();
    assert!(gone.contains("Max-Age=0"), "{gone}");
    // The old cookie no longer opens anything.
    let (status, _) = page(&c, &w, &private, Some(&session));
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Failures are counted with the API's: after five, even the right password waits.
    for _ in 0..5 {
        let res = post(
            &[("username", "admin"), ("password", "nope")],
            None,
            "/dashboard/login",
        );
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = post(
        &[("username", "admin"), ("password", PASSWORD)],
        None,
        "/dashboard/login",
    );
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(&res, "accord_session").is_none());
}

/// The node script, run from where playwright-core is installed.
fn browser_check() -> Command {
    let dir = repo_path("target/browser-check/node");
    assert!(
        dir.join("node_modules/playwright-core").is_dir()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "run scripts/browser-check/install first"
    );
    let link = dir.join("dashboard.mjs");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(repo_path("tests/browser/dashboard.mjs"), &link).unwrap();
    let mut cmd = Command::new("node");
    cmd.arg("--preserve-symlinks-main").arg(link);
    cmd
}

#[test]
fn headless_chromium_sees_the_figures_the_languages_and_the_access_rules() {
    let w = world();
    let (percent, overdue, _) = expected();
    let backend = match std::env::var("ACCORD_TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => "postgres",
        _ => "sqlite",
    };
    let shots = repo_path(&format!("target/screenshots/{backend}"));
    let output = browser_check()
        .args([
            &w.s.server.base,
            &w.public_id,
            &w.private_id,
            "viewer",
            PASSWORD,
            shots.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "browser check failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
    let p = &seen["pages"];

    // No alert: the <script> title stayed text, and reads as such.
    assert_eq!(seen["dialogs"], json!([]));
    let items = p["programme-en"]["items"].as_array().unwrap();
    assert!(items
        .iter()
        .any(|t| t == "<script>alert(1)</script> Tour & \"quotes\""));
    assert!(p["programme-ru"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "<script>alert(1)</script> Гастроли"));

    // The figures, as the visitor reads them, in each language.
    assert_eq!(p["programme-en"]["percent"], en_percent(percent));
    assert_eq!(p["programme-ru"]["percent"], ru_percent(percent));
    let value: f64 = p["programme-en"]["percentValue"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((value - percent).abs() < 1e-3);
    assert_eq!(p["programme-en"]["overdue"], overdue.len().to_string());
    assert_eq!(p["programme-ru"]["overdue"], overdue.len().to_string());
    assert_eq!(p["overview-en"]["percent"], en_percent(percent));
    assert_eq!(p["overdue-en"]["overdueTotal"], overdue.len().to_string());

    // The switch changes the labels (and the document's language), and is remembered.
    assert_eq!(seen["switched"]["lang"], "en");
    assert_eq!(seen["switched"]["h1"], "Programmes");
    assert_eq!(p["overview-ru"]["h1"], "Программы");
    assert_eq!(p["overdue-remembered"]["lang"], "en");
    assert_eq!(p["overdue-remembered"]["h1"], "Overdue");
    assert_eq!(
        p["programme-ru"]["nav"],
        json!(["Программы", "Просроченные", "Календарь"])
    );
    assert_eq!(
        p["programme-en"]["nav"],
        json!(["Programmes", "Overdue", "Calendar"])
    );
    assert!(p["programme-en"]["h2"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h == "By section"));
    assert!(p["programme-ru"]["h2"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h == "По разделам"));
    assert_eq!(p["calendar-en"]["h1"], "June 2025");
    assert_eq!(p["calendar-ru"]["h1"], "Июнь 2025");
    assert!(p["calendar-en"]["body"]
        .as_str()
        .unwrap()
        .contains("19:00 Asia/Almaty Tour in Astana"));

    // The filter form narrows the table.
    assert_eq!(seen["filtered"]["numbers"], json!(overdue));
    assert!(seen["filtered"]["url"]
        .as_str()
        .unwrap()
        .contains("status=overdue"));

    // Access: anonymous sees the public programme, not the private one; signing in does.
    assert!(!p["overview-en"]["body"]
        .as_str()
        .unwrap()
        .contains("Closed programme"));
    assert_eq!(p["private-anonymous"]["status"], 404);
    assert_eq!(
        seen["session_cookie"],
        json!([{"httpOnly": true, "sameSite": "Lax", "path": "/dashboard"}])
    );
    assert_eq!(p["overview-signed-in"]["user"], "viewer");
    assert!(p["overview-signed-in"]["body"]
        .as_str()
        .unwrap()
        .contains("Closed programme of secrets"));
    assert_eq!(p["private-signed-in"]["status"], 200);
    assert_eq!(p["private-signed-in"]["h1"], "Closed programme of secrets");
    assert_eq!(p["private-signed-out"]["status"], 404);

    // A screenshot of each page in both languages.
    for name in ["overview", "programme", "overdue", "calendar", "login"] {
        for lang in ["ru", "en"] {
            let file = shots.join(format!("dashboard-{name}-{lang}.png"));
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            assert!(size > 5_000, "{} missing or empty", file.display());
        }
    }
}
