//! Reads an .ics with two independent, widely used parsers: Python's
//! `icalendar` with `recurring_ical_events`, and Mozilla's `ical.js` (the one
//! Thunderbird uses). Both are installed by `scripts/ics-check/install` into
//! target/ics-check (scripts/test runs it); missing, the test fails.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde::Deserialize;

/// What one parser understood of a calendar (scripts/ics-check/check.py and
/// check.mjs print it). Timed values are UTC instants `YYYY-MM-DDTHH:MM:SSZ`
/// computed by the parser from TZID and the file's VTIMEZONE; all-day values
/// are dates `YYYY-MM-DD`, ends exclusive as in the file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Parsed {
    /// "icalendar" or "ical.js", for messages; not printed by the scripts.
    #[serde(default)]
    pub parser: String,
    /// Every VEVENT as written, in file order.
    pub events: Vec<ParsedEvent>,
    /// The series expanded in the window, overrides and EXDATEs applied,
    /// sorted by start then uid.
    pub occurrences: Vec<ParsedOccurrence>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ParsedEvent {
    pub uid: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub status: Option<String>,
    pub sequence: Option<i64>,
    pub all_day: bool,
    pub start: String,
    pub end: Option<String>,
    pub recurrence_id: Option<String>,
    /// As the parser writes the rule back (key order may differ).
    pub rrule: Option<String>,
    pub exdates: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ParsedOccurrence {
    pub uid: String,
    pub start: String,
    pub end: Option<String>,
    pub status: Option<String>,
    pub summary: Option<String>,
}

impl Parsed {
    /// The VEVENT of `uid` that is not an override.
    pub fn event(&self, uid: &str) -> &ParsedEvent {
        self.events
            .iter()
            .find(|e| e.uid == uid && e.recurrence_id.is_none())
            .unwrap_or_else(|| panic!("{}: no event {uid} in {:#?}", self.parser, self.events))
    }

    /// The override of `uid` for the occurrence originally at `recurrence_id`.
    pub fn override_of(&self, uid: &str, recurrence_id: &str) -> &ParsedEvent {
        self.events
            .iter()
            .find(|e| e.uid == uid && e.recurrence_id.as_deref() == Some(recurrence_id))
            .unwrap_or_else(|| {
                panic!(
                    "{}: no override {uid} {recurrence_id} in {:#?}",
                    self.parser, self.events
                )
            })
    }

    /// The occurrences of one series (or single entry), in order.
    pub fn occurrences_of(&self, uid: &str) -> Vec<&ParsedOccurrence> {
        self.occurrences.iter().filter(|o| o.uid == uid).collect()
    }

    /// `(start, end)` of each occurrence of `uid`.
    pub fn times_of(&self, uid: &str) -> Vec<(String, Option<String>)> {
        self.occurrences_of(uid)
            .into_iter()
            .map(|o| (o.start.clone(), o.end.clone()))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parser {
    /// Python `icalendar` + `recurring_ical_events`.
    Icalendar,
    /// Mozilla's `ical.js`.
    IcalJs,
}

impl Parser {
    pub fn name(self) -> &'static str {
        match self {
            Parser::Icalendar => "icalendar",
            Parser::IcalJs => "ical.js",
        }
    }
}

fn ics_check_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ics-check")
}

fn tool(var: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or(default)
}

fn require(path: &Path, what: &str) {
    assert!(
        path.exists(),
        "{what} not found at {}: run scripts/ics-check/install",
        path.display()
    );
}

fn spawn(parser: Parser, file: &Path, from: &str, to: &str) -> Child {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = match parser {
        Parser::Icalendar => {
            let python = tool("ACCORD_ICS_PYTHON", ics_check_dir().join("venv/bin/python"));
            require(&python, "the Python of the icalendar venv");
            let mut c = Command::new(python);
            c.arg(manifest.join("scripts/ics-check/check.py"));
            c
        }
        Parser::IcalJs => {
            let node = tool("ACCORD_ICS_NODE", ics_check_dir().join("node/bin/node"));
            require(&node, "node");
            let dir = ics_check_dir().join("node");
            require(&dir.join("node_modules/ical.js"), "ical.js");
            require(&dir.join("check.mjs"), "check.mjs");
            let mut c = Command::new(node);
            // check.mjs here is a link to scripts/ics-check/check.mjs: keeping
            // the link's path makes `ical.js` resolve from this node_modules.
            c.arg("--preserve-symlinks-main").arg(dir.join("check.mjs"));
            c
        }
    };
    command
        .arg(file)
        .arg(from)
        .arg(to)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{} did not start ({e}): run scripts/ics-check/install",
                parser.name()
            )
        })
}

fn finish(parser: Parser, child: Child) -> Result<Parsed, String> {
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}): {stderr}",
            parser.name(),
            output.status
        ));
    }
    let mut parsed: Parsed = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "{} printed no JSON ({e}): {}\n{stderr}",
            parser.name(),
            String::from_utf8_lossy(&output.stdout)
        )
    })?;
    parsed.parser = parser.name().to_string();
    Ok(parsed)
}

fn write_temp(ics: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".ics").tempfile().unwrap();
    file.write_all(ics.as_bytes()).unwrap();
    file.flush().unwrap();
    file
}

/// Both parsers on `ics`, occurrences expanded in `[from, to)` (YYYY-MM-DD),
/// each answer or its error (exit status and stderr). The two run at once.
pub fn try_parse_with_both(ics: &str, from: &str, to: &str) -> [Result<Parsed, String>; 2] {
    let file = write_temp(ics);
    let python = spawn(Parser::Icalendar, file.path(), from, to);
    let node = spawn(Parser::IcalJs, file.path(), from, to);
    [
        finish(Parser::Icalendar, python),
        finish(Parser::IcalJs, node),
    ]
}

/// Python `icalendar`'s reading, then ical.js's; fails the test when either
/// parser rejects the file.
pub fn parse_with_both(ics: &str, from: &str, to: &str) -> [Parsed; 2] {
    try_parse_with_both(ics, from, to)
        .map(|result| result.unwrap_or_else(|e| panic!("{e}\n--- the calendar ---\n{ics}")))
}
