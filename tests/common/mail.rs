//! Emails read back by Python's standard `email` package
//! (scripts/mail-check/parse.py): headers decoded as a mail client shows
//! them, the raw header lines, the MIME tree and every part's decoded text.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::repo_path;

#[derive(Debug, Clone, Deserialize)]
pub struct ParsedEmail {
    /// Top-level headers in order: (name, value decoded as RFC 2047 says).
    pub headers: Vec<(String, String)>,
    /// Address headers (lower-cased name): the mailboxes found in each,
    /// (display name, address).
    pub addresses: BTreeMap<String, Vec<(String, String)>>,
    /// The physical lines of the top-level header block, as sent.
    pub header_lines: Vec<String>,
    /// Every part in walk order: (depth, content type).
    pub structure: Vec<(u32, String)>,
    /// The leaves of the MIME tree.
    pub parts: Vec<MailPart>,
    /// What the parser had to repair; empty for a well-formed email.
    pub defects: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MailPart {
    pub content_type: String,
    /// Content-Type parameters, names lower-cased.
    pub params: BTreeMap<String, String>,
    /// inline, attachment or none.
    pub disposition: Option<String>,
    pub filename: Option<String>,
    pub charset: Option<String>,
    pub transfer_encoding: Option<String>,
    /// Decoded text (text parts, and other parts that are UTF-8).
    pub text: Option<String>,
    pub base64: Option<String>,
}

impl ParsedEmail {
    /// The one header of this name (case-insensitive); fails if repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        let all = self.headers_named(name);
        assert!(all.len() <= 1, "{name} appears {} times", all.len());
        all.first().copied()
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Header names, lower-cased, in order.
    pub fn header_names(&self) -> Vec<String> {
        self.headers.iter().map(|(n, _)| n.to_lowercase()).collect()
    }

    /// The leaves of this content type, in order.
    pub fn parts_of(&self, content_type: &str) -> Vec<&MailPart> {
        self.parts
            .iter()
            .filter(|p| p.content_type == content_type)
            .collect()
    }

    /// The text of the one leaf of this content type.
    pub fn text_of(&self, content_type: &str) -> &str {
        let parts = self.parts_of(content_type);
        assert_eq!(parts.len(), 1, "{content_type} parts: {:?}", self.structure);
        parts[0].text.as_deref().unwrap_or_default()
    }
}

/// Parses `bytes` with Python's `email` package (policy.default).
pub fn parse_email(bytes: &[u8]) -> ParsedEmail {
    let mut child = Command::new(python())
        .arg(repo_path("scripts/mail-check/parse.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 did not start for scripts/mail-check/parse.py: {e}"));
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "parse.py failed: {}\n--- the email ---\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(bytes)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "parse.py printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Parses several emails in one Python process (cheaper than one each).
pub fn parse_emails(emails: &[Vec<u8>]) -> Vec<ParsedEmail> {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(python());
    command
        .arg(repo_path("scripts/mail-check/parse.py"))
        .arg("--list");
    for (i, bytes) in emails.iter().enumerate() {
        let path = dir.path().join(format!("{i}.eml"));
        std::fs::write(&path, bytes).unwrap();
        command.arg(path);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("python3 did not start for scripts/mail-check/parse.py: {e}"));
    assert!(
        output.status.success(),
        "parse.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed: Vec<ParsedEmail> = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "parse.py printed no JSON list ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    assert_eq!(parsed.len(), emails.len());
    parsed
}

/// The standard library is all parse.py needs: any Python 3 will do.
fn python() -> String {
    std::env::var("ACCORD_MAIL_PYTHON").unwrap_or_else(|_| "python3".to_string())
}
