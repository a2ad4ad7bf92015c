//! Calendars as accord gives them out (RFC 5545): the model of a calendar
//! that the feeds and the single-event download build, and its writer.

pub mod feed;
pub mod ics;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

/// A whole calendar: one feed, or one event for "add to calendar".
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    /// X-WR-CALNAME and NAME.
    pub name: String,
    /// How often clients should poll (REFRESH-INTERVAL, X-PUBLISHED-TTL).
    pub refresh: chrono::Duration,
    pub entries: Vec<Entry>,
}

/// One VEVENT: an event, one changed occurrence of a recurring event, an
/// obligation's deadline, or a derived deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Stable across every change: derived from the record's id.
    pub uid: String,
    pub summary: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub status: EntryStatus,
    /// Rises on every change of date, time, rule or status.
    pub sequence: i32,
    /// The record's last change: DTSTAMP and LAST-MODIFIED.
    pub last_modified: DateTime<Utc>,
    pub created: Option<DateTime<Utc>>,
    pub when: When,
    /// An RRULE value (without the `RRULE:` name), e.g. `FREQ=YEARLY;COUNT=3`.
    pub rrule: Option<String>,
    /// Occurrences removed from the series: their original starts, in the
    /// form of `when` (local wall times in its zone, or dates).
    pub exdates: Vec<Occurrence>,
    /// Set on an entry that overrides one occurrence of a series: the
    /// occurrence's original start (RECURRENCE-ID). The entry has the series' uid.
    pub recurrence_id: Option<Occurrence>,
    /// CATEGORIES, e.g. "deadline".
    pub categories: Vec<String>,
    /// URL of the record in accord's API.
    pub url: Option<String>,
}

/// When an entry happens.
#[derive(Debug, Clone, PartialEq)]
pub enum When {
    /// Local wall times in an IANA zone: DTSTART;TZID=... (the zone gets a VTIMEZONE).
    Timed {
        start: NaiveDateTime,
        end: Option<NaiveDateTime>,
        zone: Tz,
    },
    /// Whole days, `last` inclusive: DTSTART;VALUE=DATE and an exclusive DTEND.
    AllDay { first: NaiveDate, last: NaiveDate },
}

/// The original start of one occurrence of a series (EXDATE, RECURRENCE-ID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Occurrence {
    Timed(NaiveDateTime),
    AllDay(NaiveDate),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryStatus {
    Tentative,
    Confirmed,
    Cancelled,
}

/// What an iCalendar object is for (RFC 5546, 1.4): a feed or download
/// (PUBLISH), or a scheduling message sent by email (REQUEST, CANCEL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    #[default]
    Publish,
    /// An invitation, or an update of one (a higher SEQUENCE replaces it).
    Request,
    /// The event will not take place.
    Cancel,
}

impl Method {
    /// The value of METHOD, and of the `method` parameter of the email's
    /// text/calendar part (RFC 6047, 2.4), which must be the same.
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Publish => "PUBLISH",
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// An ORGANIZER or ATTENDEE (a calendar user): an email address and a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub email: String,
    pub name: Option<String>,
}
