//! What a notification says, fixed when it is queued (JSON in
//! `notifications.payload`): the templates render it in the recipient's
//! language and zone at send time, and a retry sends the same words.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Kinds of notification (notifications.kind).
pub const KINDS: [&str; 7] = [
    "reminder",
    "overdue",
    "escalation",
    "digest",
    "event_invitation",
    "event_change",
    "event_cancellation",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// The recipient's name, for the greeting.
    pub recipient_name: String,
    /// The programme (or protocol) the items belong to, if any.
    #[serde(default)]
    pub programme: Option<Named>,
    /// One item for a reminder or an overdue notice; several for a digest or
    /// an escalation.
    pub items: Vec<DueItem>,
    /// For event invitations, changes and cancellations: the iTIP calendar
    /// (METHOD:REQUEST or METHOD:CANCEL) to attach, rendered when queued.
    #[serde(default)]
    pub ics: Option<String>,
}

/// A record by its key (or id) and its title in every language it has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Named {
    pub id: String,
    #[serde(default)]
    pub key: Option<String>,
    /// Language code -> text.
    pub title: BTreeMap<String, String>,
}

/// One dated thing a notification is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DueItem {
    /// obligation, event, lead_time, agreement or meeting.
    pub kind: String,
    pub id: String,
    /// The item's number in its programme or protocol ("1.1"), if any.
    #[serde(default)]
    pub number: Option<String>,
    /// Language code -> text.
    pub title: BTreeMap<String, String>,
    /// Which dated field: obligation_due, obligation_earliest, event_start,
    /// lead_time, agreement_notice, meeting.
    pub field: String,
    /// The due date (deadlines are dates).
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
    /// The instant, for timed events and meetings (shown in the recipient's zone).
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// Days until due (negative: overdue by that many days).
    pub days_left: i64,
    /// A year of a yearly item, or an occurrence of a series ("" for none).
    #[serde(default)]
    pub occurrence: String,
    /// Responsible organisations' keys.
    #[serde(default)]
    pub responsible: Vec<String>,
    /// Where to report or look (an absolute URL).
    pub url: String,
}
