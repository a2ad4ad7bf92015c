//! Typed settings: compiled-in defaults (config/default.toml), the same file
//! in the working directory, a profile file, then `ACCORD__SECTION__KEY`
//! environment variables. Unknown keys are rejected and values validated, so
//! a typo stops start-up with a message naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::Deserialize;

use crate::db::DatabaseUrl;

const DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub status: StatusSettings,
    pub mail: MailSettings,
    pub worker: WorkerSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: String,
    pub workers: usize,
    pub shutdown_timeout_secs: u64,
    pub max_body_bytes: usize,
    /// Base URL of links accord gives out (calendar feeds, emails); empty:
    /// taken from each request's Host.
    pub public_url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    pub connect_timeout_secs: u64,
    pub sqlite_busy_timeout_ms: u64,
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusSettings {
    pub due_soon_days: u32,
}

/// How notifications leave: through an SMTP server, or as .eml files in a
/// folder (the demo and development, with no mail server).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    pub transport: MailTransport,
    /// The sender: `accord@example.org` or `Accord <accord@example.org>`.
    pub from: String,
    /// The right-hand side of the Message-IDs fixed when rows are queued.
    pub message_id_domain: String,
    pub smtp: SmtpSettings,
    pub file: FileMailSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    Smtp,
    File,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// A PEM file of certificate authorities to trust besides the public ones
    /// (a ministry's own CA on its relay); only with `tls` starttls or implicit.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Credentials, both or neither.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Connections kept open to the server.
    pub pool_max: u32,
    /// Seconds to wait for the server at each step of a conversation.
    pub timeout_secs: u64,
}

// By hand: the password must not reach a log through `{:?}`.
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("ca_file", &self.ca_file)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("pool_max", &self.pool_max)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text: a relay on the same machine or network only.
    None,
    /// STARTTLS required (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMailSettings {
    /// The folder the file transport writes one .eml per message into.
    pub dir: PathBuf,
}

impl MailSettings {
    /// Values that parse but cannot work: (key, reason).
    fn problem(&self) -> Option<(&'static str, String)> {
        if let Err(e) = self.from.parse::<lettre::message::Mailbox>() {
            return Some((
                "mail.from",
                format!(
                    "= {:?} is not an address such as \"Accord <accord@example.org>\": {e}",
                    self.from
                ),
            ));
        }
        let domain = &self.message_id_domain;
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if domain.len() > 253 || !domain.split('.').all(label_ok) {
            return Some((
                "mail.message_id_domain",
                format!("= {domain:?} is not a domain name such as accord.example.org"),
            ));
        }
        let smtp = &self.smtp;
        if self.transport == MailTransport::Smtp {
            if smtp.host.trim().is_empty() {
                return Some(("mail.smtp.host", "is empty".into()));
            }
            if smtp.port == 0 {
                return Some(("mail.smtp.port", "= 0 is not a port".into()));
            }
        }
        if smtp.ca_file.is_some() && smtp.tls == SmtpTls::None {
            return Some((
                "mail.smtp.ca_file",
                "only applies with tls = \"starttls\" or \"implicit\"".into(),
            ));
        }
        if smtp.username.is_some() != smtp.password.is_some() {
            return Some((
                "mail.smtp.username",
                "and mail.smtp.password go together: give both or neither".into(),
            ));
        }
        if smtp.pool_max == 0 {
            return Some((
                "mail.smtp.pool_max",
                "= 0: the pool needs at least one connection".into(),
            ));
        }
        if smtp.timeout_secs == 0 {
            return Some((
                "mail.smtp.timeout_secs",
                "= 0: give at least 1 second".into(),
            ));
        }
        if self.transport == MailTransport::File && self.file.dir.as_os_str().is_empty() {
            return Some(("mail.file.dir", "is empty".into()));
        }
        None
    }
}

