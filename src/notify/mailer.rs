//! Sends one outbox row as an email: composes the MIME message from the
//! row's payload (the templates in the recipient's language and zone, an
//! iTIP calendar for event kinds) and hands it to SMTP, to a folder of .eml
//! files, or to nothing (benchmarks). Synchronous, and given the row rather
//! than a connection: the worker calls it on its own thread, outside any
//! database transaction.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use lettre::message::header::{ContentDisposition, ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{Address, Message, SmtpTransport, Transport};

use super::payload::Payload;
use super::templates::{self, one_line};
use super::SendError;
use crate::config::{MailSettings, MailTransport, SmtpTls};
use crate::store::notifications::NotificationRow;

/// Kinds whose email carries the event's iTIP calendar.
const EVENT_KINDS: [&str; 3] = ["event_invitation", "event_change", "event_cancellation"];

/// Sends notifications. Cheap to share between threads (the SMTP pool is
/// behind an `Arc`).
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Outlet,
}

#[derive(Clone)]
enum Outlet {
    Smtp(SmtpTransport),
    /// One `<row id>.eml` per notification: a retry overwrites, never doubles.
    File(PathBuf),
    /// Accepts everything, renders and sends nothing.
    Noop,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outlet = match &self.transport {
            Outlet::Smtp(_) => "smtp".to_string(),
            Outlet::File(dir) => format!("file:{}", dir.display()),
            Outlet::Noop => "noop".to_string(),
        };
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("transport", &outlet)
            .finish()
    }
}

impl Mailer {
    /// The mailer the settings describe (start-up only: the settings are
    /// validated by then; the file transport's folder is created here).
    pub fn from_settings(mail: &MailSettings) -> anyhow::Result<Mailer> {
        let from: Mailbox = mail
            .from
            .parse()
            .with_context(|| format!("mail.from = {:?} is not an address", mail.from))?;
        let transport = match mail.transport {
            MailTransport::Smtp => Outlet::Smtp(smtp_transport(mail)?),
            MailTransport::File => {
                std::fs::create_dir_all(&mail.file.dir).with_context(|| {
                    format!("mail.file.dir: cannot create {}", mail.file.dir.display())
                })?;
                Outlet::File(mail.file.dir.clone())
            }
        };
        Ok(Mailer { from, transport })
    }

    /// A transport that accepts everything and sends nothing, without even
    /// composing the message: for measuring the outbox alone.
    pub fn noop() -> Mailer {
        Mailer {
            // A constant that is an address; never sent anyway.
            from: Mailbox::new(None, Address::new_dangerous("accord", "localhost")),
            transport: Outlet::Noop,
        }
    }

    /// Sends the row's email. SMTP 4xx replies, refused or dropped
    /// connections, timeouts, TLS and file errors are transient; 5xx replies
    /// and rows that can never make an email (a bad address or payload) are
    /// permanent.
    pub fn deliver(&self, n: &NotificationRow) -> Result<(), SendError> {
        match &self.transport {
            Outlet::Noop => Ok(()),
            Outlet::Smtp(smtp) => {
                let message = self.message(n)?;
                smtp.send(&message).map(|_| ()).map_err(|e| classify(&e))
            }
            Outlet::File(dir) => {
                let message = self.message(n)?;
                write_eml(dir, &n.id, &message.formatted())
                    .map_err(|e| SendError::Transient(format!("writing the .eml file: {e}")))
            }
        }
    }

    /// The email for a row as it would be sent (Message-ID the row's, Date now).
    pub fn message(&self, n: &NotificationRow) -> Result<Message, SendError> {
        compose(&self.from, n)
    }
}

fn smtp_transport(mail: &MailSettings) -> anyhow::Result<SmtpTransport> {
    let s = &mail.smtp;
    let host = s.host.trim();
    let tls = match s.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::Starttls => Tls::Required(tls_parameters(host, s.ca_file.as_deref())?),
        SmtpTls::Implicit => Tls::Wrapper(tls_parameters(host, s.ca_file.as_deref())?),
    };
    let mut builder = SmtpTransport::builder_dangerous(host)
        .port(s.port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(s.timeout_secs)))
        .pool_config(PoolConfig::new().max_size(s.pool_max));
    if let (Some(user), Some(password)) = (&s.username, &s.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// Verifies the server's certificate for `host` against the public roots and,
/// when given, the authorities in `ca_file` (read once, at start).
fn tls_parameters(host: &str, ca_file: Option<&Path>) -> anyhow::Result<TlsParameters> {
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("mail.smtp.ca_file: cannot read {}", path.display()))?;
        if !pem
            .windows(b"-----BEGIN CERTIFICATE-----".len())
            .any(|w| w == b"-----BEGIN CERTIFICATE-----")
        {
            anyhow::bail!(
                "mail.smtp.ca_file: {} holds no PEM certificate",
                path.display()
            );
        }
        let authority = Certificate::from_pem(&pem).with_context(|| {
            format!(
                "mail.smtp.ca_file: {} is not a PEM certificate",
                path.display()
            )
        })?;
        builder = builder.add_root_certificate(authority);
    }
    builder
        .build()
        .with_context(|| format!("mail.smtp.host = {host:?}: TLS parameters"))
}

