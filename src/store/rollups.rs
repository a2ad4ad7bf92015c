//! Gathers the items of a programme or protocol with their assignments,
//! contacts, sections and reports for `report::rollup` and `report::table`.
//! Read-only.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::obligations::{ObligationRow, Owner};
use super::reports::ReportView;
use crate::db::schema::audit_log;
use crate::db::Conn;
use crate::domain::status::{Completion, Lifecycle, PartyStatus};
use crate::domain::timeframe::{Timeframe, TimeframeKind};
use crate::domain::LocalizedText;
use crate::report::rollup::{self, ContactRef, ResponsibleRef, Rollup, RollupItem, SectionRef};
use crate::report::table::{
    EvidenceRef, ImplementationTable, PartyCell, PartyOrganisations, TableRow,
};
use crate::store;

/// A stored value that does not parse: reported as a database deserialisation error.
fn corrupt(what: &str, value: impl std::fmt::Display) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(
        format!("stored {what} is not valid: {value}").into(),
    )
}

fn text(json: &str) -> QueryResult<LocalizedText> {
    LocalizedText::from_json(json).map_err(|e| corrupt("text", e))
}

/// A programme by id, or else by key.
pub fn find_programme(
    conn: &mut Conn,
    id_or_key: &str,
) -> QueryResult<Option<store::programmes::ProgrammeRow>> {
    match store::programmes::by_id(conn, id_or_key)? {
        Some(row) => Ok(Some(row)),
        None => store::programmes::by_key(conn, id_or_key),
    }
}

/// Items with what the roll-up and the table need, and every report row.
struct Gathered {
    items: Vec<RollupItem>,
    rows: Vec<ObligationRow>,
    reports: HashMap<String, Vec<ReportView>>,
}

