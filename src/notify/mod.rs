//! Reminders: the planner decides what is due and writes it to the outbox;
//! the worker drains the outbox through the mailer. The same `domain` and
//! `store` as the API; nothing here is reached from HTTP handlers except the
//! re-planning hooks that run inside their transactions.

pub mod mailer;
pub mod payload;
pub mod planner;
pub mod templates;
pub mod worker;

/// Why a delivery failed, as the worker must treat it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Try again later: 4xx replies, refused or dropped connections, timeouts.
    Transient(String),
    /// Will never succeed: 5xx replies, an address that cannot be written.
    Permanent(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Transient(e) => write!(f, "transient: {e}"),
            SendError::Permanent(e) => write!(f, "permanent: {e}"),
        }
    }
}
