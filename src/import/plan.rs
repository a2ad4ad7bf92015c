//! Checks an import file against itself and the database, and turns it into
//! rows ready to write. Every problem is collected with its path; nothing is
//! written unless there are none.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::QueryResult;

use super::format::{self, Scalar, Text};
use crate::db::Conn;
use crate::domain::deadlines::{yearly_occurrences, AnchorKind, LeadTimeAnchor, MAX_DAYS_BEFORE};
use crate::domain::keys::{is_key, is_party_code};
use crate::domain::kinds::*;
use crate::domain::status::{Completion, Lifecycle};
use crate::domain::timeframe::{Period, Timeframe, TimeframeKind};
use crate::domain::zone::{parse_wall_time, parse_zone, resolve_local, tzdata_version};
use crate::domain::LocalizedText;
use crate::store::agreements::AgreementRow;
use crate::store::bodies::{BodyPartyRow, BodyRow, DecisionRow, MeetingRow};
use crate::store::events::{EventOrganisationRow, EventRow};
use crate::store::lead_times::LeadTimeRow;
use crate::store::obligations::{AssignmentRow, ObligationRow};
use crate::store::organisations::{ContactRow, OrganisationRow};
use crate::store::parties::PartyRow;
use crate::store::programmes::{ProgrammeRow, SectionRow};
use crate::store::reports::{EvidenceRow, StatusReportRow};
use crate::store::{self, new_id};

/// One thing wrong with an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// Everything to write, in an order that satisfies the foreign keys.
#[derive(Debug, Default)]
pub struct Plan {
    pub parties: Vec<PartyRow>,
    pub organisations: Vec<(OrganisationRow, Vec<ContactRow>)>,
    pub agreements: Vec<(AgreementRow, Vec<String>, Vec<String>)>,
    pub bodies: Vec<(BodyRow, Vec<BodyPartyRow>)>,
    /// Body id and the emails of its secretariat's contacts, for bodies that list one.
    pub secretariats: Vec<(String, Vec<String>)>,
    pub meetings: Vec<(MeetingRow, Vec<DecisionRow>)>,
    pub programmes: Vec<PlannedProgramme>,
    pub obligations: Vec<PlannedObligation>,
    pub events: Vec<PlannedEvent>,
}

/// An event with its organisers, the ids of the obligations it fulfils, and its lead times.
#[derive(Debug)]
pub struct PlannedEvent {
    pub row: EventRow,
    pub organisers: Vec<EventOrganisationRow>,
    pub fulfils: Vec<String>,
    pub lead_times: Vec<LeadTimeRow>,
}

/// A programme with its party ids, signatory ids and sections.
#[derive(Debug)]
pub struct PlannedProgramme {
    pub row: ProgrammeRow,
    pub party_ids: Vec<String>,
    pub signatory_ids: Vec<String>,
    pub sections: Vec<SectionRow>,
}

#[derive(Debug)]
pub struct PlannedObligation {
    pub row: ObligationRow,
    pub assignments: Vec<AssignmentRow>,
    pub reports: Vec<(StatusReportRow, Vec<EvidenceRow>)>,
    pub lead_times: Vec<LeadTimeRow>,
}

#[derive(Clone)]
struct PartyRef {
    id: String,
    zone: String,
}

#[derive(Clone)]
struct OrgRef {
    id: String,
    party_id: String,
}

struct Planner<'c> {
    conn: &'c mut Conn,
    at: NaiveDateTime,
    actor: String,
    problems: Vec<Problem>,
    parties: HashMap<String, PartyRef>,
    organisations: HashMap<String, OrgRef>,
    agreements: HashMap<String, String>,
    bodies: HashMap<String, (String, Option<String>)>, // key -> (id, zone of its first party)
    programmes: HashMap<String, (String, Period)>,
    obligations: HashMap<(String, String), String>, // (programme key, number) -> id
}

