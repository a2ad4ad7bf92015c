//! A real SMTP server for the tests, over TCP on loopback: aiosmtpd running
//! scripts/smtp-sink/server.py from target/smtp-sink/venv (installed by
//! scripts/smtp-sink/install, which scripts/test runs; missing, the test
//! fails). It stores each accepted message and can refuse on demand: 451 to
//! the next N commands, 550 to a recipient, or no connections at all.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use accord::config::{Settings, Sources};
use serde::Deserialize;

use super::{repo_path, TestDb};

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    /// The bytes received after DATA.
    pub raw: Vec<u8>,
    /// The Message-ID header as Python's `email` package read it, with its angle brackets.
    pub message_id: String,
    pub subject: String,
    /// The envelope (MAIL FROM, RCPT TO), not the headers.
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// Whether it came over TLS (STARTTLS or implicit).
    pub tls: bool,
    /// The user the client authenticated as (SMTP AUTH), if any.
    pub auth_user: Option<String>,
    /// The .eml file (for a MIME parser).
    pub path: PathBuf,
}

/// How the sink secures its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkTls {
    None,
    /// STARTTLS offered and required before MAIL.
    Starttls,
    /// TLS from the first byte.
    Implicit,
}

impl SinkTls {
    fn as_str(self) -> &'static str {
        match self {
            SinkTls::None => "none",
            SinkTls::Starttls => "starttls",
            SinkTls::Implicit => "implicit",
        }
    }
}

#[derive(Deserialize)]
struct Facts {
    message_id: String,
    subject: String,
    mail_from: String,
    rcpt_tos: Vec<String>,
    tls: bool,
    auth_user: Option<String>,
}

/// At which command a failure is answered.
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    Rcpt,
    Data,
}

struct Control {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

pub struct SmtpSink {
    pub port: u16,
    tls: SinkTls,
    /// USER:PASSWORD that MAIL requires.
    auth: Option<(String, String)>,
    dir: tempfile::TempDir,
    child: Child,
    control: Mutex<Control>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        SmtpSink::start_secured(SinkTls::None, None)
    }

    /// A sink with TLS (its own throwaway CA, see `ca_file`) and/or AUTH required.
    pub fn start_secured(tls: SinkTls, auth: Option<(&str, &str)>) -> SmtpSink {
        let python = repo_path("target/smtp-sink/venv/bin/python");
        assert!(
            python.exists(),
            "no SMTP test server: run scripts/smtp-sink/install (scripts/test does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(&python);
        command
            .arg(repo_path("scripts/smtp-sink/server.py"))
            .arg("--dir")
            .arg(dir.path().join("mail"))
            .arg("--tls")
            .arg(tls.as_str());
        if tls != SinkTls::None {
            command.arg("--ca-out").arg(dir.path().join("ca.pem"));
        }
        if let Some((user, password)) = auth {
            command.arg("--auth").arg(format!("{user}:{password}"));
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let port = first
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink said {first:?} instead of its port"));
        SmtpSink {
            port,
            tls,
            auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
            dir,
            child,
            control: Mutex::new(Control { stdin, stdout }),
        }
    }

    /// Sends one control command and waits for its answer.
    fn command(&self, line: &str) -> String {
        let mut control = self.control.lock().unwrap();
        writeln!(control.stdin, "{line}").unwrap();
        control.stdin.flush().unwrap();
        let mut answer = String::new();
        control.stdout.read_line(&mut answer).unwrap();
        assert!(answer.starts_with("ok"), "sink: {line} -> {answer:?}");
        answer.trim().to_string()
    }

    /// Answers `code` to the next `n` RCPT commands.
    pub fn fail_next(&self, n: u32, code: u16) {
        self.fail_next_at(n, code, Stage::Rcpt);
    }

    pub fn fail_next_at(&self, n: u32, code: u16, stage: Stage) {
        let stage = match stage {
            Stage::Rcpt => "rcpt",
            Stage::Data => "data",
        };
        self.command(&format!("fail_next {n} {code} {stage}"));
    }

    /// Answers 550 to every RCPT TO this address.
    pub fn reject_recipient(&self, address: &str) {
        self.reject_recipient_with(address, 550);
    }

    /// Answers `code` to every RCPT TO this address (a 4xx: a mailbox that
    /// is busy for ever).
    pub fn reject_recipient_with(&self, address: &str, code: u16) {
        self.command(&format!("reject {address} {code}"));
    }

    /// Waits this long after storing each message before saying so (250).
    pub fn delay(&self, seconds: f64) {
        self.command(&format!("delay {seconds}"));
    }

    /// Down: connections are refused and open ones dropped.
    pub fn stop(&self) {
        self.command("stop");
    }

    /// Up again, on the same port.
    pub fn restart(&self) {
        self.command("start");
    }

    /// Counters: `ok rcpt=N data=N stored=N refused=N`.
    pub fn stats(&self) -> String {
        self.command("stats")
    }

    /// Every message accepted so far, in the order accepted.
    pub fn received(&self) -> Vec<ReceivedMessage> {
        let mut facts: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("mail"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        facts.sort();
        facts
            .into_iter()
            .map(|json| {
                let f: Facts = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
                let path = json.with_extension("eml");
                ReceivedMessage {
                    raw: std::fs::read(&path).unwrap(),
                    message_id: f.message_id,
                    subject: f.subject,
                    mail_from: f.mail_from,
                    rcpt_tos: f.rcpt_tos,
                    tls: f.tls,
                    auth_user: f.auth_user,
                    path,
                }
            })
            .collect()
    }

    /// Waits (up to `deadline`) until at least `n` messages have arrived.
    pub fn wait_for(&self, n: usize, deadline: Duration) -> Vec<ReceivedMessage> {
        let until = Instant::now() + deadline;
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() > until {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The certificate of the sink's throwaway CA (with TLS), for `mail.smtp.ca_file`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The `[mail]` settings that send to this sink: its TLS mode, trusting its CA,
    /// with its credentials.
    pub fn mail_toml(&self) -> String {
        let mut toml = format!(
            "[mail]\ntransport = \"smtp\"\nfrom = \"accord <accord@test.example>\"\n\
             message_id_domain = \"test.example\"\n\
             [mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"{}\"\npool_max = 2\ntimeout_secs = 5\n",
            self.port,
            self.tls.as_str()
        );
        if self.tls != SinkTls::None {
            toml.push_str(&format!(
                "ca_file = {:?}\n",
                self.ca_file().display().to_string()
            ));
        }
        if let Some((user, password)) = &self.auth {
            toml.push_str(&format!("username = {user:?}\npassword = {password:?}\n"));
        }
        toml
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The TOML TestDb::settings writes, plus `extra` sections (`[mail]`,
/// `[worker]`, ...), as a file for `accord --config` and as Settings.
pub fn settings_toml(db: &TestDb, extra: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nworkers = 2\nshutdown_timeout_secs = 1\n\
         [database]\nurl = \"{}\"\npool_size = 4\n[log]\nlevel = \"warn\"\n{extra}",
        db.url
    )
}

pub fn settings_with(db: &TestDb, extra: &str) -> Settings {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("test.toml");
    std::fs::write(&file, settings_toml(db, extra)).unwrap();
    Settings::load(&Sources {
        profile: None,
        file: Some(file),
        base_dir: Some(dir.path().to_path_buf()),
    })
    .unwrap()
}
