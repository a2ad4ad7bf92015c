//! Lead-time rules ("the list of the delegation 60 days before the start")
//! and the deadlines they give. Only the rule is stored; its due date is
//! computed on every read from the anchor's current dates, so it moves when
//! the event, obligation or meeting moves.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::events::EventRow;
use super::{
    delete_versioned, insert_audited, update_versioned, upsert_versioned, versioned_record,
    Outcome, Versioned, WriteContext,
};
use crate::db::schema::{
    event_obligations, events, lead_times, meetings, obligations, parties, programmes,
};
use crate::db::Conn;
use crate::domain::deadlines::{due_dates, AnchorDates, AnchorKind, LeadTimeAnchor, Occurrence};

/// Ids per statement: SQLite limits the parameters of one.
const CHUNK: usize = 5_000;

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = lead_times, treat_none_as_null = true)]
pub struct LeadTimeRow {
    pub id: String,
    pub event_id: Option<String>,
    pub obligation_id: Option<String>,
    pub meeting_id: Option<String>,
    /// start or end (`LeadTimeAnchor`).
    pub anchor: String,
    pub days_before: i32,
    /// LocalizedText JSON.
    pub title: String,
    pub party_id: Option<String>,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(LeadTimeRow, "lead_time");

impl LeadTimeRow {
    /// What it hangs on (the table's CHECK keeps exactly one).
    pub fn anchor_of(&self) -> Option<(AnchorKind, &str)> {
        match (&self.event_id, &self.obligation_id, &self.meeting_id) {
            (Some(id), _, _) => Some((AnchorKind::Event, id)),
            (None, Some(id), _) => Some((AnchorKind::Obligation, id)),
            (None, None, Some(id)) => Some((AnchorKind::Meeting, id)),
            (None, None, None) => None,
        }
    }

    /// Points the rule at another anchor.
    pub fn set_anchor(&mut self, kind: AnchorKind, id: String) {
        self.event_id = None;
        self.obligation_id = None;
        self.meeting_id = None;
        match kind {
            AnchorKind::Event => self.event_id = Some(id),
            AnchorKind::Obligation => self.obligation_id = Some(id),
            AnchorKind::Meeting => self.meeting_id = Some(id),
        }
    }
}

/// A rule with the code of its responsible party.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadTime {
    pub row: LeadTimeRow,
    pub party_code: Option<String>,
}

fn with_party_codes(rows: Vec<(LeadTimeRow, Option<String>)>) -> Vec<LeadTime> {
    rows.into_iter()
        .map(|(row, party_code)| LeadTime { row, party_code })
        .collect()
}

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<LeadTime>> {
    let found: Option<(LeadTimeRow, Option<String>)> = lead_times::table
        .left_join(parties::table.on(lead_times::party_id.eq(parties::id.nullable())))
        .filter(lead_times::id.eq(id))
        .select((LeadTimeRow::as_select(), parties::code.nullable()))
        .first(conn)
        .optional()?;
    Ok(found.map(|(row, party_code)| LeadTime { row, party_code }))
}

/// The rules on the given anchors of one kind, longest lead first.
pub fn of_anchors(conn: &mut Conn, kind: AnchorKind, ids: &[String]) -> QueryResult<Vec<LeadTime>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let query = lead_times::table
            .left_join(parties::table.on(lead_times::party_id.eq(parties::id.nullable())))
            .select((LeadTimeRow::as_select(), parties::code.nullable()))
            .order((lead_times::days_before.desc(), lead_times::id.asc()))
            .into_boxed();
        let query = match kind {
            AnchorKind::Event => query.filter(lead_times::event_id.eq_any(chunk)),
            AnchorKind::Obligation => query.filter(lead_times::obligation_id.eq_any(chunk)),
            AnchorKind::Meeting => query.filter(lead_times::meeting_id.eq_any(chunk)),
        };
        found.extend(with_party_codes(query.load(conn)?));
    }
    Ok(found)
}

/// Which rules the list of deadlines starts from; all optional, combined with "and".
#[derive(Debug, Default, Clone)]
pub struct LeadTimeFilter {
    pub event_id: Option<String>,
    pub obligation_id: Option<String>,
    pub meeting_id: Option<String>,
    /// Rules on the programme's items and on the events that fulfil them.
    pub programme_id: Option<String>,
    /// Only rules on items of public programmes (for anonymous callers).
    pub public_only: bool,
}

