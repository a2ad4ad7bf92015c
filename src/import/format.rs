//! The YAML an import file is written in (docs/import-format.md). Fields that
//! need checking are read as text here and checked in `plan`, so that one pass
//! reports every problem in the file, not just the first.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    #[serde(default)]
    pub parties: Vec<Party>,
    #[serde(default)]
    pub organisations: Vec<Organisation>,
    #[serde(default)]
    pub agreements: Vec<Agreement>,
    #[serde(default)]
    pub bodies: Vec<Body>,
    #[serde(default)]
    pub meetings: Vec<Meeting>,
    #[serde(default)]
    pub programmes: Vec<Programme>,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// A YAML scalar as the author wrote it: `2025` and `"2025"` are the same timeframe.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    pub fn text(&self) -> String {
        match self {
            Scalar::Text(s) => s.clone(),
            Scalar::Integer(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// `{en: ..., ru: ...}`, or a plain string read as English.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Text {
    Plain(String),
    Languages(BTreeMap<String, String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub code: String,
    pub name: Text,
    pub time_zone: String,
    pub parent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub key: String,
    pub party: String,
    pub kind: String,
    pub name: Text,
    pub parent: Option<String>,
    pub time_zone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    pub email: String,
    pub language: String,
    pub role: String,
    pub time_zone: Option<String>,
    pub notifications: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    pub key: String,
    pub kind: String,
    pub level: Option<String>,
    pub title: Text,
    pub parties: Vec<String>,
    #[serde(default)]
    pub signatories: Vec<String>,
    pub signed: Option<Scalar>,
    pub place: Option<String>,
    pub in_force: Option<Scalar>,
    pub term_months: Option<i64>,
    pub renewal_months: Option<i64>,
    pub notice_months: Option<i64>,
    pub valid_until: Option<Scalar>,
    pub source: Option<Scalar>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    pub key: String,
    pub kind: String,
    pub name: Text,
    pub parent: Option<String>,
    pub agreement: Option<String>,
    #[serde(default)]
    pub parties: Vec<String>,
    #[serde(default)]
    pub co_chairs: BTreeMap<String, String>,
    /// Emails of the contacts who form its secretariat (reminders of its
    /// meetings, escalations of overdue items). Absent: left as it is.
    pub secretariat: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meeting {
    pub body: String,
    pub number: i64,
    pub title: Text,
    pub date: Scalar,
    pub time: Option<Scalar>,
    pub time_zone: Option<String>,
    pub city: Option<String>,
    pub status: Option<String>,
    pub source: Option<Scalar>,
    pub note: Option<String>,
    #[serde(default)]
    pub decisions: Vec<Decision>,
    #[serde(default)]
    pub obligations: Vec<Obligation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub number: Scalar,
    pub kind: String,
    pub text: Text,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programme {
    pub key: String,
    pub title: Text,
    pub agreement: Option<String>,
    pub body: Option<String>,
    pub period: Scalar,
    #[serde(default)]
    pub parties: Vec<String>,
    #[serde(default)]
    pub signatories: Vec<String>,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub illustrative: bool,
    pub source: Option<Scalar>,
    pub note: Option<String>,
    #[serde(default)]
    pub sections: Vec<Section>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub code: String,
    pub title: Text,
    #[serde(default)]
    pub obligations: Vec<Obligation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Obligation {
    pub number: Scalar,
    pub text: Text,
    pub kind: String,
    pub firmness: Option<String>,
    pub timeframe: Option<Scalar>,
    pub recurrence: Option<String>,
    pub quantities: Option<serde_json::Value>,
    pub cost_terms: Option<serde_json::Value>,
    pub lifecycle: Option<String>,
    pub decision: Option<Scalar>,
    #[serde(default)]
    pub assignments: Vec<Assignment>,
    #[serde(default)]
    pub reports: Vec<Report>,
    #[serde(default)]
    pub lead_times: Vec<LeadTime>,
}

/// A deadline derived from the date of the obligation or event it is listed
/// under: `days_before` days before its `start` or `end`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadTime {
    pub anchor: String,
    pub days_before: i64,
    pub title: Text,
    pub party: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    pub organisation: String,
    pub role: String,
    pub party: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub party: String,
    pub as_of: Scalar,
    /// For a yearly obligation: the year of the occurrence reported on.
    pub occurrence_year: Option<i64>,
    pub lifecycle: String,
    pub completion: String,
    pub narrative: Option<Text>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub kind: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub sha256: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub key: String,
    pub title: Text,
    pub kind: String,
    pub status: Option<String>,
    pub when: Option<Scalar>,
    pub start: Option<Scalar>,
    pub end: Option<Scalar>,
    pub time_zone: Option<String>,
    pub host: Option<String>,
    pub guest: Option<String>,
    pub city: Option<String>,
    pub venue: Option<String>,
    #[serde(default)]
    pub organisers: Vec<String>,
    #[serde(default)]
    pub fulfils: Vec<ObligationRef>,
    pub source: Option<Scalar>,
    pub note: Option<String>,
    #[serde(default)]
    pub lead_times: Vec<LeadTime>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObligationRef {
    pub programme: String,
    pub number: Scalar,
}