/// The outbox worker: how it claims, leases and retries notifications.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    /// Run the worker inside `accord serve` (`accord worker` runs it alone).
    pub enabled_in_serve: bool,
    /// Rows claimed per transaction.
    pub batch: u32,
    /// Seconds a claim protects one row while it is being sent; renewed
    /// before each send, so it must outlast one SMTP conversation.
    pub lease_secs: u64,
    /// Milliseconds between looks at the outbox when it has nothing due.
    pub poll_ms: u64,
    /// Attempts before a row is dead.
    pub max_attempts: u32,
    /// The first retry waits up to this long; each later one twice as long.
    pub backoff_base_secs: u64,
    /// No retry waits longer than this.
    pub backoff_max_secs: u64,
    /// Seconds between plannings of what is due (0: this worker only sends;
    /// `accord remind` or another worker plans).
    pub plan_every_secs: u64,
    /// Names this worker in `claimed_by`; default `<hostname>-<pid>-<random>`.
    #[serde(default)]
    pub id: Option<String>,
}

impl WorkerSettings {
    /// Values that parse but cannot work: (key, reason).
    fn problem(&self) -> Option<(&'static str, String)> {
        if !(1..=1000).contains(&self.batch) {
            return Some(("worker.batch", format!("= {} is not 1 to 1000", self.batch)));
        }
        if self.lease_secs == 0 {
            return Some(("worker.lease_secs", "= 0: give at least 1 second".into()));
        }
        if !(10..=3_600_000).contains(&self.poll_ms) {
            return Some((
                "worker.poll_ms",
                format!("= {} is not 10 to 3600000 milliseconds", self.poll_ms),
            ));
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Some((
                "worker.max_attempts",
                format!("= {} is not 1 to 100", self.max_attempts),
            ));
        }
        if self.backoff_base_secs == 0 {
            return Some((
                "worker.backoff_base_secs",
                "= 0: give at least 1 second".into(),
            ));
        }
        if self.backoff_max_secs < self.backoff_base_secs {
            return Some((
                "worker.backoff_max_secs",
                format!(
                    "= {} is below worker.backoff_base_secs = {}",
                    self.backoff_max_secs, self.backoff_base_secs
                ),
            ));
        }
        if let Some(id) = &self.id {
            if id.is_empty() || id.len() > 100 || id.chars().any(|c| c.is_control()) {
                return Some((
                    "worker.id",
                    format!("= {id:?} is not 1 to 100 printable characters"),
                ));
            }
        }
        None
    }
}

