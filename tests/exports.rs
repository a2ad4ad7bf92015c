//! The implementation table as JSON, CSV and XLSX, through the real server
//! and `accord report` on each backend, read back by independent readers:
//! openpyxl for XLSX and Python's csv module (utf-8-sig) for CSV
//! (scripts/xlsx-check/install puts them in target/xlsx-check; scripts/test
//! runs it). The JSON table is the reference the files are compared with.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::api::*;
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A public programme with Cyrillic and Kazakh texts, an item whose text is
/// hostile to spreadsheets and HTML, and a private programme.
const PROGRAMMES: &str = r#"
organisations:
  - key: kz-theatre
    party: KZ
    kind: theatre
    name: {ru: "Театр «Астана Опера»", kk: "«Астана Опера» театры", en: Astana Opera}
programmes:
  - key: kz-ru-export
    title: {ru: "Программа сотрудничества 2025-2026", kk: "Ынтымақтастық бағдарламасы 2025-2026", en: "Cooperation programme 2025-2026"}
    agreement: kz-ru-1994
    body: kz-ru-sc
    period: "2025-2026"
    parties: [KZ, RU]
    public: true
    sections:
      - code: theatre
        title: {ru: Театр и музыка, kk: Театр және музыка, en: Theatre and music}
        obligations:
          - number: "1"
            text: {ru: "Гастроли театра в Москве", kk: "Қазақ өнерінің күндері: әншілер, ғалымдар, ұлттық үйлер, һ, іс-шаралар", en: "Theatre tour to Moscow"}
            kind: tour
            timeframe: II quarter 2025
            assignments:
              - {organisation: kz-theatre, role: sending}
              - {organisation: ru-mkrf, role: hosting}
          - number: "2"
            text:
              ru: "=HYPERLINK(\"http://evil.example\",\"click\"), <script>alert('x')</script>\n\"кавычки\", запятая"
              en: "=HYPERLINK(\"http://evil.example\",\"click\"), <script>alert('x')</script>\n\"quoted\", comma"
            kind: concert
            timeframe: "2025"
            assignments:
              - {organisation: kz-mci, role: lead}
      - code: libraries
        title: {ru: Библиотеки, kk: Кітапханалар, en: Libraries}
        obligations:
          - number: "3"
            text: {ru: Обмен литературой, kk: Әдебиет алмасу, en: Exchange of literature}
            kind: information_exchange
            timeframe: "2026"
            assignments:
              - {organisation: ru-mkrf, role: lead}
              - {organisation: kz-mci, role: co_executor}
          - number: "4"
            text: {ru: "+7 (7172) 00-00-00 @каталог -план", en: "+7 (7172) 00-00-00 @catalogue -plan"}
            kind: publication
            firmness: to_be_agreed
            timeframe: to be agreed
  - key: kz-ru-closed
    title: {ru: Закрытая программа, en: Closed programme}
    agreement: kz-ru-1994
    body: kz-ru-sc
    period: "2025"
    parties: [KZ, RU]
    sections:
      - code: misc
        title: {en: Miscellaneous}
        obligations:
          - number: "1"
            text: {en: A confidential item}
            kind: other
            timeframe: "2025"
            assignments:
              - {organisation: kz-mci, role: lead}
"#;

const KK_TEXT: &str = "Қазақ өнерінің күндері: әншілер, ғалымдар, ұлттық үйлер, һ, іс-шаралар";
const RU_NARRATIVE: &str = "=SUM(A1:A9) \"почти\", готово\nвторая строка";
const KAZAKH_LETTERS: [char; 9] = ['ә', 'ғ', 'қ', 'ң', 'ө', 'ұ', 'ү', 'һ', 'і'];
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// Columns before the per-party ones: number, text, section, timeframe,
/// responsible, lifecycle, overdue; then per party completion, as of,
/// narrative, evidence.
const FIXED_COLUMNS: usize = 7;
const PER_PARTY: usize = 4;