/// How the worker must treat an SMTP failure: only a 5xx reply is final.
fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    // lettre's text carries the code and the server's reply: "permanent error (550): ...".
    let text = e.to_string();
    let code = e.status().map(|code| code.to_string());
    if matches!(code.as_deref(), Some("530" | "534" | "535" | "538")) {
        // Refused credentials or authentication are the relay's configuration,
        // not the message's fault: a wrong password must not fail every row for
        // good; they wait, with backoff, until it is fixed.
        SendError::Transient(format!(
            "the SMTP server refused authentication (mail.smtp.username, mail.smtp.password, mail.smtp.tls): {text}"
        ))
    } else if e.is_permanent() {
        SendError::Permanent(text)
    } else if timed_out(e) {
        // A socket timeout reads as "Resource temporarily unavailable" on Linux.
        SendError::Transient(format!(
            "timed out: no answer within mail.smtp.timeout_secs ({text})"
        ))
    } else {
        SendError::Transient(text)
    }
}

fn timed_out(e: &lettre::transport::smtp::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            );
        }
        source = err.source();
    }
    false
}

/// Writes `<id>.eml` whole or not at all (a temporary file renamed into place).
fn write_eml(dir: &Path, id: &str, bytes: &[u8]) -> std::io::Result<()> {
    let name: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    let name = if name.is_empty() {
        "message".to_string()
    } else {
        name
    };
    let tmp = dir.join(format!(".{name}.eml.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(format!("{name}.eml")))
}

/// A value for a header that has no encoder in lettre: no control characters.
fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// The METHOD of an iTIP calendar, for the `method` parameter of its part,
/// which must say the same (RFC 6047, 2.4).
fn itip_method(ics: &str) -> Option<String> {
    ics.split("\r\n").chain(ics.split('\n')).find_map(|line| {
        let value = line.trim_end_matches('\r').strip_prefix("METHOD:")?.trim();
        (!value.is_empty() && value.chars().all(|c| c.is_ascii_alphabetic() || c == '-'))
            .then(|| value.to_ascii_uppercase())
    })
}

/// The message for a row: From, To (with the contact's name), Subject,
/// Date, Message-ID (the row's, so a retry is recognisably the same email),
/// Auto-Submitted; text and HTML alternatives; for event kinds the iTIP
/// calendar both inline (for clients that act on invitations) and as an
/// invite.ics attachment.
pub fn compose(from: &Mailbox, n: &NotificationRow) -> Result<Message, SendError> {
    let payload: Payload = serde_json::from_str(&n.payload)
        .map_err(|e| SendError::Permanent(format!("the payload cannot be read: {e}")))?;
    let address: Address = n.recipient.trim().parse().map_err(|e| {
        SendError::Permanent(format!(
            "recipient {:?} is not an address: {e}",
            n.recipient
        ))
    })?;
    let name = one_line(&payload.recipient_name);
    let to = Mailbox::new((!name.is_empty()).then_some(name), address);
    let message_id = n.message_id.trim();
    if message_id.is_empty() || has_control(message_id) {
        return Err(SendError::Permanent(format!(
            "Message-ID {:?} cannot be a header",
            n.message_id
        )));
    }
    let rendered = templates::render(n, &payload);
    let alternative = MultiPart::alternative_plain_html(rendered.text, rendered.html);

    let calendar = payload
        .ics
        .as_deref()
        .filter(|ics| EVENT_KINDS.contains(&n.kind.as_str()) && !ics.trim().is_empty());
    let body = match calendar {
        None => alternative,
        Some(ics) => {
            let method = itip_method(ics).unwrap_or_else(|| {
                if n.kind == "event_cancellation" {
                    "CANCEL"
                } else {
                    "REQUEST"
                }
                .to_string()
            });
            let inline_type =
                ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                    .map_err(|e| SendError::Permanent(format!("calendar part: {e}")))?;
            let file_type = ContentType::parse("application/ics; name=\"invite.ics\"")
                .map_err(|e| SendError::Permanent(format!("calendar attachment: {e}")))?;
            MultiPart::mixed()
                .multipart(
                    alternative.singlepart(
                        SinglePart::builder()
                            .header(inline_type)
                            .body(ics.to_string()),
                    ),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(file_type)
                        .header(ContentDisposition::attachment("invite.ics"))
                        .body(ics.to_string()),
                )
        }
    };
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(one_line(&rendered.subject))
        .message_id(Some(message_id.to_string()))
        .date_now()
        // RFC 3834: automatic mail; out-of-office replies should not answer it.
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_string(),
        ))
        .multipart(body)
        .map_err(|e| SendError::Permanent(format!("the email cannot be built: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_itip_method_is_read_from_the_calendar() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n";
        assert_eq!(itip_method(ics).as_deref(), Some("CANCEL"));
        assert_eq!(itip_method("METHOD:request\n").as_deref(), Some("REQUEST"));
        assert_eq!(itip_method("METHOD:RE;QUEST\r\n"), None);
        assert_eq!(itip_method("BEGIN:VCALENDAR\r\n"), None);
    }

    #[test]
    fn eml_files_are_named_by_the_row_and_replaced_on_retry() {
        let dir = tempfile::tempdir().unwrap();
        write_eml(dir.path(), "a1/../b", b"one").unwrap();
        write_eml(dir.path(), "a1/../b", b"two").unwrap();
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a1b.eml"]);
        assert_eq!(std::fs::read(dir.path().join("a1b.eml")).unwrap(), b"two");
    }
}
