//! Obligations (items of a programme or of a protocol) and their assignments.

use diesel::prelude::*;
use serde::Serialize;

use super::{
    delete_versioned, insert_audited, update_versioned, upsert_versioned, versioned_record,
    Outcome, Versioned, WriteContext,
};
use crate::db::schema::{
    assignments, decision_effects, event_obligations, obligations, organisations, parties,
    status_reports,
};
use crate::db::Conn;

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
    query.load(conn)
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
    Ok(upsert_versioned!(
        conn,
        ctx,
        obligations::table,
        stored,
        row
    ))
}

pub fn assignments_of(
    conn: &mut Conn,
    obligation_ids: &[String],
) -> QueryResult<Vec<AssignmentView>> {
    let rows: Vec<(String, String, String, String, String, String, String)> = assignments::table
        .inner_join(organisations::table)
        .inner_join(parties::table)
        .filter(assignments::obligation_id.eq_any(obligation_ids))
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
        .load(conn)?;
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
    // The same filters as `search`, without order, page or position.
    let ids: Vec<String> = search(conn, filter, None, i64::MAX)?
        .into_iter()
        .map(|r| r.id)
        .collect();
    Ok(ids.len() as i64)
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
    Ok(update_versioned!(
        conn,
        ctx,
        obligations::table,
        obligations::version,
        stored,
        new,
        expected
    ))
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
