//! Obligations (items of a programme or of a protocol) and their assignments.

use diesel::prelude::*;
use serde::Serialize;

use super::{
    delete_versioned, insert_audited, update_versioned, upsert_versioned, versioned_record,
    Outcome, Versioned, WriteContext,
};
use crate::db::schema::{
    assignments, decision_effects, event_obligations, obligation_occurrences, obligations,
    organisations, parties, programmes, status_reports,
};
use crate::db::Conn;
use crate::domain::deadlines::{yearly_occurrences, AnchorKind, Occurrence};
use crate::domain::kinds::ObligationRecurrence;
use crate::domain::timeframe::{Period, Timeframe, TimeframeKind};

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = obligations, treat_none_as_null = true)]
pub struct ObligationRow {
    pub id: String,
    pub programme_id: Option<String>,
    pub section_id: Option<String>,
    pub meeting_id: Option<String>,
    pub decision_id: Option<String>,
    pub number: String,
    pub position: i32,
    pub text: String,
    pub kind: String,
    pub firmness: String,
    pub quantities: Option<String>,
    pub cost_terms: Option<String>,
    pub timeframe_kind: String,
    pub timeframe_text: String,
    pub earliest: Option<chrono::NaiveDate>,
    pub latest: Option<chrono::NaiveDate>,
    pub recurrence: Option<String>,
    pub lifecycle: String,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    /// Number and text in every language, folded to lower case, for search.
    #[serde(skip_serializing)]
    pub search_text: String,
}
versioned_record!(ObligationRow, "obligation");

/// What the search column holds for a number and its text (JSON of languages).
pub fn search_text(number: &str, text_json: &str) -> String {
    let texts: Vec<String> =
        serde_json::from_str::<std::collections::BTreeMap<String, String>>(text_json)
            .map(|m| m.into_values().collect())
            .unwrap_or_default();
    format!("{} {}", number, texts.join(" ")).to_lowercase()
}

/// Filters of the item list; all optional.
#[derive(Debug, Default, Clone)]
pub struct ObligationFilter {
    pub programme_id: Option<String>,
    pub section_id: Option<String>,
    pub party_id: Option<String>,
    pub organisation_id: Option<String>,
    pub lifecycle: Option<String>,
    pub due_from: Option<chrono::NaiveDate>,
    pub due_to: Option<chrono::NaiveDate>,
    /// Lower-cased text to find in the number or any language.
    pub text: Option<String>,
    /// Only items of public programmes (for anonymous callers).
    pub public_only: bool,
}

/// Where the previous page ended, in the list's order (programme, position, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPosition {
    pub programme_id: String,
    pub position: i32,
    pub id: String,
}

/// The filters of the item list, applied to any boxed query on obligations.
macro_rules! filtered {
    ($query:expr, $filter:expr) => {{
        use crate::db::schema::programmes;
        let mut query = $query;
        let filter: &ObligationFilter = $filter;
        if let Some(p) = &filter.programme_id {
            query = query.filter(obligations::programme_id.eq(p.clone()));
        }
        if let Some(s) = &filter.section_id {
            query = query.filter(obligations::section_id.eq(s.clone()));
        }
        if let Some(party) = &filter.party_id {
            let assigned = assignments::table
                .filter(assignments::party_id.eq(party.clone()))
                .select(assignments::obligation_id);
            query = query.filter(obligations::id.eq_any(assigned));
        }
        if let Some(org) = &filter.organisation_id {
            let assigned = assignments::table
                .filter(assignments::organisation_id.eq(org.clone()))
                .select(assignments::obligation_id);
            query = query.filter(obligations::id.eq_any(assigned));
        }
        if let Some(l) = &filter.lifecycle {
            query = query.filter(obligations::lifecycle.eq(l.clone()));
        }
        if let Some(d) = filter.due_from {
            query = query.filter(obligations::latest.ge(d));
        }
        if let Some(d) = filter.due_to {
            query = query.filter(obligations::latest.le(d));
        }
        if let Some(t) = &filter.text {
            let escaped = t
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            query = query.filter(
                obligations::search_text
                    .like(format!("%{escaped}%"))
                    .escape('\\'),
            );
        }
        if filter.public_only {
            let public = programmes::table
                .filter(programmes::public.eq(true))
                .select(programmes::id.nullable());
            query = query.filter(obligations::programme_id.eq_any(public));
        }
        query
    }};
}