/// Up to `limit` rules matching the filter, by id.
pub fn search(conn: &mut Conn, filter: &LeadTimeFilter, limit: i64) -> QueryResult<Vec<LeadTime>> {
    let mut query = lead_times::table
        .left_join(parties::table.on(lead_times::party_id.eq(parties::id.nullable())))
        .select((LeadTimeRow::as_select(), parties::code.nullable()))
        .order(lead_times::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(id) = &filter.event_id {
        query = query.filter(lead_times::event_id.eq(id.clone()));
    }
    if let Some(id) = &filter.obligation_id {
        query = query.filter(lead_times::obligation_id.eq(id.clone()));
    }
    if let Some(id) = &filter.meeting_id {
        query = query.filter(lead_times::meeting_id.eq(id.clone()));
    }
    if let Some(programme) = &filter.programme_id {
        let items = obligations::table
            .filter(obligations::programme_id.eq(programme.clone()))
            .select(obligations::id.nullable());
        let events_of_items = event_obligations::table
            .inner_join(obligations::table)
            .filter(obligations::programme_id.eq(programme.clone()))
            .select(event_obligations::event_id.nullable());
        query = query.filter(
            lead_times::obligation_id
                .eq_any(items)
                .or(lead_times::event_id.eq_any(events_of_items)),
        );
    }
    if filter.public_only {
        let public_items = obligations::table
            .inner_join(programmes::table)
            .filter(programmes::public.eq(true))
            .select(obligations::id.nullable());
        query = query.filter(lead_times::obligation_id.eq_any(public_items));
    }
    Ok(with_party_codes(query.load(conn)?))
}

pub fn insert(conn: &mut Conn, ctx: &WriteContext, row: LeadTimeRow) -> QueryResult<LeadTimeRow> {
    Ok(insert_audited!(conn, ctx, lead_times::table, row))
}

/// Writes `row` over `stored` if the rule is still at version `expected`.
pub fn update(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: LeadTimeRow,
    row: LeadTimeRow,
    expected: i32,
) -> QueryResult<Versioned<LeadTimeRow>> {
    Ok(update_versioned!(
        conn,
        ctx,
        lead_times::table,
        lead_times::version,
        stored,
        row,
        expected
    ))
}

/// Deletes a rule still at version `expected`; false when it changed meanwhile.
pub fn delete(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: LeadTimeRow,
    expected: i32,
) -> QueryResult<bool> {
    Ok(delete_versioned!(
        conn,
        ctx,
        lead_times::table,
        lead_times::version,
        stored,
        expected
    ))
}

/// Deletes every rule on an anchor, each audited: called before the anchor
/// itself is deleted (the foreign key would otherwise remove them unrecorded).
pub fn delete_of_anchor(
    conn: &mut Conn,
    ctx: &WriteContext,
    kind: AnchorKind,
    anchor_id: &str,
) -> QueryResult<usize> {
    let rules = of_anchors(conn, kind, &[anchor_id.to_string()])?;
    let mut deleted = 0;
    for rule in rules {
        let version = rule.row.version;
        if delete(conn, ctx, rule.row, version)? {
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// Stores a rule matched on its natural key (anchor record, anchor end, days
/// before and title), as an import does: importing twice adds nothing.
pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: LeadTimeRow,
) -> QueryResult<(LeadTimeRow, Outcome)> {
    let Some((kind, anchor_id)) = row.anchor_of() else {
        return Err(diesel::result::Error::NotFound);
    };
    let query = lead_times::table
        .filter(lead_times::anchor.eq(row.anchor.clone()))
        .filter(lead_times::days_before.eq(row.days_before))
        .filter(lead_times::title.eq(row.title.clone()))
        .select(LeadTimeRow::as_select())
        .into_boxed();
    let query = match kind {
        AnchorKind::Event => query.filter(lead_times::event_id.eq(anchor_id.to_string())),
        AnchorKind::Obligation => query.filter(lead_times::obligation_id.eq(anchor_id.to_string())),
        AnchorKind::Meeting => query.filter(lead_times::meeting_id.eq(anchor_id.to_string())),
    };
    let stored: Option<LeadTimeRow> = query.first(conn).optional()?;
    Ok(upsert_versioned!(conn, ctx, lead_times::table, stored, row))
}

/// What a rule needs of its anchor: a title to show and the dates to count back from.
#[derive(Debug, Clone, PartialEq)]
pub struct Anchor {
    pub kind: AnchorKind,
    pub id: String,
    /// Title of an event or meeting, text of an obligation (LocalizedText JSON).
    pub title: String,
    pub dates: AnchorDates,
}

/// An event as an anchor: its first and last day. A recurring event anchors
/// on its series' first occurrence only (`earliest`/`latest` of the event).
pub fn event_anchor(event: &EventRow) -> Anchor {
    Anchor {
        kind: AnchorKind::Event,
        id: event.id.clone(),
        title: event.title.clone(),
        dates: {
            let (first, last) = event.first_days();
            AnchorDates::Span { first, last }
        },
    }
}

type AnchorKey = (AnchorKind, String);

/// The anchors of the given ids, batched: one query per kind (plus one for
/// the occurrences of yearly obligations).
pub fn anchors(
    conn: &mut Conn,
    event_ids: &[String],
    obligation_ids: &[String],
    meeting_ids: &[String],
) -> QueryResult<HashMap<AnchorKey, Anchor>> {
    let mut found = HashMap::new();
    for chunk in event_ids.chunks(CHUNK) {
        let rows: Vec<EventRow> = events::table
            .filter(events::id.eq_any(chunk))
            .select(EventRow::as_select())
            .load(conn)?;
        for row in rows {
            found.insert((AnchorKind::Event, row.id.clone()), event_anchor(&row));
        }
    }
    for chunk in obligation_ids.chunks(CHUNK) {
        type ObligationDates = (
            String,
            String,
            Option<NaiveDate>,
            Option<NaiveDate>,
            Option<String>,
        );
        let rows: Vec<ObligationDates> = obligations::table
            .filter(obligations::id.eq_any(chunk))
            .select((
                obligations::id,
                obligations::text,
                obligations::earliest,
                obligations::latest,
                obligations::recurrence,
            ))
            .load(conn)?;
        let yearly: Vec<String> = rows
            .iter()
            .filter(|r| r.4.is_some())
            .map(|r| r.0.clone())
            .collect();
        let mut occurrences: HashMap<String, Vec<Occurrence>> = HashMap::new();
        for o in super::obligations::occurrences_of(conn, &yearly)? {
            occurrences
                .entry(o.obligation_id.clone())
                .or_default()
                .push(o.occurrence());
        }
        for (id, text, first, last, recurrence) in rows {
            let dates = match recurrence {
                Some(_) => AnchorDates::Yearly(occurrences.remove(&id).unwrap_or_default()),
                None => AnchorDates::Span { first, last },
            };
            let key = (AnchorKind::Obligation, id.clone());
            found.insert(key, anchor(AnchorKind::Obligation, id, text, dates));
        }
    }
    for chunk in meeting_ids.chunks(CHUNK) {
        let rows: Vec<(String, String, NaiveDate)> = meetings::table
            .filter(meetings::id.eq_any(chunk))
            .select((meetings::id, meetings::title, meetings::held_on))
            .load(conn)?;
        for (id, title, held_on) in rows {
            let dates = AnchorDates::Span {
                first: Some(held_on),
                last: Some(held_on),
            };
            let key = (AnchorKind::Meeting, id.clone());
            found.insert(key, anchor(AnchorKind::Meeting, id, title, dates));
        }
    }
    Ok(found)
}

fn anchor(kind: AnchorKind, id: String, title: String, dates: AnchorDates) -> Anchor {
    Anchor {
        kind,
        id,
        title,
        dates,
    }
}

/// A deadline a rule gives: its due date computed from the anchor's current
/// dates (one per occurrence of a yearly obligation). `due_on` is empty while
/// the anchor has no date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deadline {
    pub lead_time: LeadTimeRow,
    pub party_code: Option<String>,
    pub anchor_kind: AnchorKind,
    pub anchor_id: String,
    /// The anchor's title (LocalizedText JSON).
    pub anchor_title: String,
    pub due_on: Option<NaiveDate>,
    pub occurrence_year: Option<i32>,
}

/// The deadlines of `rules` on `anchors` (rules whose anchor is missing give none).
pub fn derive(rules: Vec<LeadTime>, anchors: &HashMap<AnchorKey, Anchor>) -> Vec<Deadline> {
    let mut deadlines = Vec::new();
    for rule in rules {
        let Some((kind, id)) = rule.row.anchor_of() else {
            continue;
        };
        let Some(anchor) = anchors.get(&(kind, id.to_string())) else {
            continue;
        };
        let Some(end) = LeadTimeAnchor::parse(&rule.row.anchor) else {
            continue;
        };
        for due in due_dates(end, rule.row.days_before, &anchor.dates) {
            deadlines.push(Deadline {
                lead_time: rule.row.clone(),
                party_code: rule.party_code.clone(),
                anchor_kind: anchor.kind,
                anchor_id: anchor.id.clone(),
                anchor_title: anchor.title.clone(),
                due_on: due.due_on,
                occurrence_year: due.occurrence_year,
            });
        }
    }
    deadlines
}

/// The deadlines of every rule on the given events, obligations and meetings,
/// with due dates computed from their current dates, in a few batched
/// queries (for calendar feeds and list pages). Unordered.
pub fn deadlines_of(
    conn: &mut Conn,
    event_ids: &[String],
    obligation_ids: &[String],
    meeting_ids: &[String],
) -> QueryResult<Vec<Deadline>> {
    let mut rules = of_anchors(conn, AnchorKind::Event, event_ids)?;
    rules.extend(of_anchors(conn, AnchorKind::Obligation, obligation_ids)?);
    rules.extend(of_anchors(conn, AnchorKind::Meeting, meeting_ids)?);
    let (events, items, meetings) = anchor_ids(&rules);
    let anchors = anchors(conn, &events, &items, &meetings)?;
    Ok(derive(rules, &anchors))
}

/// The event, obligation and meeting ids the rules hang on.
pub fn anchor_ids(rules: &[LeadTime]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut events, mut items, mut meetings) = (Vec::new(), Vec::new(), Vec::new());
    for rule in rules {
        match rule.row.anchor_of() {
            Some((AnchorKind::Event, id)) => events.push(id.to_string()),
            Some((AnchorKind::Obligation, id)) => items.push(id.to_string()),
            Some((AnchorKind::Meeting, id)) => meetings.push(id.to_string()),
            None => {}
        }
    }
    for ids in [&mut events, &mut items, &mut meetings] {
        ids.sort();
        ids.dedup();
    }
    (events, items, meetings)
}