fn gather(conn: &mut Conn, owner: Owner<'_>, programme_id: Option<&str>) -> QueryResult<Gathered> {
    let rows = store::obligations::of_owner(conn, owner)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let sections: HashMap<String, SectionRef> = match programme_id {
        Some(p) => store::programmes::sections_of(conn, p)?
            .into_iter()
            .map(|s| {
                Ok((
                    s.id.clone(),
                    SectionRef {
                        title: text(&s.title)?,
                        id: s.id,
                        code: s.code,
                        position: s.position,
                    },
                ))
            })
            .collect::<QueryResult<_>>()?,
        None => HashMap::new(),
    };
    let assignments = store::obligations::assignments_of(conn, &ids)?;
    let organisation_ids: Vec<String> = assignments
        .iter()
        .map(|a| a.organisation_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut contacts: HashMap<String, Vec<ContactRef>> = HashMap::new();
    for c in store::organisations::contacts_of(conn, &organisation_ids)? {
        if c.active {
            contacts
                .entry(c.organisation_id.clone())
                .or_default()
                .push(ContactRef {
                    name: c.name,
                    email: c.email,
                    role: c.role,
                });
        }
    }
    let mut responsible: HashMap<String, Vec<ResponsibleRef>> = HashMap::new();
    for a in assignments {
        responsible
            .entry(a.obligation_id.clone())
            .or_default()
            .push(ResponsibleRef {
                organisation: text(&a.organisation_name)?,
                contacts: contacts
                    .get(&a.organisation_id)
                    .cloned()
                    .unwrap_or_default(),
                organisation_id: a.organisation_id,
                organisation_key: a.organisation_key,
                party: a.party_code,
                role: a.role,
            });
    }
    let mut reports: HashMap<String, Vec<ReportView>> = HashMap::new();
    for r in store::reports::of_obligations(conn, &ids)? {
        reports
            .entry(r.report.obligation_id.clone())
            .or_default()
            .push(r);
    }
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let kind = TimeframeKind::parse(&row.timeframe_kind)
            .ok_or_else(|| corrupt("timeframe kind", &row.timeframe_kind))?;
        let timeframe =
            Timeframe::from_parts(kind, row.timeframe_text.clone(), row.earliest, row.latest)
                .map_err(|e| corrupt("timeframe", e))?;
        let statuses = reports
            .get(&row.id)
            .map(|list| {
                list.iter()
                    .map(party_status)
                    .collect::<QueryResult<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();
        items.push(RollupItem {
            obligation_id: row.id.clone(),
            number: row.number.clone(),
            text: text(&row.text)?,
            section: row
                .section_id
                .as_ref()
                .and_then(|s| sections.get(s).cloned()),
            timeframe,
            lifecycle: Lifecycle::parse(&row.lifecycle)
                .ok_or_else(|| corrupt("lifecycle", &row.lifecycle))?,
            responsible: responsible.remove(&row.id).unwrap_or_default(),
            reports: statuses,
        });
    }
    Ok(Gathered {
        items,
        rows,
        reports,
    })
}

/// As of a past date, the items' own lifecycle and timeframe as they were
/// then (a later decision may have postponed or cancelled them).
fn as_they_were(conn: &mut Conn, g: &mut Gathered, as_of: Option<NaiveDate>) -> QueryResult<()> {
    let Some(day) = as_of else {
        return Ok(());
    };
    let mut past = past_items(conn, &g.rows, day)?;
    for item in &mut g.items {
        if let Some(then) = past.remove(&item.obligation_id) {
            item.lifecycle = then.lifecycle;
            item.timeframe = then.timeframe;
        }
    }
    Ok(())
}

fn party_status(r: &ReportView) -> QueryResult<PartyStatus> {
    Ok(PartyStatus {
        party: r.party_code.clone(),
        lifecycle: Lifecycle::parse(&r.report.lifecycle)
            .ok_or_else(|| corrupt("lifecycle", &r.report.lifecycle))?,
        completion: Completion::parse(&r.report.completion)
            .ok_or_else(|| corrupt("completion", &r.report.completion))?,
        as_of: r.report.as_of,
        reported_at: r.report.reported_at,
    })
}

/// The roll-up of a programme (by id or key) as of a date (None: every
/// report), assessed on `as_of.unwrap_or(today)`. None: no such programme.
pub fn programme_rollup(
    conn: &mut Conn,
    programme_id: &str,
    as_of: Option<NaiveDate>,
    today: NaiveDate,
    due_soon_days: u32,
) -> QueryResult<Option<Rollup>> {
    let Some(programme) = find_programme(conn, programme_id)? else {
        return Ok(None);
    };
    let mut g = gather(conn, Owner::Programme(&programme.id), Some(&programme.id))?;
    as_they_were(conn, &mut g, as_of)?;
    Ok(Some(rollup::compute(&g.items, as_of, today, due_soon_days)))
}

/// The roll-up of a meeting's protocol (its items with `meeting_id`). None: no such meeting.
pub fn meeting_rollup(
    conn: &mut Conn,
    meeting_id: &str,
    as_of: Option<NaiveDate>,
    today: NaiveDate,
    due_soon_days: u32,
) -> QueryResult<Option<Rollup>> {
    if store::bodies::meeting_by_id(conn, meeting_id)?.is_none() {
        return Ok(None);
    }
    let mut g = gather(conn, Owner::Meeting(meeting_id), None)?;
    as_they_were(conn, &mut g, as_of)?;
    Ok(Some(rollup::compute(&g.items, as_of, today, due_soon_days)))
}

/// The implementation table of a programme (by id or key) as of a date (None:
/// every report). None: no such programme. Overdue is assessed on
/// `as_of.unwrap_or(today)`.
pub fn implementation_table(
    conn: &mut Conn,
    programme_id: &str,
    as_of: Option<NaiveDate>,
    today: NaiveDate,
    due_soon_days: u32,
) -> QueryResult<Option<ImplementationTable>> {
    let Some(programme) = find_programme(conn, programme_id)? else {
        return Ok(None);
    };
    let mut g = gather(conn, Owner::Programme(&programme.id), Some(&programme.id))?;
    as_they_were(conn, &mut g, as_of)?;
    let totals = rollup::compute(&g.items, as_of, today, due_soon_days);
    let day = as_of.unwrap_or(today);
    let mut parties: BTreeSet<String> =
        store::programmes::party_codes(conn, std::slice::from_ref(&programme.id))?
            .into_iter()
            .map(|(_, code)| code)
            .collect();
    for item in &g.items {
        parties.extend(item.responsible.iter().map(|r| r.party.clone()));
    }
    let overdue: BTreeSet<&str> = totals
        .overdue
        .iter()
        .map(|i| i.obligation_id.as_str())
        .collect();
    // The latest report rows, to show their narrative and evidence.
    let mut chosen: Vec<(usize, String, &ReportView)> = Vec::new();
    for (index, item) in g.items.iter().enumerate() {
        let views = g
            .reports
            .get(&item.obligation_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for latest in rollup::latest_on(&item.reports, as_of) {
            // Of identical keys the later appended wins, as in latest_per_party.
            if let Some(view) = views.iter().rev().find(|v| {
                v.party_code == latest.party
                    && v.report.as_of == latest.as_of
                    && v.report.reported_at == latest.reported_at
            }) {
                chosen.push((index, latest.party.clone(), view));
            }
        }
    }
    let report_ids: Vec<String> = chosen.iter().map(|(_, _, v)| v.report.id.clone()).collect();
    let mut evidence: HashMap<String, Vec<EvidenceRef>> = HashMap::new();
    for e in store::reports::evidence_of(conn, &report_ids)? {
        evidence
            .entry(e.status_report_id.clone())
            .or_default()
            .push(EvidenceRef {
                kind: e.kind,
                description: e.description,
                url: e.url,
            });
    }
    let mut cells: HashMap<(usize, String), PartyCell> = HashMap::new();
    for (index, party, view) in chosen {
        let status = party_status(view)?;
        cells.insert(
            (index, party.clone()),
            PartyCell {
                party,
                lifecycle: Some(status.lifecycle),
                completion: status.completion,
                as_of: Some(status.as_of),
                narrative: view.report.narrative.as_deref().map(text).transpose()?,
                evidence: evidence.remove(&view.report.id).unwrap_or_default(),
            },
        );
    }
    let parties: Vec<String> = parties.into_iter().collect();
    let mut rows = Vec::with_capacity(g.items.len());
    for (index, (item, row)) in g.items.iter().zip(&g.rows).enumerate() {
        let latest = rollup::latest_on(&item.reports, as_of);
        let responsible_parties = rollup::responsible_parties(item);
        let responsible: Vec<&str> = responsible_parties.iter().map(String::as_str).collect();
        let status = crate::domain::status::overall(item.lifecycle, &responsible, &latest);
        let mut by_party: Vec<PartyOrganisations> = Vec::new();
        for r in &item.responsible {
            match by_party.iter_mut().find(|p| p.party == r.party) {
                Some(p) => {
                    if !p.organisations.contains(&r.organisation) {
                        p.organisations.push(r.organisation.clone());
                    }
                }
                None => by_party.push(PartyOrganisations {
                    party: r.party.clone(),
                    organisations: vec![r.organisation.clone()],
                }),
            }
        }
        rows.push(TableRow {
            obligation_id: row.id.clone(),
            number: item.number.clone(),
            text: item.text.clone(),
            section_code: item.section.as_ref().map(|s| s.code.clone()),
            section: item.section.as_ref().map(|s| s.title.clone()),
            timeframe: item.timeframe.source.clone(),
            due: item.timeframe.due(),
            lifecycle: status.lifecycle,
            overdue: overdue.contains(item.obligation_id.as_str()),
            responsible: by_party,
            status: parties
                .iter()
                .map(|party| {
                    cells.remove(&(index, party.clone())).unwrap_or(PartyCell {
                        party: party.clone(),
                        lifecycle: None,
                        completion: Completion::NoEvidence,
                        as_of: None,
                        narrative: None,
                        evidence: vec![],
                    })
                })
                .collect(),
        });
    }
    Ok(Some(ImplementationTable {
        programme_id: programme.id,
        programme_key: programme.key,
        programme_title: text(&programme.title)?,
        as_of: day,
        parties,
        rows,
        totals: totals.totals,
    }))
}

/// The last meeting of the programme's body held before `today` (status held,
/// or planned with its date passed; postponed and cancelled ones were not held).
pub fn last_meeting(
    conn: &mut Conn,
    programme: &store::programmes::ProgrammeRow,
    today: NaiveDate,
) -> QueryResult<Option<store::bodies::MeetingRow>> {
    let Some(body_id) = &programme.body_id else {
        return Ok(None);
    };
    Ok(store::bodies::meetings_of(conn, body_id)?
        .into_iter()
        .filter(|m| m.held_on < today && matches!(m.status.as_str(), "held" | "planned"))
        .max_by_key(|m| (m.held_on, m.number)))
}

/// Item ids per query of `past_items` (SQLite allows 32,766 bound values).
const PAST_CHUNK: usize = 10_000;

/// The obligation's own lifecycle and timeframe on `since`: the before-image
/// of its first update after that day, if any (the audit log keeps them).
fn past_items(
    conn: &mut Conn,
    rows: &[ObligationRow],
    since: NaiveDate,
) -> QueryResult<std::collections::BTreeMap<String, rollup::PastItem>> {
    #[derive(serde::Deserialize)]
    struct Before {
        lifecycle: String,
        timeframe_kind: String,
        timeframe_text: String,
        earliest: Option<NaiveDate>,
        latest: Option<NaiveDate>,
    }
    // One query for every item (not one per item): the updates after that
    // day, each item's earliest first; the first one's before-image is the
    // item as it was. Chunked to stay under the backends' bind limits.
    let after = (since + chrono::Duration::days(1)).and_time(chrono::NaiveTime::MIN);
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut first: HashMap<String, Option<String>> = HashMap::new();
    for chunk in ids.chunks(PAST_CHUNK) {
        let later: Vec<(String, Option<String>)> = audit_log::table
            .filter(audit_log::action.eq("update"))
            .filter(audit_log::entity.eq("obligation"))
            .filter(audit_log::entity_id.eq_any(chunk))
            .filter(audit_log::at.ge(after))
            .order((audit_log::entity_id.asc(), audit_log::at.asc()))
            .select((audit_log::entity_id, audit_log::before))
            .load(conn)?;
        for (entity_id, before) in later {
            first.entry(entity_id).or_insert(before);
        }
    }
    let mut past = std::collections::BTreeMap::new();
    for (id, before) in first {
        let Some(before) = before else {
            continue;
        };
        let before: Before =
            serde_json::from_str(&before).map_err(|e| corrupt("audit before-image", e))?;
        let kind = TimeframeKind::parse(&before.timeframe_kind)
            .ok_or_else(|| corrupt("timeframe kind", &before.timeframe_kind))?;
        let timeframe =
            Timeframe::from_parts(kind, before.timeframe_text, before.earliest, before.latest)
                .map_err(|e| corrupt("timeframe", e))?;
        let lifecycle = Lifecycle::parse(&before.lifecycle)
            .ok_or_else(|| corrupt("lifecycle", &before.lifecycle))?;
        past.insert(
            id,
            rollup::PastItem {
                lifecycle,
                timeframe,
            },
        );
    }
    Ok(past)
}

/// What changed in a programme's items since a date (see `report::rollup::changes`).
/// None: no such programme.
pub fn changes(
    conn: &mut Conn,
    programme_id: &str,
    since: NaiveDate,
) -> QueryResult<Option<Vec<rollup::ItemChange>>> {
    let Some(programme) = find_programme(conn, programme_id)? else {
        return Ok(None);
    };
    let g = gather(conn, Owner::Programme(&programme.id), Some(&programme.id))?;
    let past = past_items(conn, &g.rows, since)?;
    Ok(Some(rollup::changes(&g.items, &past, since)))
}