/// Items of programmes matching the filter, in a stable order, after `after`.
pub fn search(
    conn: &mut Conn,
    filter: &ObligationFilter,
    after: Option<&ListPosition>,
    limit: i64,
) -> QueryResult<Vec<ObligationRow>> {
    search_query(filter, after, limit).load(conn)
}

/// The statement `search` runs (public so that tests can EXPLAIN it).
pub fn search_query<'a>(
    filter: &ObligationFilter,
    after: Option<&ListPosition>,
    limit: i64,
) -> obligations::BoxedQuery<
    'a,
    crate::db::MultiBackend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<ObligationRow, crate::db::MultiBackend>>,
> {
    let query = obligations::table
        .filter(obligations::programme_id.is_not_null())
        .select(ObligationRow::as_select())
        .order((
            obligations::programme_id.asc(),
            obligations::position.asc(),
            obligations::id.asc(),
        ))
        .limit(limit)
        .into_boxed();
    let mut query = filtered!(query, filter);
    if let Some(a) = after {
        query = query.filter(
            obligations::programme_id
                .gt(a.programme_id.clone())
                .or(obligations::programme_id
                    .eq(a.programme_id.clone())
                    .and(obligations::position.gt(a.position)))
                .or(obligations::programme_id
                    .eq(a.programme_id.clone())
                    .and(obligations::position.eq(a.position))
                    .and(obligations::id.gt(a.id.clone()))),
        );
    }
    query
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = assignments)]
pub struct AssignmentRow {
    pub id: String,
    pub obligation_id: String,
    pub organisation_id: String,
    pub party_id: String,
    pub role: String,
}

/// An assignment with the names a reader needs.
#[derive(Debug, Clone, Serialize)]
pub struct AssignmentView {
    pub obligation_id: String,
    pub organisation_id: String,
    pub organisation_key: String,
    pub organisation_name: String,
    pub organisation_time_zone: String,
    pub party_code: String,
    pub role: String,
}

/// Where an obligation belongs: a programme, or the protocol of a meeting.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    Programme(&'a str),
    Meeting(&'a str),
}

pub fn by_number(
    conn: &mut Conn,
    owner: Owner<'_>,
    number: &str,
) -> QueryResult<Option<ObligationRow>> {
    let query = obligations::table
        .filter(obligations::number.eq(number))
        .select(ObligationRow::as_select())
        .into_boxed();
    let query = match owner {
        Owner::Programme(id) => query.filter(obligations::programme_id.eq(id.to_string())),
        Owner::Meeting(id) => query.filter(obligations::meeting_id.eq(id.to_string())),
    };
    query.first(conn).optional()
}

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<ObligationRow>> {
    obligations::table
        .find(id)
        .select(ObligationRow::as_select())
        .first(conn)
        .optional()
}

/// What access to an item and its status depend on, from its programme.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct ProgrammeScope {
    pub body_id: Option<String>,
    pub public: bool,
    pub period_start: chrono::NaiveDate,
    pub period_end: chrono::NaiveDate,
}

/// An item with its programme's scope (when it belongs to one), in one
/// query: reading one item is the API's hottest path.
pub fn by_id_with_programme(
    conn: &mut Conn,
    id: &str,
) -> QueryResult<Option<(ObligationRow, Option<ProgrammeScope>)>> {
    obligations::table
        .left_join(programmes::table)
        .filter(obligations::id.eq(id))
        .select((
            ObligationRow::as_select(),
            (
                programmes::body_id,
                programmes::public,
                programmes::period_start,
                programmes::period_end,
            )
                .nullable(),
        ))
        .first(conn)
        .optional()
}

/// The items of a programme or protocol in source order.
/// The items of several programmes, by programme then source order.
pub fn of_programmes(conn: &mut Conn, programme_ids: &[String]) -> QueryResult<Vec<ObligationRow>> {
    obligations::table
        .filter(obligations::programme_id.eq_any(programme_ids))
        .order((obligations::programme_id.asc(), obligations::position.asc()))
        .select(ObligationRow::as_select())
        .load(conn)
}

pub fn of_owner(conn: &mut Conn, owner: Owner<'_>) -> QueryResult<Vec<ObligationRow>> {
    let query = obligations::table
        .order(obligations::position.asc())
        .select(ObligationRow::as_select())
        .into_boxed();
    match owner {
        Owner::Programme(id) => query.filter(obligations::programme_id.eq(id.to_string())),
        Owner::Meeting(id) => query.filter(obligations::meeting_id.eq(id.to_string())),
    }
    .load(conn)
}

pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    owner: Owner<'_>,
    row: ObligationRow,
) -> QueryResult<(ObligationRow, Outcome)> {
    let stored = by_number(conn, owner, &row.number)?;
    let (row, outcome) = upsert_versioned!(conn, ctx, obligations::table, stored, row);
    sync_occurrences(conn, &row)?;
    Ok((row, outcome))
}

/// Ids per query of [`assignments_of`].
const ASSIGNMENT_CHUNK: usize = 500;

/// The items' assignments, by item (each item's together, by party and role).
///
/// In chunks of [`ASSIGNMENT_CHUNK`] ids: past a few thousand ids (6,000 to
/// 7,000 on the generated dataset, fewer the more parties share the
/// assignments) SQLite 3.50 stops driving the join from the ids and reads
/// every assignment of each party instead, ten times slower for a programme
/// of 10,000 items (BENCHMARKS.md).
pub fn assignments_of(
    conn: &mut Conn,
    obligation_ids: &[String],
) -> QueryResult<Vec<AssignmentView>> {
    type Row = (String, String, String, String, String, String, String);
    let rows: Vec<Row> = super::in_chunks_of(ASSIGNMENT_CHUNK, obligation_ids, |chunk| {
        assignments::table
            .inner_join(organisations::table)
            .inner_join(parties::table)
            .filter(assignments::obligation_id.eq_any(chunk))
            .order((
                assignments::obligation_id.asc(),
                parties::code.asc(),
                assignments::role.asc(),
            ))
            .select((
                assignments::obligation_id,
                assignments::organisation_id,
                organisations::key,
                organisations::name,
                organisations::time_zone,
                parties::code,
                assignments::role,
            ))
            .load(conn)
    })?;
    Ok(rows
        .into_iter()
        .map(
            |(
                obligation_id,
                organisation_id,
                organisation_key,
                organisation_name,
                organisation_time_zone,
                party_code,
                role,
            )| {
                AssignmentView {
                    obligation_id,
                    organisation_id,
                    organisation_key,
                    organisation_name,
                    organisation_time_zone,
                    party_code,
                    role,
                }
            },
        )
        .collect())
}

/// Makes the obligation's assignments exactly `wanted` (matched on
/// organisation, role and party), auditing each change.
pub fn replace_assignments(
    conn: &mut Conn,
    ctx: &WriteContext,
    obligation_id: &str,
    wanted: &[AssignmentRow],
) -> QueryResult<bool> {
    let existing: Vec<AssignmentRow> = assignments::table
        .filter(assignments::obligation_id.eq(obligation_id))
        .select(AssignmentRow::as_select())
        .load(conn)?;
    let same = |a: &AssignmentRow, b: &AssignmentRow| {
        a.organisation_id == b.organisation_id && a.role == b.role && a.party_id == b.party_id
    };
    let mut changed = false;
    for old in existing
        .iter()
        .filter(|e| !wanted.iter().any(|w| same(e, w)))
    {
        diesel::delete(assignments::table.find(&old.id)).execute(conn)?;
        super::audit::record(
            conn,
            ctx,
            "delete",
            "assignment",
            &old.id,
            Some(old),
            None::<&()>,
        )?;
        changed = true;
    }
    for new in wanted
        .iter()
        .filter(|w| !existing.iter().any(|e| same(e, w)))
    {
        let row = AssignmentRow {
            obligation_id: obligation_id.to_string(),
            ..new.clone()
        };
        diesel::insert_into(assignments::table)
            .values(&row)
            .execute(conn)?;
        super::audit::record(
            conn,
            ctx,
            "create",
            "assignment",
            &row.id,
            None::<&()>,
            Some(&row),
        )?;
        changed = true;
    }
    Ok(changed)
}

pub fn count(conn: &mut Conn, filter: &ObligationFilter) -> QueryResult<i64> {
    // The same filters as `search`, counted by the database: a page of a
    // programme of 10,000 items must not load the 10,000 to count them.
    count_query(filter).get_result(conn)
}

/// The statement `count` runs (public so that tests can EXPLAIN it).
pub fn count_query<'a>(
    filter: &ObligationFilter,
) -> obligations::BoxedQuery<'a, crate::db::MultiBackend, diesel::sql_types::BigInt> {
    let query = obligations::table
        .filter(obligations::programme_id.is_not_null())
        .count()
        .into_boxed();
    filtered!(query, filter)
}