struct Env {
    s: Setup,
    admin: String,
}

impl Env {
    /// The fixture programmes, and status reports posted through the API (the
    /// server's clock says 2025-08-01, so they are all filed on that day).
    fn new() -> Env {
        let s = Setup::new();
        let pool = s.db.pool();
        let mut conn = pool.get().unwrap();
        accord::import::import_str(&mut conn, PROGRAMMES, &write_context("test")).unwrap();
        drop(conn);
        let admin = s.token("admin");
        let env = Env { s, admin };
        env.report(
            "1",
            json!({
                "party": "KZ", "lifecycle": "completed", "completion": "complete", "as_of": "2025-06-20",
                "narrative": {"ru": "Проведено в Москве, «с успехом»", "kk": "Мәскеуде өтті: әғқңөұүһі", "en": "Held in Moscow"},
                "evidence": [{"kind": "press_release", "description": "Пресс-релиз", "url": "https://example.org/news/1"}]
            }),
        );
        env.report(
            "1",
            json!({"party": "RU", "lifecycle": "in_progress", "completion": "substantial", "as_of": "2025-07-10",
                   "narrative": {"ru": RU_NARRATIVE}}),
        );
        env.report(
            "3",
            json!({"party": "RU", "lifecycle": "in_progress", "completion": "limited", "as_of": "2025-07-15"}),
        );
        env
    }

    fn obligation_id(&self, number: &str) -> String {
        let page: Value = self
            .s
            .get("/api/v1/obligations?programme=kz-ru-export", None)
            .json()
            .unwrap();
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["number"] == number)
            .unwrap_or_else(|| panic!("no item {number}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn report(&self, number: &str, body: Value) {
        let res = self
            .s
            .report(&self.obligation_id(number), Some(&self.admin), body);
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().unwrap());
    }