/// Where extra settings come from, besides the defaults and the environment.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// A profile name: config/<profile>.toml must exist.
    pub profile: Option<String>,
    /// An explicit file.
    pub file: Option<PathBuf>,
    /// The directory holding config/ (the working directory by default).
    pub base_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Settings {
    pub fn load(sources: &Sources) -> Result<Settings, ConfigError> {
        Self::load_with_env(sources, Env::prefixed("ACCORD__").split("__"))
    }

    fn load_with_env(sources: &Sources, env: Env) -> Result<Settings, ConfigError> {
        let base = sources
            .base_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("."));
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        let local_defaults = base.join("config").join("default.toml");
        if local_defaults.is_file() {
            figment = figment.merge(Toml::file(&local_defaults));
        }
        if let Some(profile) = &sources.profile {
            let path = base.join("config").join(format!("{profile}.toml"));
            require_file(&path, &format!("profile `{profile}`"))?;
            figment = figment.merge(Toml::file(path));
        }
        if let Some(path) = &sources.file {
            require_file(path, "configuration file")?;
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(env);
        let settings: Settings = figment.extract().map_err(|e| {
            ConfigError(
                e.into_iter()
                    .map(describe_figment_error)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Values that parse but make no sense.
    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, reason: String| Err(ConfigError(format!("`{key}` {reason}")));
        if self.server.listen.parse::<SocketAddr>().is_err() {
            return bad(
                "server.listen",
                format!(
                    "= {:?} is not an address:port such as 127.0.0.1:8080",
                    self.server.listen
                ),
            );
        }
        if self.server.max_body_bytes < 1024 {
            return bad(
                "server.max_body_bytes",
                format!(
                    "= {} is below the minimum of 1024",
                    self.server.max_body_bytes
                ),
            );
        }
        let public = self.server.public_url.trim_end_matches('/');
        if !(public.is_empty() || public.starts_with("http://") || public.starts_with("https://")) {
            return bad(
                "server.public_url",
                format!("= {public:?} is not an http(s) URL such as https://accord.example.org"),
            );
        }
        if let Err(reason) = DatabaseUrl::parse(&self.database.url) {
            return bad("database.url", reason);
        }
        if self.database.pool_size == 0 {
            return bad(
                "database.pool_size",
                "= 0: the pool needs at least one connection".into(),
            );
        }
        if self.database.connect_timeout_secs == 0 {
            return bad(
                "database.connect_timeout_secs",
                "= 0: give at least 1 second".into(),
            );
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return bad(
                "log.level",
                format!("= {:?} is not a log filter: {e}", self.log.level),
            );
        }
        if self.status.due_soon_days > 366 {
            return bad(
                "status.due_soon_days",
                format!("= {} is more than a year", self.status.due_soon_days),
            );
        }
        if let Some((key, reason)) = self.mail.problem() {
            return bad(key, reason);
        }
        if let Some((key, reason)) = self.worker.problem() {
            return bad(key, reason);
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> SocketAddr {
        // validate() has checked it; the fallback is never reached.
        self.server
            .listen
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080)))
    }

    pub fn database_url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.database.url)
            .unwrap_or_else(|_| DatabaseUrl::Sqlite("accord.db".into()))
    }
}

fn require_file(path: &Path, what: &str) -> Result<(), ConfigError> {
    if path.is_file() {
        Ok(())
    } else {
        Err(ConfigError(format!(
            "{what}: {} does not exist",
            path.display()
        )))
    }
}