/// Raises an item's version when only its links (assignments) changed.
pub fn bump_version(
    conn: &mut Conn,
    id: &str,
    expected: i32,
    at: chrono::NaiveDateTime,
) -> QueryResult<Option<ObligationRow>> {
    let n = diesel::update(
        obligations::table
            .find(id)
            .filter(obligations::version.eq(expected)),
    )
    .set((
        obligations::version.eq(expected + 1),
        obligations::updated_at.eq(at),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    by_id(conn, id)
}

/// The position a new item of a programme takes: after the last item of its
/// section, or, without a section, after the programme's last item. Later items move down one
/// place to make room; a place in the source order is not part of an item's
/// content, so their versions stay.
pub fn make_room(
    conn: &mut Conn,
    programme_id: &str,
    section_id: Option<&str>,
) -> QueryResult<i32> {
    let last_of = |conn: &mut Conn, sections: &[String]| -> QueryResult<Option<i32>> {
        obligations::table
            .filter(obligations::programme_id.eq(programme_id))
            .filter(obligations::section_id.eq_any(sections))
            .select(diesel::dsl::max(obligations::position))
            .first(conn)
    };
    let last: Option<i32> = match section_id {
        // After the section's last item; in an empty section, after the
        // items of the sections before it.
        Some(s) => {
            let order = super::programmes::sections_of(conn, programme_id)?;
            let mut last = last_of(conn, &[s.to_string()])?;
            if last.is_none() {
                let earlier: Vec<String> = order
                    .iter()
                    .take_while(|x| x.id != s)
                    .map(|x| x.id.clone())
                    .collect();
                last = last_of(conn, &earlier)?;
            }
            last
        }
        None => obligations::table
            .filter(obligations::programme_id.eq(programme_id))
            .select(diesel::dsl::max(obligations::position))
            .first(conn)?,
    };
    let position = last.map_or(0, |p| p.saturating_add(1));
    diesel::update(
        obligations::table
            .filter(obligations::programme_id.eq(programme_id))
            .filter(obligations::position.ge(position)),
    )
    .set(obligations::position.eq(obligations::position + 1))
    .execute(conn)?;
    Ok(position)
}

/// Stores a new item with its assignments, audited.
pub fn insert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: ObligationRow,
    assignments: &[AssignmentRow],
) -> QueryResult<ObligationRow> {
    let row = insert_audited!(conn, ctx, obligations::table, row);
    replace_assignments(conn, ctx, &row.id, assignments)?;
    sync_occurrences(conn, &row)?;
    Ok(row)
}

/// Changes an item under the version the caller read, audited.
pub fn update(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: ObligationRow,
    new: ObligationRow,
    expected: i32,
) -> QueryResult<Versioned<ObligationRow>> {
    let written = update_versioned!(
        conn,
        ctx,
        obligations::table,
        obligations::version,
        stored,
        new,
        expected
    );
    if let Versioned::Written(row) = &written {
        sync_occurrences(conn, row)?;
    }
    Ok(written)
}

/// How many status reports an item has.
pub fn report_count(conn: &mut Conn, id: &str) -> QueryResult<i64> {
    status_reports::table
        .filter(status_reports::obligation_id.eq(id))
        .count()
        .get_result(conn)
}

/// How many decisions of meetings changed this item or replaced something with it.
pub fn decision_effect_count(conn: &mut Conn, id: &str) -> QueryResult<i64> {
    decision_effects::table
        .filter(
            decision_effects::obligation_id
                .eq(id)
                .or(decision_effects::superseded_by.eq(id)),
        )
        .count()
        .get_result(conn)
}

/// Deletes an item with its assignments and event links, each audited. False
/// when the item changed since `expected` (the caller rolls back).
pub fn delete(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: ObligationRow,
    expected: i32,
) -> QueryResult<bool> {
    if stored.version != expected {
        return Ok(false);
    }
    replace_assignments(conn, ctx, &stored.id, &[])?;
    super::lead_times::delete_of_anchor(conn, ctx, AnchorKind::Obligation, &stored.id)?;
    let events: Vec<String> = event_obligations::table
        .filter(event_obligations::obligation_id.eq(&stored.id))
        .select(event_obligations::event_id)
        .load(conn)?;
    for event_id in events {
        diesel::delete(
            event_obligations::table
                .filter(event_obligations::event_id.eq(&event_id))
                .filter(event_obligations::obligation_id.eq(&stored.id)),
        )
        .execute(conn)?;
        let link = serde_json::json!({ "event_id": event_id, "obligation_id": stored.id });
        super::audit::record(
            conn,
            ctx,
            "delete",
            "event_obligation",
            &format!("{event_id}/{}", stored.id),
            Some(&link),
            None::<&()>,
        )?;
    }
    Ok(delete_versioned!(
        conn,
        ctx,
        obligations::table,
        obligations::version,
        stored,
        expected
    ))
}

/// One year's occurrence of a yearly obligation, as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = obligation_occurrences)]
pub struct OccurrenceRow {
    pub obligation_id: String,
    pub year: i32,
    pub earliest: chrono::NaiveDate,
    pub latest: chrono::NaiveDate,
}

impl OccurrenceRow {
    pub fn occurrence(&self) -> Occurrence {
        Occurrence {
            year: self.year,
            earliest: self.earliest,
            latest: self.latest,
        }
    }
}

/// The stored occurrences of the given obligations, by obligation and year.
pub fn occurrences_of(
    conn: &mut Conn,
    obligation_ids: &[String],
) -> QueryResult<Vec<OccurrenceRow>> {
    let mut found = Vec::new();
    // SQLite limits the parameters of one statement.
    for chunk in obligation_ids.chunks(5_000) {
        found.extend(
            obligation_occurrences::table
                .filter(obligation_occurrences::obligation_id.eq_any(chunk))
                .order((
                    obligation_occurrences::obligation_id.asc(),
                    obligation_occurrences::year.asc(),
                ))
                .select(OccurrenceRow::as_select())
                .load(conn)?,
        );
    }
    Ok(found)
}

/// The occurrences an obligation has: one per year of its programme when it
/// recurs yearly (domain::deadlines::yearly_occurrences), none otherwise.
fn wanted_occurrences(conn: &mut Conn, row: &ObligationRow) -> QueryResult<Vec<Occurrence>> {
    let yearly = row
        .recurrence
        .as_deref()
        .and_then(ObligationRecurrence::parse)
        == Some(ObligationRecurrence::Yearly);
    let Some(programme_id) = row.programme_id.as_ref().filter(|_| yearly) else {
        return Ok(Vec::new());
    };
    let period: Option<(chrono::NaiveDate, chrono::NaiveDate)> = programmes::table
        .find(programme_id)
        .select((programmes::period_start, programmes::period_end))
        .first(conn)
        .optional()?;
    let Some(period) = period.and_then(|(start, end)| Period::new(start, end).ok()) else {
        return Ok(Vec::new());
    };
    let corrupt = |e: String| diesel::result::Error::DeserializationError(e.into());
    let kind = TimeframeKind::parse(&row.timeframe_kind)
        .ok_or_else(|| corrupt(format!("stored timeframe kind `{}`", row.timeframe_kind)))?;
    let timeframe =
        Timeframe::from_parts(kind, row.timeframe_text.clone(), row.earliest, row.latest)
            .map_err(|e| corrupt(e.to_string()))?;
    Ok(yearly_occurrences(&timeframe, period))
}

/// Makes the stored occurrences of an obligation those its timeframe,
/// recurrence and programme period give. Called by every write of an
/// obligation (and of a programme's period) in the same transaction; the
/// rows are derived from the audited obligation, so they are not audited
/// themselves.
pub fn sync_occurrences(conn: &mut Conn, row: &ObligationRow) -> QueryResult<()> {
    let wanted: Vec<OccurrenceRow> = wanted_occurrences(conn, row)?
        .into_iter()
        .map(|o| OccurrenceRow {
            obligation_id: row.id.clone(),
            year: o.year,
            earliest: o.earliest,
            latest: o.latest,
        })
        .collect();
    let stored = occurrences_of(conn, std::slice::from_ref(&row.id))?;
    if stored == wanted {
        return Ok(());
    }
    diesel::delete(
        obligation_occurrences::table.filter(obligation_occurrences::obligation_id.eq(&row.id)),
    )
    .execute(conn)?;
    for occurrence in &wanted {
        diesel::insert_into(obligation_occurrences::table)
            .values(occurrence)
            .execute(conn)?;
    }
    Ok(())
}

/// Re-derives the occurrences of every item of a programme (its period changed).
pub fn sync_programme_occurrences(conn: &mut Conn, programme_id: &str) -> QueryResult<()> {
    for row in of_owner(conn, Owner::Programme(programme_id))? {
        sync_occurrences(conn, &row)?;
    }
    Ok(())
}