    /// GET with an optional token and extra headers; the response checked for `want`.
    fn fetch(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> reqwest::blocking::Response {
        let mut req = self.s.client.get(self.s.server.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().unwrap()
    }

    /// The body of a 200 answer of this content type, with its Content-Disposition.
    fn file(&self, path: &str, content_type: &str) -> (Vec<u8>, Option<String>) {
        let res = self.fetch(path, None, &[]);
        let url = res.url().to_string();
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{url}: {:?}",
            res.headers()["content-type"]
        );
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let disposition = res
            .headers()
            .get("content-disposition")
            .map(|v| v.to_str().unwrap().to_string());
        (res.bytes().unwrap().to_vec(), disposition)
    }

    fn json(&self, path: &str) -> Value {
        let (bytes, _) = self.file(path, "application/json");
        serde_json::from_slice(&bytes).unwrap()
    }
}

/// What openpyxl (`xlsx`) or Python's csv module (`csv`) read in `bytes`.
fn read_back(kind: &str, bytes: &[u8]) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("target/xlsx-check/venv/bin/python");
    assert!(
        python.exists(),
        "{} not found: run scripts/xlsx-check/install",
        python.display()
    );
    let file = tempfile::Builder::new()
        .suffix(&format!(".{kind}"))
        .tempfile()
        .unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    let out = Command::new(python)
        .arg(root.join("scripts/xlsx-check/read.py"))
        .arg(kind)
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "read.py {kind}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Rows of strings: what openpyxl read, with empty cells as "" and numbers as text.
fn strings(rows: &Value) -> Vec<Vec<String>> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|cell| match cell {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// A CSV field as the text it guards: the leading `'` before = + - @ dropped.
fn unguard(field: &str) -> String {
    match field.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_string(),
        _ => field.to_string(),
    }
}

/// A multilingual text as the table shows it in `lang`: that language, else
/// Russian, else English (computed here from the JSON, not by accord).
fn shown(text: &Value, lang: &str) -> String {
    [lang, "ru", "en"]
        .iter()
        .find_map(|l| text.get(*l).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string()
}

/// Checks the main sheet's rows (header first) against the JSON table, cell
/// by cell where the JSON says what a cell holds.
fn check_rows(rows: &[Vec<String>], table: &Value, lang: &str) {
    let items = table["rows"].as_array().unwrap();
    let parties = table["parties"].as_array().unwrap();
    let width = FIXED_COLUMNS + PER_PARTY * parties.len();
    assert_eq!(rows.len(), items.len() + 1, "{rows:#?}");
    assert_eq!(rows[0].len(), width, "header {:?}", rows[0]);
    for (row, item) in rows[1..].iter().zip(items) {
        let number = item["number"].as_str().unwrap();
        assert_eq!(row.len(), width, "row {number}");
        assert_eq!(row[0], number);
        assert_eq!(row[1], shown(&item["text"], lang), "text of {number}");
        assert_eq!(row[2], shown(&item["section"], lang), "section of {number}");
        assert_eq!(row[3], item["timeframe"].as_str().unwrap());
        for responsible in item["responsible"].as_array().unwrap() {
            for organisation in responsible["organisations"].as_array().unwrap() {
                assert!(
                    row[4].contains(&shown(organisation, lang)),
                    "responsible of {number}: {}",
                    row[4]
                );
            }
        }
        assert_eq!(row[6].is_empty(), !item["overdue"].as_bool().unwrap());
        for (p, party) in parties.iter().enumerate() {
            let status = item["status"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["party"] == *party)
                .unwrap();
            let cells = &row[FIXED_COLUMNS + PER_PARTY * p..][..PER_PARTY];
            assert!(!cells[0].is_empty(), "completion of {number} {party}");
            assert_eq!(cells[1], status["as_of"].as_str().unwrap_or_default());
            let narrative = match &status["narrative"] {
                Value::Null => String::new(),
                text @ Value::Object(_) => shown(text, lang),
                Value::String(s) => s.clone(),
                other => panic!("narrative {other}"),
            };
            assert_eq!(cells[2], narrative, "narrative of {number} {party}");
            for evidence in status["evidence"].as_array().unwrap() {
                if let Some(url) = evidence["url"].as_str() {
                    assert!(cells[3].contains(url), "evidence of {number}: {}", cells[3]);
                }
            }
        }
    }
}

/// The hostile text of item 2 in `lang`, as posted.
fn hostile(table: &Value, lang: &str) -> String {
    let item = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["number"] == "2")
        .unwrap();
    shown(&item["text"], lang)
}

#[test]
fn xlsx_and_csv_read_back_as_the_json_table() {
    let env = Env::new();
    let base = "/api/v1/programmes/kz-ru-export/implementation-table";
    let table = env.json(&format!("{base}?format=json"));
    assert_eq!(table["programme_key"], "kz-ru-export");
    assert_eq!(table["as_of"], "2025-08-01");
    assert_eq!(table["parties"], json!(["KZ", "RU"]));
    assert_eq!(table["rows"].as_array().unwrap().len(), 4);
    for lang in ["ru", "kk", "en"] {
        // XLSX through openpyxl.
        let (xlsx, disposition) = env.file(&format!("{base}?format=xlsx&lang={lang}"), XLSX);
        assert_eq!(
            disposition.as_deref(),
            Some(
                format!(
                    "attachment; filename=\"kz-ru-export-implementation-table-2025-08-01-{lang}.xlsx\""
                )
                .as_str()
            )
        );
        let book = read_back("xlsx", &xlsx);
        let sheets = book["sheets"].as_array().unwrap();
        assert_eq!(sheets.len(), 2, "main and summary sheets");
        let main = &sheets[0];
        let xlsx_rows = strings(&main["rows"]);
        check_rows(&xlsx_rows, &table, lang);
        let last_column = (b'A' + (xlsx_rows[0].len() - 1) as u8) as char;
        assert_eq!(main["freeze_panes"], "A2");
        assert_eq!(
            main["auto_filter"],
            format!("A1:{last_column}{}", xlsx_rows.len())
        );
        assert_eq!(main["header_bold"], true);
        assert!(main["header_fill"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f != "00000000"));
        assert_eq!(main["print_title_rows"], "$1:$1");
        assert!(main["widths"]["B"].as_f64().unwrap() > main["widths"]["A"].as_f64().unwrap());
        // The dates of the reports are dates, not text.
        let kz_as_of = FIXED_COLUMNS + 1;
        assert_eq!(main["types"][1][kz_as_of], "d", "{:?}", main["types"][1]);
        assert_eq!(xlsx_rows[1][kz_as_of], "2025-06-20");
        // The hostile text is text, exactly as posted: not a formula.
        let hostile_row = 2;
        assert_eq!(xlsx_rows[hostile_row][1], hostile(&table, lang));
        assert_eq!(main["types"][hostile_row][1], "s");
        assert!(main["types"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap())
            .all(|t| t != "f"));
        // The summary: the roll-up totals of the same table.
        let summary = &sheets[1];
        let summary_rows = summary["rows"].as_array().unwrap();
        let totals = &table["totals"];
        let value_of = |n: &Value| summary_rows.iter().skip(1).any(|r| r[1] == *n);
        assert!(value_of(&totals["obligations"]), "{summary_rows:?}");
        assert!(value_of(&totals["pairs"]), "{summary_rows:?}");
        assert!(value_of(&totals["no_evidence"]), "{summary_rows:?}");
        let percent = totals["completion_percent"].as_f64().unwrap();
        let percent_row = summary["formats"]
            .as_array()
            .unwrap()
            .iter()
            .position(|f| f[1] == "0.0%")
            .expect("a percentage cell");
        let shown_share = summary_rows[percent_row][1].as_f64().unwrap();
        assert!(
            (shown_share - percent / 100.0).abs() < 1e-9,
            "{shown_share} vs {percent}"
        );
        assert_eq!(summary["freeze_panes"], "A2");

        // CSV through Python's csv module, as utf-8-sig.
        let (csv, disposition) = env.file(&format!("{base}?format=csv&lang={lang}"), "text/csv");
        assert!(disposition.unwrap().ends_with(&format!("-{lang}.csv\"")));
        assert!(csv.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
        assert!(csv.windows(2).any(|w| w == b"\r\n"), "CRLF");
        let read = read_back("csv", &csv);
        assert_eq!(read["bom"], true);
        let csv_rows: Vec<Vec<String>> = strings(&read["rows"]);
        // The formula-like text comes with its guard, and only that.
        assert_eq!(csv_rows[2][1], format!("'{}", hostile(&table, lang)));
        assert!(csv_rows[4][1].starts_with("'+7"), "{}", csv_rows[4][1]);
        let unguarded: Vec<Vec<String>> = csv_rows
            .iter()
            .map(|r| r.iter().map(|f| unguard(f)).collect())
            .collect();
        check_rows(&unguarded, &table, lang);
        // The same rows as the XLSX.
        assert_eq!(unguarded, xlsx_rows, "CSV and XLSX of {lang}");
        // Texts and narratives as posted, in the language asked for (else Russian).
        let (text, kz_narrative) = match lang {
            "kk" => (KK_TEXT, "Мәскеуде өтті: әғқңөұүһі"),
            "ru" => (
                "Гастроли театра в Москве",
                "Проведено в Москве, «с успехом»",
            ),
            _ => ("Theatre tour to Moscow", "Held in Moscow"),
        };
        let kz = FIXED_COLUMNS;
        let ru = FIXED_COLUMNS + PER_PARTY;
        for rows in [&csv_rows, &xlsx_rows] {
            assert_eq!(rows[1][1], text);
            assert_eq!(rows[1][kz + 2], kz_narrative, "KZ narrative in {lang}");
            assert_eq!(rows[1][ru + 1], "2025-07-10");
        }
        assert_eq!(csv_rows[1][ru + 2], format!("'{RU_NARRATIVE}"));
        assert_eq!(xlsx_rows[1][ru + 2], RU_NARRATIVE);
        if lang == "kk" {
            for letter in KAZAKH_LETTERS {
                assert!(
                    csv_rows[1][1].contains(letter),
                    "{letter} read back by Python"
                );
                assert!(
                    csv_rows[1][kz + 2].contains(letter),
                    "{letter} read back by Python"
                );
            }
        }
    }
}

#[test]
fn format_lang_and_as_of_by_parameters_and_headers() {
    let env = Env::new();
    let base = "/api/v1/programmes/kz-ru-export/implementation-table";
    // Accept decides without format=; Accept-Language without lang=.
    let res = env.fetch(
        base,
        None,
        &[("accept", "text/csv"), ("accept-language", "kk")],
    );
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let by_headers = res.bytes().unwrap();
    let (by_params, _) = env.file(&format!("{base}?format=csv&lang=kk"), "text/csv");
    assert_eq!(by_headers.as_ref(), by_params.as_slice());
    let res = env.fetch(
        base,
        None,
        &[("accept", &format!("text/csv;q=0.5, {XLSX}"))],
    );
    assert_eq!(res.headers()["content-type"], XLSX);
    let res = env.fetch(base, None, &[("accept", "text/html")]);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    // format= wins over Accept.
    let res = env.fetch(
        &format!("{base}?format=json"),
        None,
        &[("accept", "text/csv")],
    );
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));

