//! `accord import <file>`: programmes, protocols, agreements, parties,
//! organisations and events from YAML (docs/import-format.md). The whole file
//! is checked before anything is written; it is written in one transaction;
//! records are matched on natural keys, so importing twice changes nothing.

pub mod format;
mod locate;
pub mod plan;

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::db::Conn;
use crate::notify::planner::{Item, PlanSettings};
use crate::store::{self, Outcome, WriteContext};

/// A problem with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located {
    pub line: Option<usize>,
    pub path: String,
    pub message: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.path.is_empty()) {
            (Some(line), false) => write!(f, "line {line}: {}: {}", self.path, self.message),
            (Some(line), true) => write!(f, "line {line}: {}", self.message),
            (None, false) => write!(f, "{}: {}", self.path, self.message),
            (None, true) => write!(f, "{}", self.message),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{} problem(s) in the file; nothing was imported", .0.len())]
    Invalid(Vec<Located>),
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
}

/// What an import did, per kind of record.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub created: std::collections::BTreeMap<&'static str, usize>,
    pub updated: std::collections::BTreeMap<&'static str, usize>,
    pub unchanged: std::collections::BTreeMap<&'static str, usize>,
}

impl Summary {
    fn count(&mut self, what: &'static str, outcome: Outcome) {
        let map = match outcome {
            Outcome::Created => &mut self.created,
            Outcome::Updated => &mut self.updated,
            Outcome::Unchanged => &mut self.unchanged,
        };
        *map.entry(what).or_default() += 1;
    }

    pub fn changed_anything(&self) -> bool {
        !self.created.is_empty() || !self.updated.is_empty()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |m: &std::collections::BTreeMap<&'static str, usize>| {
            if m.is_empty() {
                "nothing".to_string()
            } else {
                m.iter()
                    .map(|(k, v)| format!("{v} {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        write!(
            f,
            "created {}; updated {}; unchanged {}",
            list(&self.created),
            list(&self.updated),
            list(&self.unchanged)
        )
    }
}

pub fn import_file(
    conn: &mut Conn,
    path: &Path,
    ctx: &WriteContext,
) -> Result<Summary, ImportError> {
    let source = std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })?;
    import_str(conn, &source, ctx)
}

/// Parses, checks and writes one import document. On any problem nothing is written.
/// The unsent reminders of items it changed are cancelled in its transaction;
/// the planner's next pass queues (or revives) those that still hold. With
/// the mail settings at hand, `import_str_replanned` re-plans at once instead.
pub fn import_str(
    conn: &mut Conn,
    source: &str,
    ctx: &WriteContext,
) -> Result<Summary, ImportError> {
    import_with(conn, source, ctx, None)
}

/// `import_file` that re-plans the reminders of the items it changed in its
/// own transaction, as an API write does (and tells those invited to a
/// changed event).
pub fn import_file_replanned(
    conn: &mut Conn,
    path: &Path,
    ctx: &WriteContext,
    settings: &PlanSettings,
) -> Result<Summary, ImportError> {
    let source = std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })?;
    import_str_replanned(conn, &source, ctx, settings)
}

/// `import_str` that re-plans the reminders of the items it changed in its
/// own transaction.
pub fn import_str_replanned(
    conn: &mut Conn,
    source: &str,
    ctx: &WriteContext,
    settings: &PlanSettings,
) -> Result<Summary, ImportError> {
    import_with(conn, source, ctx, Some(settings))
}

fn import_with(
    conn: &mut Conn,
    source: &str,
    ctx: &WriteContext,
    settings: Option<&PlanSettings>,
) -> Result<Summary, ImportError> {
    let file: format::ImportFile = match serde_norway::from_str(source) {
        Ok(f) => f,
        Err(e) => {
            return Err(ImportError::Invalid(vec![Located {
                line: e.location().map(|l| l.line()),
                path: String::new(),
                message: e.to_string(),
            }]))
        }
    };
    let lines = locate::Lines::of(source);
    crate::db::write_transaction(conn, |conn| {
        let plan = match plan::plan(conn, &file, ctx.at, &ctx.actor)? {
            Ok(plan) => plan,
            Err(problems) => {
                let located = problems
                    .into_iter()
                    .map(|p| Located {
                        line: lines.line(&p.path),
                        path: p.path,
                        message: p.message,
                    })
                    .collect();
                return Err(ImportError::Invalid(located));
            }
        };
        Ok(apply(conn, ctx, plan, settings)?)
    })
}