/// Figment names the key in its path; say it first, the way an operator reads it.
fn describe_figment_error(e: figment::Error) -> String {
    let key = e.path.join(".");
    let mut reason = e.kind.to_string();
    if let figment::error::Kind::UnknownField(field, _) = &e.kind {
        let full = if key.is_empty() {
            field.clone()
        } else {
            format!("{key}.{field}")
        };
        return format!("`{full}` is not a setting (unknown key)");
    }
    if let Some(md) = &e.metadata {
        reason.push_str(&format!(" (from {})", md.name));
    }
    if key.is_empty() {
        reason
    } else {
        format!("`{key}`: {reason}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("extra.toml");
        std::fs::write(&file, toml).unwrap();
        Settings::load_with_env(
            &Sources {
                file: Some(file),
                base_dir: Some(dir.path().to_path_buf()),
                profile: None,
            },
            Env::prefixed("ACCORD_CONFIG_TEST_NEVER_SET__").split("__"),
        )
    }

    #[test]
    fn defaults_are_sqlite_and_localhost_8080() {
        let s = load("").unwrap();
        assert_eq!(s.listen_addr().to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url(), DatabaseUrl::Sqlite("accord.db".into()));
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let e = load("[server]\nlisten_port = 9\n").unwrap_err().to_string();
        assert!(e.contains("server.listen_port"), "{e}");
        let e = load("[mailer]\nhost = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("mailer"), "{e}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = load("[server]\nlisten = \"nowhere\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("server.listen"), "{e}");
        let e = load("[database]\npool_size = \"many\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("database.pool_size"), "{e}");
        let e = load("[database]\npool_size = 0\n").unwrap_err().to_string();
        assert!(e.contains("database.pool_size"), "{e}");
        let e = load("[database]\nurl = \"mysql://x/y\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("database.url"), "{e}");
        let e = load("[log]\nlevel = \"=[\"\n").unwrap_err().to_string();
        assert!(e.contains("log.level"), "{e}");
    }

    #[test]
    fn mail_defaults_to_files_and_checks_its_values() {
        let s = load("").unwrap();
        assert_eq!(s.mail.transport, MailTransport::File);
        assert_eq!(s.mail.message_id_domain, "accord.local");
        assert_eq!(s.mail.file.dir, PathBuf::from("mail-out"));
        let s = load(
            "[mail]\ntransport = \"smtp\"\nfrom = \"Секретариат <sec@example.org>\"\n\
             [mail.smtp]\nhost = \"mx\"\nport = 465\ntls = \"implicit\"\n\
             username = \"u\"\npassword = \"hunter2\"\n",
        )
        .unwrap();
        assert_eq!(s.mail.smtp.tls, SmtpTls::Implicit);
        assert!(!format!("{:?}", s.mail).contains("hunter2"));
        for (toml, key) in [
            ("[mail]\ntransport = \"sendmail\"\n", "mail.transport"),
            ("[mail]\nfrom = \"not an address\"\n", "mail.from"),
            ("[mail]\nfrom = \"a@b\\r\\nBcc: x@y\"\n", "mail.from"),
            (
                "[mail]\nmessage_id_domain = \"a>b\"\n",
                "mail.message_id_domain",
            ),
            ("[mail.smtp]\ntls = \"ssl\"\n", "mail.smtp.tls"),
            ("[mail.smtp]\nusername = \"u\"\n", "mail.smtp.username"),
            ("[mail.smtp]\npool_max = 0\n", "mail.smtp.pool_max"),
            (
                "[mail.smtp]\ntls = \"none\"\nca_file = \"ca.pem\"\n",
                "mail.smtp.ca_file",
            ),
            ("[mail.smtp]\ntimeout_secs = 0\n", "mail.smtp.timeout_secs"),
            ("[mail.smtp]\nhostname = \"x\"\n", "mail.smtp.hostname"),
            (
                "[mail]\ntransport = \"smtp\"\n[mail.smtp]\nhost = \" \"\n",
                "mail.smtp.host",
            ),
        ] {
            let e = load(toml).unwrap_err().to_string();
            assert!(e.contains(key), "{toml}: {e}");
        }
    }

    #[test]
    fn worker_defaults_and_checks() {
        let s = load("").unwrap();
        assert!(s.worker.enabled_in_serve);
        assert_eq!(
            (s.worker.batch, s.worker.lease_secs, s.worker.max_attempts),
            (20, 120, 8)
        );
        assert_eq!(
            (s.worker.backoff_base_secs, s.worker.backoff_max_secs),
            (30, 3600)
        );
        assert_eq!(s.worker.id, None);
        let s = load("[worker]\nid = \"mx-1\"\nbatch = 5\n").unwrap();
        assert_eq!((s.worker.id.as_deref(), s.worker.batch), (Some("mx-1"), 5));
        for (toml, key) in [
            ("[worker]\nbatch = 0\n", "worker.batch"),
            ("[worker]\nlease_secs = 0\n", "worker.lease_secs"),
            ("[worker]\npoll_ms = 1\n", "worker.poll_ms"),
            ("[worker]\nmax_attempts = 0\n", "worker.max_attempts"),
            (
                "[worker]\nbackoff_base_secs = 0\n",
                "worker.backoff_base_secs",
            ),
            (
                "[worker]\nbackoff_max_secs = 10\n",
                "worker.backoff_max_secs",
            ),
            ("[worker]\nid = \"\"\n", "worker.id"),
            ("[worker]\nthreads = 2\n", "worker.threads"),
        ] {
            let e = load(toml).unwrap_err().to_string();
            assert!(e.contains(key), "{toml}: {e}");
        }
    }

    #[test]
    fn a_missing_profile_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = Settings::load(&Sources {
            profile: Some("production".into()),
            base_dir: Some(dir.path().to_path_buf()),
            file: None,
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("production"), "{e}");
    }
}