    // As of the day before the reports were filed: none of them shows, in
    // the JSON, the CSV and the XLSX alike.
    let before = env.json(&format!("{base}?as_of=2025-07-31"));
    assert_eq!(before["as_of"], "2025-07-31");
    for row in before["rows"].as_array().unwrap() {
        for status in row["status"].as_array().unwrap() {
            assert_eq!(status["completion"], "no_evidence", "{row}");
            assert_eq!(status["as_of"], Value::Null);
        }
    }
    let live = env.json(base);
    assert_ne!(before["rows"], live["rows"]);
    let (csv, disposition) = env.file(
        &format!("{base}?format=csv&as_of=2025-07-31&lang=en"),
        "text/csv",
    );
    assert_eq!(
        disposition.as_deref(),
        Some("attachment; filename=\"kz-ru-export-implementation-table-2025-07-31-en.csv\"")
    );
    let rows: Vec<Vec<String>> = strings(&read_back("csv", &csv)["rows"])
        .iter()
        .map(|r| r.iter().map(|f| unguard(f)).collect())
        .collect();
    check_rows(&rows, &before, "en");
    let (xlsx, _) = env.file(
        &format!("{base}?format=xlsx&as_of=2025-07-31&lang=en"),
        XLSX,
    );
    assert_eq!(
        strings(&read_back("xlsx", &xlsx)["sheets"][0]["rows"]),
        rows
    );