fn apply(
    conn: &mut Conn,
    ctx: &WriteContext,
    plan: plan::Plan,
    settings: Option<&PlanSettings>,
) -> diesel::QueryResult<Summary> {
    let mut summary = Summary::default();
    for row in plan.parties {
        let (_, outcome) = store::parties::upsert(conn, ctx, row)?;
        summary.count("parties", outcome);
    }
    for (row, contacts) in plan.organisations {
        let (_, outcome) = store::organisations::upsert(conn, ctx, row)?;
        summary.count("organisations", outcome);
        for contact in contacts {
            let (_, outcome) = store::organisations::upsert_contact(conn, ctx, contact)?;
            summary.count("contacts", outcome);
        }
    }
    let mut changed_agreements: Vec<Item> = Vec::new();
    for (row, parties, signatories) in plan.agreements {
        let (agreement, outcome) =
            store::agreements::upsert(conn, ctx, row, &parties, &signatories)?;
        summary.count("agreements", outcome);
        if outcome == Outcome::Updated {
            changed_agreements.push(Item::Agreement(agreement.id));
        }
    }
    // Records whose dates or status changed: their unsent reminders are
    // cancelled below (the planner's next pass queues what holds now).
    let mut changed: Vec<Item> = Vec::new();
    for (row, members) in plan.bodies {
        let (_, outcome) = store::bodies::upsert(conn, ctx, row, &members)?;
        summary.count("bodies", outcome);
    }
    for (body_id, emails) in plan.secretariats {
        // A contact named by email: the first of that email (by id) when
        // several organisations list the same person.
        let mut ids = Vec::new();
        for email in &emails {
            if let Some(c) = store::reminders::contacts_by_email(conn, email)?.first() {
                ids.push(c.id.clone());
            }
        }
        let outcome = if store::reminders::replace_secretariat(conn, ctx, &body_id, &ids)? {
            Outcome::Updated
        } else {
            Outcome::Unchanged
        };
        summary.count("body secretariats", outcome);
    }
    for (row, decisions) in plan.meetings {
        let (meeting, outcome) = store::bodies::upsert_meeting(conn, ctx, row)?;
        summary.count("meetings", outcome);
        if outcome == Outcome::Updated {
            changed.push(Item::Meeting(meeting.id.clone()));
        }
        for decision in decisions {
            let (_, outcome) = store::bodies::upsert_decision(conn, ctx, decision)?;
            summary.count("decisions", outcome);
        }
    }
    let mut programme_ids = Vec::new();
    for planned in plan.programmes {
        let (programme, outcome) = store::programmes::upsert(
            conn,
            ctx,
            planned.row,
            &planned.party_ids,
            &planned.signatory_ids,
        )?;
        summary.count("programmes", outcome);
        programme_ids.push(programme.id.clone());
        if outcome == Outcome::Updated {
            // A new period moves its yearly items and those of the whole period.
            changed.extend(
                store::obligations::of_owner(
                    conn,
                    store::obligations::Owner::Programme(&programme.id),
                )?
                .into_iter()
                .map(|o| Item::Obligation(o.id)),
            );
        }
        for section in planned.sections {
            let section = store::programmes::SectionRow {
                programme_id: programme.id.clone(),
                ..section
            };
            let (_, outcome) = store::programmes::upsert_section(conn, ctx, section)?;
            summary.count("sections", outcome);
        }
    }
    for planned in plan.obligations {
        let owner = match (&planned.row.programme_id, &planned.row.meeting_id) {
            (Some(p), _) => store::obligations::Owner::Programme(p),
            (None, Some(m)) => store::obligations::Owner::Meeting(m),
            (None, None) => continue,
        };
        let (obligation, mut outcome) =
            store::obligations::upsert(conn, ctx, owner, planned.row.clone())?;
        if store::obligations::replace_assignments(conn, ctx, &obligation.id, &planned.assignments)?
            && outcome == Outcome::Unchanged
        {
            outcome = Outcome::Updated;
        }
        summary.count("obligations", outcome);
        let mut reported = false;
        for (report, evidence) in planned.reports {
            if store::reports::exists(conn, &obligation.id, &report.party_id, report.as_of)? {
                summary.count("status reports", Outcome::Unchanged);
                continue;
            }
            store::reports::append(conn, ctx, &report, &evidence)?;
            summary.count("status reports", Outcome::Created);
            reported = true;
        }
        // A new item has no reminders yet; a changed or newly reported one may have stale ones.
        if outcome == Outcome::Updated || (reported && outcome == Outcome::Unchanged) {
            changed.push(Item::Obligation(obligation.id.clone()));
        }
        for row in planned.lead_times {
            let row = store::lead_times::LeadTimeRow {
                obligation_id: Some(obligation.id.clone()),
                ..row
            };
            let (rule, outcome) = store::lead_times::upsert(conn, ctx, row)?;
            summary.count("lead times", outcome);
            if outcome == Outcome::Updated {
                changed.push(Item::LeadTime(rule.id));
            }
        }
    }
    // A changed period moves the occurrences of yearly items the file does not list too.
    for programme_id in &programme_ids {
        store::obligations::sync_programme_occurrences(conn, programme_id)?;
    }
    for planned in plan.events {
        let (event, outcome) = store::events::upsert(
            conn,
            ctx,
            planned.row,
            &planned.organisers,
            &planned.fulfils,
        )?;
        summary.count("events", outcome);
        if outcome == Outcome::Updated {
            changed.push(Item::Event(event.id.clone()));
        }
        for row in planned.lead_times {
            let row = store::lead_times::LeadTimeRow {
                event_id: Some(event.id.clone()),
                ..row
            };
            let (rule, outcome) = store::lead_times::upsert(conn, ctx, row)?;
            summary.count("lead times", outcome);
            if outcome == Outcome::Updated {
                changed.push(Item::LeadTime(rule.id));
            }
        }
    }
    changed.extend(changed_agreements);
    match settings {
        Some(settings) => {
            crate::notify::planner::replan_items(conn, ctx.at.and_utc(), settings, &changed)?;
        }
        None => {
            crate::notify::planner::forget_items(conn, ctx.at.and_utc(), &changed)?;
        }
    }
    Ok(summary)
}