pub fn plan(
    conn: &mut Conn,
    file: &format::ImportFile,
    at: NaiveDateTime,
    actor: &str,
) -> QueryResult<Result<Plan, Vec<Problem>>> {
    let mut planner = Planner {
        conn,
        at,
        actor: actor.to_string(),
        problems: Vec::new(),
        parties: HashMap::new(),
        organisations: HashMap::new(),
        agreements: HashMap::new(),
        bodies: HashMap::new(),
        programmes: HashMap::new(),
        obligations: HashMap::new(),
    };
    let plan = planner.run(file)?;
    if planner.problems.is_empty() {
        Ok(Ok(plan))
    } else {
        Ok(Err(planner.problems))
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date; write YYYY-MM-DD"))
}

impl Planner<'_> {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    fn text(&mut self, path: &str, text: &Text) -> String {
        let result = match text {
            Text::Plain(s) => LocalizedText::from_codes([("en", s.as_str())]),
            Text::Languages(map) => {
                LocalizedText::from_codes(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            }
        };
        match result {
            Ok(t) => t.to_json(),
            Err(e) => {
                self.problem(path, e.to_string());
                String::from("{}")
            }
        }
    }

    fn word<T>(
        &mut self,
        path: &str,
        value: &str,
        parse: fn(&str) -> Option<T>,
        expected: String,
    ) -> Option<T> {
        let found = parse(value);
        if found.is_none() {
            self.problem(
                path,
                format!("`{value}` is not allowed here; expected {expected}"),
            );
        }
        found
    }

    fn zone(&mut self, path: &str, name: &str) -> Option<String> {
        match parse_zone(name) {
            Ok(tz) => Some(tz.name().to_string()),
            Err(e) => {
                self.problem(path, e);
                None
            }
        }
    }

    fn key(&mut self, path: &str, key: &str) {
        if !is_key(key) {
            self.problem(
                path,
                format!("`{key}` is not a key: use lowercase letters, digits and dashes"),
            );
        }
    }

    fn unique(&mut self, seen: &mut HashSet<String>, path: &str, key: &str, what: &str) {
        if !seen.insert(key.to_string()) {
            self.problem(path, format!("{what} `{key}` appears twice in the file"));
        }
    }

    fn timeframe(
        &mut self,
        path: &str,
        text: &str,
        programme: Option<Period>,
    ) -> Option<Timeframe> {
        match Timeframe::parse(text, programme) {
            Ok(t) => Some(t),
            Err(e) => {
                self.problem(path, e.to_string());
                None
            }
        }
    }

    fn party(&mut self, path: &str, code: &str) -> QueryResult<Option<PartyRef>> {
        if let Some(p) = self.parties.get(code) {
            return Ok(Some(p.clone()));
        }
        match store::parties::by_code(self.conn, code)? {
            Some(row) => {
                let r = PartyRef {
                    id: row.id,
                    zone: row.time_zone,
                };
                self.parties.insert(code.to_string(), r.clone());
                Ok(Some(r))
            }
            None => {
                self.problem(
                    path,
                    format!("party `{code}` is neither in this file nor in the database"),
                );
                Ok(None)
            }
        }
    }

    fn organisation(&mut self, path: &str, key: &str) -> QueryResult<Option<OrgRef>> {
        if let Some(o) = self.organisations.get(key) {
            return Ok(Some(o.clone()));
        }
        match store::organisations::by_key(self.conn, key)? {
            Some(row) => {
                let r = OrgRef {
                    id: row.id,
                    party_id: row.party_id,
                };
                self.organisations.insert(key.to_string(), r.clone());
                Ok(Some(r))
            }
            None => {
                self.problem(
                    path,
                    format!("organisation `{key}` is neither in this file nor in the database"),
                );
                Ok(None)
            }
        }
    }

    /// The lead times listed under an obligation or event, hung on it.
    fn lead_times(
        &mut self,
        path: &str,
        specs: &[format::LeadTime],
        kind: AnchorKind,
        anchor_id: &str,
    ) -> QueryResult<Vec<LeadTimeRow>> {
        let mut rows = Vec::new();
        let mut seen = HashSet::new();
        for (i, spec) in specs.iter().enumerate() {
            let lpath = format!("{path}.lead_times[{i}]");
            let anchor = self.word(
                &format!("{lpath}.anchor"),
                &spec.anchor,
                LeadTimeAnchor::parse,
                LeadTimeAnchor::expected(),
            );
            let days_before = i32::try_from(spec.days_before)
                .ok()
                .filter(|d| (0..=MAX_DAYS_BEFORE).contains(d));
            if days_before.is_none() {
                self.problem(
                    format!("{lpath}.days_before"),
                    format!(
                        "{} is out of range: 0 to {MAX_DAYS_BEFORE} days",
                        spec.days_before
                    ),
                );
            }
            let title = self.text(&format!("{lpath}.title"), &spec.title);
            let party_id = match &spec.party {
                Some(code) => self.party(&format!("{lpath}.party"), code)?.map(|p| p.id),
                None => None,
            };
            let (Some(anchor), Some(days_before)) = (anchor, days_before) else {
                continue;
            };
            // The natural key a re-import matches on.
            self.unique(
                &mut seen,
                &lpath,
                &format!("{} {days_before} {title}", anchor.as_str()),
                "lead time with this anchor, days and title",
            );
            let mut row = LeadTimeRow {
                id: new_id(),
                event_id: None,
                obligation_id: None,
                meeting_id: None,
                anchor: anchor.as_str().to_string(),
                days_before,
                title,
                party_id,
                version: 1,
                created_at: self.at,
                updated_at: self.at,
            };
            row.set_anchor(kind, anchor_id.to_string());
            rows.push(row);
        }
        Ok(rows)
    }

    fn run(&mut self, file: &format::ImportFile) -> QueryResult<Plan> {
        let mut plan = Plan::default();
        self.plan_parties(file, &mut plan)?;
        self.plan_organisations(file, &mut plan)?;
        self.plan_agreements(file, &mut plan)?;
        self.plan_bodies(file, &mut plan)?;
        self.plan_meetings(file, &mut plan)?;
        self.plan_programmes(file, &mut plan)?;
        self.plan_events(file, &mut plan)?;
        Ok(plan)
    }

    fn plan_parties(&mut self, file: &format::ImportFile, plan: &mut Plan) -> QueryResult<()> {
        let mut seen = HashSet::new();
        // Pass 1: every party of the file gets its id, so a region may name a
        // state that comes later in the file.
        for (i, p) in file.parties.iter().enumerate() {
            let path = format!("parties[{i}]");
            self.unique(&mut seen, &format!("{path}.code"), &p.code, "party");
            if !is_party_code(&p.code) {
                self.problem(
                    format!("{path}.code"),
                    format!("`{}` is not an ISO 3166 code such as KZ or KZ-KUS", p.code),
                );
            }
            let id = store::parties::by_code(self.conn, &p.code)?
                .map(|r| r.id)
                .unwrap_or_else(new_id);
            let zone = self
                .zone(&format!("{path}.time_zone"), &p.time_zone)
                .unwrap_or_default();
            self.parties.insert(p.code.clone(), PartyRef { id, zone });
        }
        let mut rows = Vec::new();
        for (i, p) in file.parties.iter().enumerate() {
            let path = format!("parties[{i}]");
            let parent_id = match &p.parent {
                Some(parent) => {
                    if !p.code.starts_with(&format!("{parent}-")) {
                        self.problem(
                            format!("{path}.parent"),
                            format!("region `{}` does not belong to `{parent}`", p.code),
                        );
                    }
                    self.party(&format!("{path}.parent"), parent)?.map(|r| r.id)
                }
                None => {
                    if p.code.contains('-') {
                        self.problem(
                            format!("{path}.parent"),
                            format!("region `{}` needs its state as parent", p.code),
                        );
                    }
                    None
                }
            };
            let name = self.text(&format!("{path}.name"), &p.name);
            let party = &self.parties[&p.code];
            rows.push(PartyRow {
                id: party.id.clone(),
                code: p.code.clone(),
                parent_id,
                name,
                time_zone: party.zone.clone(),
                version: 1,
                created_at: self.at,
                updated_at: self.at,
            });
        }
        // States before regions, for the parent key.
        rows.sort_by_key(|r| r.parent_id.is_some());
        plan.parties = rows;
        Ok(())
    }

    fn plan_organisations(
        &mut self,
        file: &format::ImportFile,
        plan: &mut Plan,
    ) -> QueryResult<()> {
        let mut seen = HashSet::new();
        for (i, o) in file.organisations.iter().enumerate() {
            let path = format!("organisations[{i}]");
            self.key(&format!("{path}.key"), &o.key);
            self.unique(&mut seen, &format!("{path}.key"), &o.key, "organisation");
            let party = self.party(&format!("{path}.party"), &o.party)?;
            let id = store::organisations::by_key(self.conn, &o.key)?
                .map(|r| r.id)
                .unwrap_or_else(new_id);
            self.organisations.insert(
                o.key.clone(),
                OrgRef {
                    id,
                    party_id: party.map(|p| p.id).unwrap_or_default(),
                },
            );
        }
        let mut planned = Vec::new();
        for (i, o) in file.organisations.iter().enumerate() {
            let path = format!("organisations[{i}]");
            let kind = self.word(
                &format!("{path}.kind"),
                &o.kind,
                OrganisationKind::parse,
                OrganisationKind::expected(),
            );
            let name = self.text(&format!("{path}.name"), &o.name);
            let party_zone = self
                .parties
                .get(&o.party)
                .map(|p| p.zone.clone())
                .unwrap_or_default();
            let zone = match &o.time_zone {
                Some(z) => self
                    .zone(&format!("{path}.time_zone"), z)
                    .unwrap_or_default(),
                None => party_zone,
            };
            let parent_id = match &o.parent {
                Some(parent) if parent == &o.key => {
                    self.problem(
                        format!("{path}.parent"),
                        "an organisation cannot be its own parent",
                    );
                    None
                }
                Some(parent) => self
                    .organisation(&format!("{path}.parent"), parent)?
                    .map(|r| r.id),
                None => None,
            };
            let me = self.organisations[&o.key].clone();
            let mut contacts = Vec::new();
            let mut emails = HashSet::new();
            for (j, c) in o.contacts.iter().enumerate() {
                let cpath = format!("{path}.contacts[{j}]");
                if !c.email.contains('@') || c.email.contains(char::is_whitespace) {
                    self.problem(
                        format!("{cpath}.email"),
                        format!("`{}` is not an email address", c.email),
                    );
                }
                self.unique(
                    &mut emails,
                    &format!("{cpath}.email"),
                    &c.email.to_lowercase(),
                    "contact email",
                );
                if c.name.trim().is_empty() {
                    self.problem(format!("{cpath}.name"), "is blank");
                }
                if crate::domain::Language::parse(&c.language).is_none() {
                    self.problem(
                        format!("{cpath}.language"),
                        format!(
                            "`{}` is not a supported language code (use one of: {})",
                            c.language,
                            crate::domain::Language::codes()
                        ),
                    );
                }
                let role = self.word(
                    &format!("{cpath}.role"),
                    &c.role,
                    ContactRole::parse,
                    ContactRole::expected(),
                );
                let notifications = match &c.notifications {
                    Some(n) => self.word(
                        &format!("{cpath}.notifications"),
                        n,
                        NotificationMode::parse,
                        NotificationMode::expected(),
                    ),
                    None => Some(NotificationMode::Immediate),
                };
                let czone = match &c.time_zone {
                    Some(z) => self
                        .zone(&format!("{cpath}.time_zone"), z)
                        .unwrap_or_default(),
                    None => zone.clone(),
                };
                contacts.push(ContactRow {
                    id: new_id(),
                    organisation_id: me.id.clone(),
                    name: c.name.trim().to_string(),
                    email: c.email.trim().to_lowercase(),
                    language: c.language.clone(),
                    time_zone: czone,
                    role: role.map(|r| r.as_str()).unwrap_or_default().to_string(),
                    notifications: notifications
                        .map(|n| n.as_str())
                        .unwrap_or_default()
                        .to_string(),
                    active: true,
                    version: 1,
                    created_at: self.at,
                    updated_at: self.at,
                });
            }
            planned.push((
                OrganisationRow {
                    id: me.id.clone(),
                    key: o.key.clone(),
                    party_id: me.party_id.clone(),
                    parent_id,
                    kind: kind.map(|k| k.as_str()).unwrap_or_default().to_string(),
                    name,
                    time_zone: zone,
                    email: o.email.clone(),
                    website: o.website.clone(),
                    version: 1,
                    created_at: self.at,
                    updated_at: self.at,
                },
                contacts,
            ));
        }
        plan.organisations =
            parents_first(planned, |(o, _)| o.id.clone(), |(o, _)| o.parent_id.clone());
        Ok(())
    }

    fn plan_agreements(&mut self, file: &format::ImportFile, plan: &mut Plan) -> QueryResult<()> {
        let mut seen = HashSet::new();
        for (i, a) in file.agreements.iter().enumerate() {
            let path = format!("agreements[{i}]");
            self.key(&format!("{path}.key"), &a.key);
            self.unique(&mut seen, &format!("{path}.key"), &a.key, "agreement");
            let kind = self.word(
                &format!("{path}.kind"),
                &a.kind,
                AgreementKind::parse,
                AgreementKind::expected(),
            );
            let level = match &a.level {
                Some(l) => self.word(
                    &format!("{path}.level"),
                    l,
                    AgreementLevel::parse,
                    AgreementLevel::expected(),
                ),
                None => Some(AgreementLevel::Intergovernmental),
            };
            let title = self.text(&format!("{path}.title"), &a.title);
            if a.parties.len() < 2 {
                self.problem(
                    format!("{path}.parties"),
                    "an agreement has at least two parties",
                );
            }
            let mut party_ids = Vec::new();
            for (j, code) in a.parties.iter().enumerate() {
                if let Some(p) = self.party(&format!("{path}.parties[{j}]"), code)? {
                    party_ids.push(p.id);
                }
            }
            let mut signatory_ids = Vec::new();
            for (j, key) in a.signatories.iter().enumerate() {
                if let Some(o) = self.organisation(&format!("{path}.signatories[{j}]"), key)? {
                    signatory_ids.push(o.id);
                }
            }
            let signed = match &a.signed {
                Some(s) => self.timeframe(&format!("{path}.signed"), &s.text(), None),
                None => None,
            };
            let in_force_on = match &a.in_force {
                Some(d) => match parse_date(&d.text()) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        self.problem(format!("{path}.in_force"), e);
                        None
                    }
                },
                None => None,
            };
            if let (Some(signed), Some(in_force)) =
                (signed.as_ref().and_then(|s| s.earliest), in_force_on)
            {
                if in_force < signed {
                    self.problem(
                        format!("{path}.in_force"),
                        format!("enters into force ({in_force}) before it is signed ({signed})"),
                    );
                }
            }
            let valid_until = match &a.valid_until {
                Some(v) => self
                    .timeframe(&format!("{path}.valid_until"), &v.text(), None)
                    .and_then(|t| t.latest),
                None => None,
            };
            let months = |me: &mut Self, field: &str, v: Option<i64>, min: i64| -> Option<i32> {
                match v {
                    Some(n) if n < min || n > 1200 => {
                        me.problem(
                            format!("{path}.{field}"),
                            format!("{n} is out of range: {min} to 1200 months"),
                        );
                        None
                    }
                    Some(n) => i32::try_from(n).ok(),
                    None => None,
                }
            };
            let term_months = months(self, "term_months", a.term_months, 1);
            let renewal_months = months(self, "renewal_months", a.renewal_months, 1);
            let notice_months = months(self, "notice_months", a.notice_months, 0);
            let id = store::agreements::by_key(self.conn, &a.key)?
                .map(|r| r.id)
                .unwrap_or_else(new_id);
            self.agreements.insert(a.key.clone(), id.clone());
            plan.agreements.push((
                AgreementRow {
                    id,
                    key: a.key.clone(),
                    kind: kind.map(|k| k.as_str()).unwrap_or_default().to_string(),
                    level: level.map(|k| k.as_str()).unwrap_or_default().to_string(),
                    title,
                    signed_kind: signed.as_ref().map(|s| s.kind.as_str().to_string()),
                    signed_text: signed.as_ref().map(|s| s.source.clone()),
                    signed_earliest: signed.as_ref().and_then(|s| s.earliest),
                    signed_latest: signed.as_ref().and_then(|s| s.latest),
                    place: a.place.clone(),
                    in_force_on,
                    term_months,
                    renewal_months,
                    notice_months,
                    valid_until,
                    source: a.source.as_ref().map(Scalar::text),
                    note: a.note.clone(),
                    version: 1,
                    created_at: self.at,
                    updated_at: self.at,
                },
                party_ids,
                signatory_ids,
            ));
        }
        Ok(())
    }

    fn agreement(&mut self, path: &str, key: &str) -> QueryResult<Option<String>> {
        if let Some(id) = self.agreements.get(key) {
            return Ok(Some(id.clone()));
        }
        match store::agreements::by_key(self.conn, key)? {
            Some(row) => {
                self.agreements.insert(key.to_string(), row.id.clone());
                Ok(Some(row.id))
            }
            None => {
                self.problem(
                    path,
                    format!("agreement `{key}` is neither in this file nor in the database"),
                );
                Ok(None)
            }
        }
    }

    fn body(&mut self, path: &str, key: &str) -> QueryResult<Option<(String, Option<String>)>> {
        if let Some(b) = self.bodies.get(key) {
            return Ok(Some(b.clone()));
        }
        match store::bodies::by_key(self.conn, key)? {
            Some(row) => {
                let r = (row.id, None);
                self.bodies.insert(key.to_string(), r.clone());
                Ok(Some(r))
            }
            None => {
                self.problem(
                    path,
                    format!("body `{key}` is neither in this file nor in the database"),
                );
                Ok(None)
            }
        }
    }

    fn plan_bodies(&mut self, file: &format::ImportFile, plan: &mut Plan) -> QueryResult<()> {
        let mut seen = HashSet::new();
        for (i, b) in file.bodies.iter().enumerate() {
            let path = format!("bodies[{i}]");
            self.key(&format!("{path}.key"), &b.key);
            self.unique(&mut seen, &format!("{path}.key"), &b.key, "body");
            let id = store::bodies::by_key(self.conn, &b.key)?
                .map(|r| r.id)
                .unwrap_or_else(new_id);
            let zone = b
                .parties
                .first()
                .and_then(|c| self.parties.get(c).map(|p| p.zone.clone()));
            self.bodies.insert(b.key.clone(), (id, zone));
        }
        let mut planned = Vec::new();
        for (i, b) in file.bodies.iter().enumerate() {
            let path = format!("bodies[{i}]");
            let kind = self.word(
                &format!("{path}.kind"),
                &b.kind,
                BodyKind::parse,
                BodyKind::expected(),
            );
            let name = self.text(&format!("{path}.name"), &b.name);
            let parent_id = match &b.parent {
                Some(p) if p == &b.key => {
                    self.problem(format!("{path}.parent"), "a body cannot be its own parent");
                    None
                }
                Some(p) => self.body(&format!("{path}.parent"), p)?.map(|r| r.0),
                None => None,
            };
            let agreement_id = match &b.agreement {
                Some(a) => self.agreement(&format!("{path}.agreement"), a)?,
                None => None,
            };
            let mut members = Vec::new();
            for (j, code) in b.parties.iter().enumerate() {
                if let Some(p) = self.party(&format!("{path}.parties[{j}]"), code)? {
                    members.push(BodyPartyRow {
                        body_id: String::new(),
                        party_id: p.id,
                        co_chair: b.co_chairs.get(code).cloned(),
                    });
                }
            }
            for code in b.co_chairs.keys() {
                if !b.parties.contains(code) {
                    self.problem(
                        format!("{path}.co_chairs.{code}"),
                        format!("`{code}` is not one of the body's parties"),
                    );
                }
            }
            let id = self.bodies[&b.key].0.clone();
            if let Some(emails) = &b.secretariat {
                let mut wanted = Vec::new();
                for (j, email) in emails.iter().enumerate() {
                    let email = email.trim().to_lowercase();
                    let field = format!("{path}.secretariat[{j}]");
                    let in_file = file.organisations.iter().any(|o| {
                        o.contacts
                            .iter()
                            .any(|c| c.email.trim().to_lowercase() == email)
                    });
                    if wanted.contains(&email) {
                        self.problem(field, format!("`{email}` is named twice"));
                    } else if in_file
                        || !store::reminders::contacts_by_email(self.conn, &email)?.is_empty()
                    {
                        wanted.push(email);
                    } else {
                        self.problem(
                            field,
                            format!("`{email}` is not the email of a contact of any organisation"),
                        );
                    }
                }
                plan.secretariats.push((id.clone(), wanted));
            }
            planned.push((
                BodyRow {
                    id,
                    key: b.key.clone(),
                    kind: kind.map(|k| k.as_str()).unwrap_or_default().to_string(),
                    name,
                    parent_id,
                    agreement_id,
                    version: 1,
                    created_at: self.at,
                    updated_at: self.at,
                },
                members,
            ));
        }
        plan.bodies = parents_first(planned, |(b, _)| b.id.clone(), |(b, _)| b.parent_id.clone());
        Ok(())
    }

    fn plan_meetings(&mut self, file: &format::ImportFile, plan: &mut Plan) -> QueryResult<()> {
        let mut seen = HashSet::new();
        for (i, m) in file.meetings.iter().enumerate() {
            let path = format!("meetings[{i}]");
            self.unique(
                &mut seen,
                &format!("{path}.number"),
                &format!("{}#{}", m.body, m.number),
                "meeting",
            );
            let body = self.body(&format!("{path}.body"), &m.body)?;
            let number = match i32::try_from(m.number) {
                Ok(n) if n > 0 => n,
                _ => {
                    self.problem(
                        format!("{path}.number"),
                        format!("{} is not a meeting number (1 or more)", m.number),
                    );
                    1
                }
            };
            let title = self.text(&format!("{path}.title"), &m.title);
            let held_on = match parse_date(&m.date.text()) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.problem(format!("{path}.date"), e);
                    None
                }
            };
            let status = match &m.status {
                Some(s) => self.word(
                    &format!("{path}.status"),
                    s,
                    MeetingStatus::parse,
                    MeetingStatus::expected(),
                ),
                None => Some(MeetingStatus::Held),
            };
            let zone = match (&m.time_zone, body.as_ref().and_then(|b| b.1.clone())) {
                (Some(z), _) => self.zone(&format!("{path}.time_zone"), z),
                (None, Some(z)) => Some(z),
                (None, None) if m.time.is_some() => {
                    self.problem(
                        format!("{path}.time_zone"),
                        "a meeting with a time needs its time zone",
                    );
                    None
                }
                (None, None) => Some("UTC".to_string()),
            };
            let mut start_local = None;
            let mut starts_at = None;
            if let (Some(time), Some(date), Some(zone)) = (&m.time, held_on, &zone) {
                match NaiveTime::parse_from_str(&time.text(), "%H:%M") {
                    Ok(t) => {
                        let local = date.and_time(t);
                        match parse_zone(zone).map_err(|e| e.to_string()).and_then(|tz| {
                            resolve_local(local, tz, None).map_err(|e| e.to_string())
                        }) {
                            Ok(instant) => {
                                start_local = Some(local);
                                starts_at = Some(instant.naive_utc());
                            }
                            Err(e) => self.problem(format!("{path}.time"), e),
                        }
                    }
                    Err(_) => self.problem(
                        format!("{path}.time"),
                        format!("`{}` is not a time; write HH:MM", time.text()),
                    ),
                }
            }
            let (Some(body), Some(held_on)) = (body, held_on) else {
                continue;
            };
            let meeting_id = store::bodies::meeting_by_number(self.conn, &body.0, number)?
                .map(|r| r.id)
                .unwrap_or_else(new_id);
            let mut decisions = Vec::new();
            let mut decision_ids = HashMap::new();
            let mut numbers = HashSet::new();
            for (j, d) in m.decisions.iter().enumerate() {
                let dpath = format!("{path}.decisions[{j}]");
                let dnumber = d.number.text();
                self.unique(
                    &mut numbers,
                    &format!("{dpath}.number"),
                    &dnumber,
                    "decision",
                );
                let kind = self.word(
                    &format!("{dpath}.kind"),
                    &d.kind,
                    DecisionKind::parse,
                    DecisionKind::expected(),
                );
                let text = self.text(&format!("{dpath}.text"), &d.text);
                let id = store::bodies::decision_by_number(self.conn, &meeting_id, &dnumber)?
                    .map(|r| r.id)
                    .unwrap_or_else(new_id);
                decision_ids.insert(dnumber.clone(), id.clone());
                decisions.push(DecisionRow {
                    id,
                    meeting_id: meeting_id.clone(),
                    number: dnumber,
                    kind: kind.map(|k| k.as_str()).unwrap_or_default().to_string(),
                    text,
                    created_at: self.at,
                });
            }
            let mut obligation_numbers = HashSet::new();
            for (j, o) in m.obligations.iter().enumerate() {
                let opath = format!("{path}.obligations[{j}]");
                let onumber = o.number.text();
                self.unique(
                    &mut obligation_numbers,
                    &format!("{opath}.number"),
                    &onumber,
                    "obligation",
                );
                let decision_id = match &o.decision {
                    Some(d) => match decision_ids.get(&d.text()) {
                        Some(id) => Some(id.clone()),
                        None => {
                            self.problem(
                                format!("{opath}.decision"),
                                format!(
                                    "decision `{}` is not among this meeting's decisions",
                                    d.text()
                                ),
                            );
                            None
                        }
                    },
                    None => None,
                };
                let existing = store::obligations::by_number(
                    self.conn,
                    store::obligations::Owner::Meeting(&meeting_id),
                    &onumber,
                )?;
                let planned = self.obligation(
                    &opath,
                    o,
                    j,
                    existing.map(|r| r.id),
                    None,
                    None,
                    Some(meeting_id.clone()),
                    decision_id,
                    None,
                )?;
                plan.obligations.push(planned);
            }
            plan.meetings.push((
                MeetingRow {
                    id: meeting_id,
                    body_id: body.0,
                    number,
                    title,
                    held_on,
                    start_local,
                    time_zone: zone.unwrap_or_else(|| "UTC".into()),
                    starts_at,
                    tzdata_version: starts_at.map(|_| tzdata_version().to_string()),
                    city: m.city.clone(),
                    status: status.map(|s| s.as_str()).unwrap_or_default().to_string(),
                    source: m.source.as_ref().map(Scalar::text),
                    note: m.note.clone(),
                    version: 1,
                    created_at: self.at,
                    updated_at: self.at,
                },
                decisions,
            ));
        }
        Ok(())
    }

    fn plan_programmes(&mut self, file: &format::ImportFile, plan: &mut Plan) -> QueryResult<()> {
        let mut seen = HashSet::new();
        for (i, p) in file.programmes.iter().enumerate() {
            let path = format!("programmes[{i}]");
            self.key(&format!("{path}.key"), &p.key);
            self.unique(&mut seen, &format!("{path}.key"), &p.key, "programme");
            let title = self.text(&format!("{path}.title"), &p.title);
            let period = self
                .timeframe(&format!("{path}.period"), &p.period.text(), None)
                .and_then(|t| {
                    let period = t.period();
                    if period.is_none() {
                        self.problem(
                            format!("{path}.period"),
                            "a programme's period needs dates (e.g. 2024-2026)",
                        );
                    }
                    period
                });
            let agreement_id = match &p.agreement {
                Some(a) => self.agreement(&format!("{path}.agreement"), a)?,
                None => None,
            };
            let body_id = match &p.body {
                Some(b) => self.body(&format!("{path}.body"), b)?.map(|b| b.0),
                None => None,
            };
            let mut party_ids = Vec::new();
            for (j, code) in p.parties.iter().enumerate() {
                if let Some(party) = self.party(&format!("{path}.parties[{j}]"), code)? {
                    party_ids.push(party.id);
                }
            }
            let mut signatory_ids = Vec::new();
            for (j, key) in p.signatories.iter().enumerate() {
                if let Some(o) = self.organisation(&format!("{path}.signatories[{j}]"), key)? {
                    signatory_ids.push(o.id);
                }
            }
            let Some(period) = period else { continue };
            let id = store::programmes::by_key(self.conn, &p.key)?
                .map(|r| r.id)
                .unwrap_or_else(new_id);
            self.programmes.insert(p.key.clone(), (id.clone(), period));
            let mut sections = Vec::new();
            let mut codes = HashSet::new();
            let mut numbers = HashSet::new();
            let mut position = 0;
            for (j, s) in p.sections.iter().enumerate() {
                let spath = format!("{path}.sections[{j}]");
                self.key(&format!("{spath}.code"), &s.code);
                self.unique(&mut codes, &format!("{spath}.code"), &s.code, "section");
                let stitle = self.text(&format!("{spath}.title"), &s.title);
                let section_id = new_id();
                let section_id = store::programmes::sections_of(self.conn, &id)?
                    .into_iter()
                    .find(|r| r.code == s.code)
                    .map(|r| r.id)
                    .unwrap_or(section_id);
                sections.push(SectionRow {
                    id: section_id.clone(),
                    programme_id: id.clone(),
                    code: s.code.clone(),
                    title: stitle,
                    position: i32::try_from(j).unwrap_or(i32::MAX),
                    version: 1,
                    created_at: self.at,
                    updated_at: self.at,
                });
                for (k, o) in s.obligations.iter().enumerate() {
                    let opath = format!("{spath}.obligations[{k}]");
                    let number = o.number.text();
                    self.unique(
                        &mut numbers,
                        &format!("{opath}.number"),
                        &number,
                        "obligation number",
                    );
                    let existing = store::obligations::by_number(
                        self.conn,
                        store::obligations::Owner::Programme(&id),
                        &number,
                    )?;
                    let planned = self.obligation(
                        &opath,
                        o,
                        position,
                        existing.map(|r| r.id),
                        Some(id.clone()),
                        Some(section_id.clone()),
                        None,
                        None,
                        Some(period),
                    )?;
                    self.obligations
                        .insert((p.key.clone(), number), planned.row.id.clone());
                    plan.obligations.push(planned);
                    position += 1;
                }
            }
            plan.programmes.push(PlannedProgramme {
                row: ProgrammeRow {
                    id,
                    key: p.key.clone(),
                    title,
                    agreement_id,
                    body_id,
                    period_text: p.period.text(),
                    period_start: period.start,
                    period_end: period.end,
                    public: p.public,
                    illustrative: p.illustrative,
                    source: p.source.as_ref().map(Scalar::text),
                    note: p.note.clone(),
                    version: 1,
                    created_at: self.at,
                    updated_at: self.at,
                },
                party_ids,
                signatory_ids,
                sections,
            });
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn obligation(
        &mut self,
        path: &str,
        o: &format::Obligation,
        position: usize,
        existing_id: Option<String>,
        programme_id: Option<String>,
        section_id: Option<String>,
        meeting_id: Option<String>,
        decision_id: Option<String>,
        period: Option<Period>,
    ) -> QueryResult<PlannedObligation> {
        let id = existing_id.unwrap_or_else(new_id);
        let number = o.number.text();
        if number.trim().is_empty() || number.len() > 20 {
            self.problem(
                format!("{path}.number"),
                "an item number is 1 to 20 characters, e.g. 3.2",
            );
        }
        let text = self.text(&format!("{path}.text"), &o.text);
        let kind = self.word(
            &format!("{path}.kind"),
            &o.kind,
            ObligationKind::parse,
            ObligationKind::expected(),
        );
        let firmness = match &o.firmness {
            Some(f) => self.word(
                &format!("{path}.firmness"),
                f,
                Firmness::parse,
                Firmness::expected(),
            ),
            None => Some(Firmness::Binding),
        };
        let timeframe_text = o
            .timeframe
            .as_ref()
            .map(Scalar::text)
            .unwrap_or_else(|| "to be agreed".to_string());
        let timeframe = self.timeframe(&format!("{path}.timeframe"), &timeframe_text, period);
        if let (Some(t), Some(p)) = (&timeframe, period) {
            if let (Some(e), Some(l)) = (t.earliest, t.latest) {
                if l < p.start || e > p.end {
                    self.problem(
                        format!("{path}.timeframe"),
                        format!(
                            "{} lies outside the programme period {}..{}",
                            t.source, p.start, p.end
                        ),
                    );
                }
            }
        }
        let recurrence = match &o.recurrence {
            Some(r) => {
                let parsed = self.word(
                    &format!("{path}.recurrence"),
                    r,
                    ObligationRecurrence::parse,
                    ObligationRecurrence::expected(),
                );
                if period.is_none() {
                    self.problem(
                        format!("{path}.recurrence"),
                        "only a programme's items recur over its years",
                    );
                }
                parsed.map(|r| r.as_str().to_string())
            }
            None => None,
        };
        let quantities = match &o.quantities {
            Some(v) => match serde_json::from_value::<Quantities>(v.clone()) {
                Ok(q) => Some(serde_json::to_string(&q).unwrap_or_default()),
                Err(e) => {
                    self.problem(format!("{path}.quantities"), e.to_string());
                    None
                }
            },
            None => None,
        };
        let cost_terms = match &o.cost_terms {
            Some(v) => match serde_json::from_value::<CostTerms>(v.clone()) {
                Ok(c) => Some(serde_json::to_string(&c).unwrap_or_default()),
                Err(e) => {
                    self.problem(format!("{path}.cost_terms"), e.to_string());
                    None
                }
            },
            None => None,
        };
        let lifecycle = match &o.lifecycle {
            Some(l) => self.word(
                &format!("{path}.lifecycle"),
                l,
                Lifecycle::parse,
                format!("one of: {}", Lifecycle::ALL.map(|l| l.as_str()).join(", ")),
            ),
            None => Some(Lifecycle::Planned),
        };
        let mut assignments = Vec::new();
        for (j, a) in o.assignments.iter().enumerate() {
            let apath = format!("{path}.assignments[{j}]");
            let role = self.word(
                &format!("{apath}.role"),
                &a.role,
                AssignmentRole::parse,
                AssignmentRole::expected(),
            );
            let org = self.organisation(&format!("{apath}.organisation"), &a.organisation)?;
            let party_id = match &a.party {
                Some(code) => self.party(&format!("{apath}.party"), code)?.map(|p| p.id),
                None => org.as_ref().map(|o| o.party_id.clone()),
            };
            if let (Some(org), Some(party_id), Some(role)) = (org, party_id, role) {
                let row = AssignmentRow {
                    id: new_id(),
                    obligation_id: id.clone(),
                    organisation_id: org.id,
                    party_id,
                    role: role.as_str().to_string(),
                };
                if assignments.iter().any(|x: &AssignmentRow| {
                    x.organisation_id == row.organisation_id && x.role == row.role
                }) {
                    self.problem(
                        apath,
                        format!(
                            "organisation `{}` already has the role {} on this item",
                            a.organisation, role
                        ),
                    );
                } else {
                    assignments.push(row);
                }
            }
        }
        // The years a report may name: those of a yearly item's occurrences.
        let occurrence_years: Vec<i32> = match (&timeframe, period, &recurrence) {
            (Some(t), Some(p), Some(_)) => yearly_occurrences(t, p)
                .into_iter()
                .map(|o| o.year)
                .collect(),
            _ => Vec::new(),
        };
        let mut reports = Vec::new();
        let mut report_keys = HashSet::new();
        for (j, r) in o.reports.iter().enumerate() {
            let rpath = format!("{path}.reports[{j}]");
            let party = self.party(&format!("{rpath}.party"), &r.party)?;
            let occurrence_year = match r.occurrence_year {
                None => None,
                Some(_) if recurrence.is_none() => {
                    self.problem(
                        format!("{rpath}.occurrence_year"),
                        "this item does not recur yearly: report on it without an occurrence year",
                    );
                    None
                }
                Some(year) => {
                    match i32::try_from(year)
                        .ok()
                        .filter(|y| occurrence_years.contains(y))
                    {
                        Some(year) => Some(year),
                        None => {
                            let known = occurrence_years
                                .iter()
                                .map(i32::to_string)
                                .collect::<Vec<_>>()
                                .join(", ");
                            self.problem(
                            format!("{rpath}.occurrence_year"),
                            format!("{year} is not a year of this item; its occurrences are in {known}"),
                        );
                            None
                        }
                    }
                }
            };
            let as_of = match parse_date(&r.as_of.text()) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.problem(format!("{rpath}.as_of"), e);
                    None
                }
            };
            if let Some(d) = as_of {
                if d > self.at.date() {
                    self.problem(
                        format!("{rpath}.as_of"),
                        format!("{d} is in the future: a report states what has happened"),
                    );
                }
            }
            self.unique(
                &mut report_keys,
                &format!("{rpath}.as_of"),
                &format!("{} {}", r.party, r.as_of.text()),
                "report of party and date",
            );
            let rl = self.word(
                &format!("{rpath}.lifecycle"),
                &r.lifecycle,
                Lifecycle::parse,
                format!("one of: {}", Lifecycle::ALL.map(|l| l.as_str()).join(", ")),
            );
            let completion = self.word(
                &format!("{rpath}.completion"),
                &r.completion,
                Completion::parse,
                format!("one of: {}", Completion::ALL.map(|c| c.as_str()).join(", ")),
            );
            let narrative = r
                .narrative
                .as_ref()
                .map(|n| self.text(&format!("{rpath}.narrative"), n));
            let report_id = new_id();
            let mut items = Vec::new();
            for (k, e) in r.evidence.iter().enumerate() {
                let epath = format!("{rpath}.evidence[{k}]");
                let ekind = self.word(
                    &format!("{epath}.kind"),
                    &e.kind,
                    EvidenceKind::parse,
                    EvidenceKind::expected(),
                );
                if let Some(hash) = &e.sha256 {
                    if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
                        self.problem(
                            format!("{epath}.sha256"),
                            "a SHA-256 is 64 hexadecimal digits",
                        );
                    }
                }
                if e.description.is_none() && e.url.is_none() && e.sha256.is_none() {
                    self.problem(
                        epath.clone(),
                        "evidence needs a description, a url or a sha256",
                    );
                }
                items.push(EvidenceRow {
                    id: new_id(),
                    status_report_id: report_id.clone(),
                    kind: ekind.map(|k| k.as_str()).unwrap_or_default().to_string(),
                    description: e.description.clone(),
                    url: e.url.clone(),
                    sha256: e.sha256.as_ref().map(|h| h.to_lowercase()),
                    created_at: self.at,
                });
            }
            if let (Some(party), Some(as_of), Some(rl), Some(completion)) =
                (party, as_of, rl, completion)
            {
                reports.push((
                    StatusReportRow {
                        id: report_id,
                        obligation_id: id.clone(),
                        party_id: party.id,
                        lifecycle: rl.as_str().to_string(),
                        completion: completion.as_str().to_string(),
                        narrative,
                        as_of,
                        reported_at: self.at,
                        reporter: self.actor.clone(),
                        decision_id: None,
                        occurrence_year,
                    },
                    items,
                ));
            }
        }
        let lead_times = self.lead_times(path, &o.lead_times, AnchorKind::Obligation, &id)?;
        let timeframe =
            timeframe.unwrap_or_else(|| Timeframe::to_be_agreed(timeframe_text.clone()));
        let search_text = store::obligations::search_text(&number, &text);
        Ok(PlannedObligation {
            row: ObligationRow {
                id,
                programme_id,
                section_id,
                meeting_id,
                decision_id,
                number,
                position: i32::try_from(position).unwrap_or(i32::MAX),
                text,
                kind: kind.map(|k| k.as_str()).unwrap_or_default().to_string(),
                firmness: firmness.map(|k| k.as_str()).unwrap_or_default().to_string(),
                quantities,
                cost_terms,
                timeframe_kind: timeframe.kind.as_str().to_string(),
                timeframe_text: timeframe.source.clone(),
                earliest: timeframe.earliest,
                latest: timeframe.latest,
                recurrence,
                lifecycle: lifecycle
                    .map(|l| l.as_str())
                    .unwrap_or_default()
                    .to_string(),
                version: 1,
                created_at: self.at,
                updated_at: self.at,
                search_text,
            },
            assignments,
            reports,
            lead_times,
        })
    }

    fn plan_events(&mut self, file: &format::ImportFile, plan: &mut Plan) -> QueryResult<()> {
        let mut seen = HashSet::new();
        for (i, e) in file.events.iter().enumerate() {
            let path = format!("events[{i}]");
            self.key(&format!("{path}.key"), &e.key);
            self.unique(&mut seen, &format!("{path}.key"), &e.key, "event");
            let title = self.text(&format!("{path}.title"), &e.title);
            let kind = self.word(
                &format!("{path}.kind"),
                &e.kind,
                EventKind::parse,
                EventKind::expected(),
            );
            let status = match &e.status {
                Some(s) => self.word(
                    &format!("{path}.status"),
                    s,
                    EventStatus::parse,
                    EventStatus::expected(),
                ),
                None => Some(EventStatus::Tentative),
            };
            let mut row = EventRow {
                id: String::new(),
                key: Some(e.key.clone()),
                title,
                kind: kind.map(|k| k.as_str()).unwrap_or_default().to_string(),
                status: status.map(|s| s.as_str()).unwrap_or_default().to_string(),
                schedule: String::new(),
                timeframe_kind: String::new(),
                timeframe_text: String::new(),
                earliest: None,
                latest: None,
                start_local: None,
                end_local: None,
                time_zone: None,
                starts_at: None,
                ends_at: None,
                tzdata_version: None,
                recurrence: None,
                host_party_id: None,
                guest_party_id: None,
                city: e.city.clone(),
                venue: e.venue.clone(),
                source: e.source.as_ref().map(Scalar::text),
                note: e.note.clone(),
                sequence: 0,
                version: 1,
                created_at: self.at,
                updated_at: self.at,
                exdates: None,
            };
            match (&e.when, &e.start) {
                (Some(_), Some(_)) => self.problem(
                    format!("{path}.start"),
                    "give either `when` (dates) or `start` (a local time), not both",
                ),
                (None, None) => self.problem(
                    path.clone(),
                    "an event needs `when` (dates) or `start` (a local time)",
                ),
                (Some(when), None) => {
                    if e.end.is_some() || e.time_zone.is_some() {
                        self.problem(
                            format!("{path}.when"),
                            "`end` and `time_zone` go with `start`, not with `when`",
                        );
                    }
                    if let Some(t) = self.timeframe(&format!("{path}.when"), &when.text(), None) {
                        row.schedule = match t.kind {
                            TimeframeKind::Date | TimeframeKind::Range => EventSchedule::AllDay,
                            _ => EventSchedule::Approximate,
                        }
                        .as_str()
                        .to_string();
                        row.timeframe_kind = t.kind.as_str().to_string();
                        row.timeframe_text = t.source.clone();
                        row.earliest = t.earliest;
                        row.latest = t.latest;
                    }
                }
                (None, Some(start)) => self.timed_event(&path, e, start, &mut row),
            }
            if let Some(code) = &e.host {
                row.host_party_id = self.party(&format!("{path}.host"), code)?.map(|p| p.id);
            }
            if let Some(code) = &e.guest {
                row.guest_party_id = self.party(&format!("{path}.guest"), code)?.map(|p| p.id);
            }
            let mut organisers = Vec::new();
            for (j, key) in e.organisers.iter().enumerate() {
                if let Some(o) = self.organisation(&format!("{path}.organisers[{j}]"), key)? {
                    organisers.push(EventOrganisationRow {
                        event_id: String::new(),
                        organisation_id: o.id,
                        role: EventOrganisationRole::Organiser.as_str().to_string(),
                    });
                }
            }
            let mut fulfils = Vec::new();
            for (j, r) in e.fulfils.iter().enumerate() {
                let rpath = format!("{path}.fulfils[{j}]");
                let number = r.number.text();
                if let Some(id) = self.obligations.get(&(r.programme.clone(), number.clone())) {
                    fulfils.push(id.clone());
                    continue;
                }
                let programme = match self.programmes.get(&r.programme) {
                    Some((id, _)) => Some(id.clone()),
                    None => store::programmes::by_key(self.conn, &r.programme)?.map(|p| p.id),
                };
                let found = match &programme {
                    Some(pid) => store::obligations::by_number(
                        self.conn,
                        store::obligations::Owner::Programme(pid),
                        &number,
                    )?,
                    None => None,
                };
                match found {
                    Some(o) => fulfils.push(o.id),
                    None => self.problem(rpath, format!("item {number} of programme `{}` is neither in this file nor in the database", r.programme)),
                }
            }
            row.id = store::events::by_key(self.conn, &e.key)?
                .map(|r| r.id)
                .unwrap_or_else(new_id);
            let lead_times = self.lead_times(&path, &e.lead_times, AnchorKind::Event, &row.id)?;
            plan.events.push(PlannedEvent {
                row,
                organisers,
                fulfils,
                lead_times,
            });
        }
        Ok(())
    }

    fn timed_event(&mut self, path: &str, e: &format::Event, start: &Scalar, row: &mut EventRow) {
        let Some(zone_name) = &e.time_zone else {
            self.problem(
                format!("{path}.time_zone"),
                "an event with a start time needs its IANA time zone",
            );
            return;
        };
        let Some(zone) = self.zone(&format!("{path}.time_zone"), zone_name) else {
            return;
        };
        let Ok(tz) = parse_zone(&zone) else { return };
        let (start_local, start_offset) = match parse_wall_time(&start.text()) {
            Ok(v) => v,
            Err(e) => {
                self.problem(format!("{path}.start"), e);
                return;
            }
        };
        let starts_at = match resolve_local(start_local, tz, start_offset) {
            Ok(t) => t,
            Err(err) => {
                self.problem(format!("{path}.start"), err.to_string());
                return;
            }
        };
        let mut end = None;
        if let Some(end_text) = &e.end {
            match parse_wall_time(&end_text.text()) {
                Ok((end_local, end_offset)) => match resolve_local(end_local, tz, end_offset) {
                    Ok(ends_at) if ends_at < starts_at => {
                        self.problem(format!("{path}.end"), "the event ends before it starts")
                    }
                    Ok(ends_at) => end = Some((end_local, ends_at)),
                    Err(err) => self.problem(format!("{path}.end"), err.to_string()),
                },
                Err(err) => self.problem(format!("{path}.end"), err),
            }
        }
        let first = start_local.date();
        let last = end.map(|(l, _)| l.date()).unwrap_or(first);
        row.schedule = EventSchedule::Timed.as_str().to_string();
        row.timeframe_kind = if first == last {
            TimeframeKind::Date
        } else {
            TimeframeKind::Range
        }
        .as_str()
        .to_string();
        row.timeframe_text = start.text();
        row.earliest = Some(first);
        row.latest = Some(last);
        row.start_local = Some(start_local);
        row.end_local = end.map(|(l, _)| l);
        row.time_zone = Some(zone);
        row.starts_at = Some(starts_at.naive_utc());
        row.ends_at = end.map(|(_, u)| u.naive_utc());
        row.tzdata_version = Some(tzdata_version().to_string());
    }
}

/// Orders records so that each comes after its parent (when the parent is in
/// the same list); a cycle is left in file order and caught by the foreign key.
fn parents_first<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> String,
    parent: impl Fn(&T) -> Option<String>,
) -> Vec<T> {
    let ids: HashSet<String> = items.iter().map(&id).collect();
    let mut placed: HashSet<String> = HashSet::new();
    let mut pending: Vec<T> = items;
    let mut ordered = Vec::with_capacity(pending.len());
    loop {
        let before = pending.len();
        let (ready, rest): (Vec<T>, Vec<T>) =
            pending.into_iter().partition(|item| match parent(item) {
                Some(p) => !ids.contains(&p) || placed.contains(&p),
                None => true,
            });
        for item in &ready {
            placed.insert(id(item));
        }
        ordered.extend(ready);
        pending = rest;
        if pending.is_empty() || pending.len() == before {
            ordered.extend(pending);
            return ordered;
        }
    }
}