    // By id as well as by key.
    let by_id = env.json(&format!(
        "/api/v1/programmes/{}/implementation-table",
        live["programme_id"].as_str().unwrap()
    ));
    assert_eq!(by_id, live);
}

#[test]
fn bad_parameters_name_the_field_and_private_tables_need_a_token() {
    let env = Env::new();
    let base = "/api/v1/programmes/kz-ru-export/implementation-table";
    for (query, field) in [
        ("format=pdf", "format"),
        ("format=CSV", "format"),
        ("lang=uz", "lang"),
        ("lang=xx", "lang"),
        ("as_of=2025-13-01", "as_of"),
        ("as_of=01.07.2025", "as_of"),
        ("as_of=1800-01-01", "as_of"),
        ("format=csv&as_of=tomorrow", "as_of"),
    ] {
        let (status, body) = problem(env.fetch(&format!("{base}?{query}"), None, &[]));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    let (status, _) = problem(env.fetch(
        "/api/v1/programmes/no-such-programme/implementation-table",
        None,
        &[],
    ));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = problem(env.fetch(
        "/api/v1/snapshots/not-a-uuid/implementation-table",
        None,
        &[],
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "id");
    let (status, _) = problem(env.fetch(
        &format!(
            "/api/v1/snapshots/{}/implementation-table",
            uuid::Uuid::new_v4()
        ),
        None,
        &[],
    ));
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A programme that is not public: no token, no table, in any format.
    let closed = "/api/v1/programmes/kz-ru-closed/implementation-table";
    for format in ["json", "csv", "xlsx"] {
        let (status, _) = problem(env.fetch(&format!("{closed}?format={format}"), None, &[]));
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{format}");
    }
    let viewer = env.s.token("viewer");
    let res = env.fetch(&format!("{closed}?format=csv&lang=en"), Some(&viewer), &[]);
    assert_eq!(res.status(), StatusCode::OK);
    let rows = strings(&read_back("csv", &res.bytes().unwrap())["rows"]);
    assert_eq!(rows[1][1], "A confidential item");
}

#[test]
fn a_snapshot_exports_the_frozen_table_whatever_is_reported_later() {
    let env = Env::new();
    let res = env
        .s
        .client
        .post(
            env.s
                .server
                .url("/api/v1/programmes/kz-ru-export/snapshots"),
        )
        .bearer_auth(&env.admin)
        .json(&json!({"label": "4th meeting"}))
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let frozen = format!("/api/v1/snapshots/{id}/implementation-table");
    let live = "/api/v1/programmes/kz-ru-export/implementation-table";
    let table = env.json(&format!("{frozen}?format=json"));
    let stored: Value = env
        .s
        .get(&format!("/api/v1/snapshots/{id}"), None)
        .json()
        .unwrap();
    assert_eq!(table, stored["implementation_table"]);
    assert_eq!(table, env.json(live), "taken now, it is the live table");
    let (csv_before, disposition) = env.file(&format!("{frozen}?format=csv&lang=ru"), "text/csv");
    assert_eq!(
        disposition.as_deref(),
        Some(
            format!(
                "attachment; filename=\"kz-ru-export-snapshot-{}-2025-08-01-ru.csv\"",
                &id[..8]
            )
            .as_str()
        )
    );
    let (xlsx_before, _) = env.file(&format!("{frozen}?format=xlsx&lang=ru"), XLSX);
    let xlsx_rows = strings(&read_back("xlsx", &xlsx_before)["sheets"][0]["rows"]);
    check_rows(&xlsx_rows, &table, "ru");

    // Reported after the snapshot: the live table moves, the snapshot does not.
    env.report(
        "3",
        json!({"party": "RU", "lifecycle": "completed", "completion": "complete", "as_of": "2025-08-01",
               "narrative": {"ru": "Обмен состоялся"}}),
    );
    env.report(
        "2",
        json!({"party": "KZ", "lifecycle": "in_progress", "completion": "not_started", "as_of": "2025-08-01"}),
    );
    let moved = env.json(live);
    assert_ne!(moved["rows"], table["rows"]);
    assert_eq!(env.json(&format!("{frozen}?format=json")), table);
    let (csv_after, _) = env.file(&format!("{frozen}?format=csv&lang=ru"), "text/csv");
    assert_eq!(csv_after, csv_before, "the frozen CSV, byte for byte");
    let (xlsx_after, _) = env.file(&format!("{frozen}?format=xlsx&lang=ru"), XLSX);
    assert_eq!(
        strings(&read_back("xlsx", &xlsx_after)["sheets"][0]["rows"]),
        xlsx_rows
    );
    let (live_csv, _) = env.file(&format!("{live}?format=csv&lang=ru"), "text/csv");
    assert_ne!(live_csv, csv_before);
    let live_rows: Vec<Vec<String>> = strings(&read_back("csv", &live_csv)["rows"])
        .iter()
        .map(|r| r.iter().map(|f| unguard(f)).collect())
        .collect();
    check_rows(&live_rows, &moved, "ru");
}

/// `accord report` on the test database; (exit success, stdout, stderr).
fn cli(env: &Env, args: &[&str]) -> (bool, Vec<u8>, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_accord"))
        .arg("report")
        .args(args)
        .env("ACCORD__DATABASE__URL", &env.s.db.url)
        .env("ACCORD__LOG__LEVEL", "warn")
        .current_dir(dir.path())
        .output()
        .unwrap();
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_writes_what_the_api_serves() {
    let env = Env::new();
    let base = "/api/v1/programmes/kz-ru-export/implementation-table";
    for (format, lang, content_type) in [
        ("csv", "kk", "text/csv"),
        ("csv", "ru", "text/csv"),
        ("json", "en", "application/json"),
    ] {
        let (api, _) = env.file(
            &format!("{base}?format={format}&lang={lang}&as_of=2025-08-01"),
            content_type,
        );
        let (ok, stdout, stderr) = cli(
            &env,
            &[
                "kz-ru-export",
                "--format",
                format,
                "--lang",
                lang,
                "--as-of",
                "2025-08-01",
            ],
        );
        assert!(ok, "{stderr}");
        assert_eq!(stdout, api, "{format} {lang}: the same bytes");
    }
    // XLSX to a file: the same rows and sheets as the API's (the files differ
    // only in their creation time).
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("table.xlsx");
    let (ok, stdout, stderr) = cli(
        &env,
        &[
            "kz-ru-export",
            "--format",
            "xlsx",
            "--lang",
            "kk",
            "--as-of",
            "2025-08-01",
            "--output",
            path.to_str().unwrap(),
        ],
    );
    assert!(ok, "{stderr}");
    assert!(stdout.is_empty());
    let from_cli = read_back("xlsx", &std::fs::read(&path).unwrap());
    let (api, _) = env.file(
        &format!("{base}?format=xlsx&lang=kk&as_of=2025-08-01"),
        XLSX,
    );
    let from_api = read_back("xlsx", &api);
    assert_eq!(from_cli, from_api);
    let table = env.json(&format!("{base}?as_of=2025-08-01"));
    check_rows(&strings(&from_cli["sheets"][0]["rows"]), &table, "kk");
    // By id too; and an as-of date that leaves the reports out.
    let id = table["programme_id"].as_str().unwrap();
    let (ok, by_id, _) = cli(&env, &[id, "--format", "json", "--as-of", "2025-08-01"]);
    assert!(ok);
    assert_eq!(serde_json::from_slice::<Value>(&by_id).unwrap(), table);
    let (ok, before, _) = cli(
        &env,
        &["kz-ru-export", "--format", "json", "--as-of", "2025-07-31"],
    );
    assert!(ok);
    assert_eq!(
        serde_json::from_slice::<Value>(&before).unwrap(),
        env.json(&format!("{base}?as_of=2025-07-31"))
    );

    // Mistakes are refused, naming what is wrong.
    let (ok, _, stderr) = cli(&env, &["no-such-programme", "--format", "csv"]);
    assert!(!ok);
    assert!(stderr.contains("no-such-programme"), "{stderr}");
    for (args, named) in [
        (vec!["kz-ru-export", "--format", "pdf"], "--format"),
        (
            vec!["kz-ru-export", "--format", "csv", "--lang", "uz"],
            "--lang",
        ),
        (
            vec!["kz-ru-export", "--format", "csv", "--as-of", "2025-13-01"],
            "--as-of",
        ),
    ] {
        let (ok, _, stderr) = cli(&env, &args);
        assert!(!ok, "{args:?}");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
}
