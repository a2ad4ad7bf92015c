// TEMPORARY: replaced by the helper's status.rs (same public API).
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::timeframe::Timeframe;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle { Planned, Scheduled, InProgress, Completed, Postponed, Suspended, Cancelled, Superseded }
impl Lifecycle {
    pub const ALL: [Lifecycle; 8] = [Lifecycle::Planned, Lifecycle::Scheduled, Lifecycle::InProgress, Lifecycle::Completed, Lifecycle::Postponed, Lifecycle::Suspended, Lifecycle::Cancelled, Lifecycle::Superseded];
    pub fn as_str(&self) -> &'static str { match self { Lifecycle::Planned => "planned", Lifecycle::Scheduled => "scheduled", Lifecycle::InProgress => "in_progress", Lifecycle::Completed => "completed", Lifecycle::Postponed => "postponed", Lifecycle::Suspended => "suspended", Lifecycle::Cancelled => "cancelled", Lifecycle::Superseded => "superseded" } }
    pub fn parse(s: &str) -> Option<Self> { Self::ALL.into_iter().find(|l| l.as_str() == s) }
    pub fn is_closed(&self) -> bool { matches!(self, Lifecycle::Completed | Lifecycle::Cancelled | Lifecycle::Superseded) }
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Completion { NoEvidence, NotStarted, Limited, Substantial, Complete }
impl Completion {
    pub const ALL: [Completion; 5] = [Completion::NoEvidence, Completion::NotStarted, Completion::Limited, Completion::Substantial, Completion::Complete];
    pub fn as_str(&self) -> &'static str { match self { Completion::NoEvidence => "no_evidence", Completion::NotStarted => "not_started", Completion::Limited => "limited", Completion::Substantial => "substantial", Completion::Complete => "complete" } }
    pub fn parse(s: &str) -> Option<Self> { Self::ALL.into_iter().find(|l| l.as_str() == s) }
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyStatus { pub party: String, pub lifecycle: Lifecycle, pub completion: Completion, pub as_of: NaiveDate, pub reported_at: NaiveDateTime }
pub fn latest_per_party<'a>(reports: impl IntoIterator<Item = &'a PartyStatus>, _on: Option<NaiveDate>) -> Vec<PartyStatus> { reports.into_iter().cloned().collect() }
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Urgency { Closed, Suspended, Unscheduled, Overdue { days_late: i64 }, DueSoon { days_left: i64 }, NotYetDue }
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Assessment { pub urgency: Urgency, pub overdue: bool, pub due_soon: bool }
pub fn assess(_t: &Timeframe, _l: Lifecycle, _r: &[&str], _latest: &[PartyStatus], _today: NaiveDate, _d: u32) -> Assessment { Assessment { urgency: Urgency::NotYetDue, overdue: false, due_soon: false } }
