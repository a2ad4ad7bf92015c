//! Programmes and their sections.

use diesel::prelude::*;
use serde::Serialize;

use super::{
    delete_versioned, insert_audited, replace_links, update_versioned, upsert_versioned,
    versioned_record, Outcome, Versioned, WriteContext,
};
use crate::db::schema::{
    obligations, parties, programme_parties, programme_signatories, programmes, sections,
};
use crate::db::Conn;

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = programmes, treat_none_as_null = true)]
pub struct ProgrammeRow {
    pub id: String,
    pub key: String,
    pub title: String,
    pub agreement_id: Option<String>,
    pub body_id: Option<String>,
    pub period_text: String,
    pub period_start: chrono::NaiveDate,
    pub period_end: chrono::NaiveDate,
    pub public: bool,
    pub illustrative: bool,
    pub source: Option<String>,
    pub note: Option<String>,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(ProgrammeRow, "programme");

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = sections, treat_none_as_null = true)]
pub struct SectionRow {
    pub id: String,
    pub programme_id: String,
    pub code: String,
    pub title: String,
    pub position: i32,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(SectionRow, "section");

pub fn by_key(conn: &mut Conn, key: &str) -> QueryResult<Option<ProgrammeRow>> {
    programmes::table
        .filter(programmes::key.eq(key))
        .select(ProgrammeRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<ProgrammeRow>> {
    programmes::table
        .find(id)
        .select(ProgrammeRow::as_select())
        .first(conn)
        .optional()
}

/// Programmes, latest period first, optionally of one party.
pub fn list(conn: &mut Conn, party_code: Option<&str>) -> QueryResult<Vec<ProgrammeRow>> {
    let mut query = programmes::table
        .select(ProgrammeRow::as_select())
        .order((programmes::period_start.desc(), programmes::key.asc()))
        .into_boxed();
    if let Some(code) = party_code {
        let of_party = programme_parties::table
            .inner_join(parties::table)
            .filter(parties::code.eq(code.to_string()))
            .select(programme_parties::programme_id);
        query = query.filter(programmes::id.eq_any(of_party));
    }
    query.load(conn)
}

pub fn of_agreement(conn: &mut Conn, agreement_id: &str) -> QueryResult<Vec<ProgrammeRow>> {
    programmes::table
        .filter(programmes::agreement_id.eq(agreement_id))
        .order(programmes::period_start.asc())
        .select(ProgrammeRow::as_select())
        .load(conn)
}

/// (programme id, party code) pairs.
pub fn party_codes(
    conn: &mut Conn,
    programme_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    programme_parties::table
        .inner_join(parties::table)
        .filter(programme_parties::programme_id.eq_any(programme_ids))
        .order((programme_parties::programme_id.asc(), parties::code.asc()))
        .select((programme_parties::programme_id, parties::code))
        .load(conn)
}

pub fn signatory_ids(conn: &mut Conn, programme_id: &str) -> QueryResult<Vec<String>> {
    programme_signatories::table
        .filter(programme_signatories::programme_id.eq(programme_id))
        .select(programme_signatories::organisation_id)
        .load(conn)
}

pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: ProgrammeRow,
    party_ids: &[String],
    signatory_ids: &[String],
) -> QueryResult<(ProgrammeRow, Outcome)> {
    let stored = by_key(conn, &row.key)?;
    let (row, outcome) = upsert_versioned!(conn, ctx, programmes::table, stored, row);
    replace_links!(
        conn,
        ctx,
        programme_parties,
        programme_id,
        &row.id,
        party_id,
        party_ids,
        "programme_party"
    )?;
    replace_links!(
        conn,
        ctx,
        programme_signatories,
        programme_id,
        &row.id,
        organisation_id,
        signatory_ids,
        "programme_signatory"
    )?;
    Ok((row, outcome))
}

pub fn sections_of(conn: &mut Conn, programme_id: &str) -> QueryResult<Vec<SectionRow>> {
    sections::table
        .filter(sections::programme_id.eq(programme_id))
        .order((sections::position.asc(), sections::code.asc()))
        .select(SectionRow::as_select())
        .load(conn)
}

pub fn upsert_section(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: SectionRow,
) -> QueryResult<(SectionRow, Outcome)> {
    let stored = sections::table
        .filter(sections::programme_id.eq(&row.programme_id))
        .filter(sections::code.eq(&row.code))
        .select(SectionRow::as_select())
        .first(conn)
        .optional()?;
    Ok(upsert_versioned!(conn, ctx, sections::table, stored, row))
}

/// Filters of the programme list; all optional.
#[derive(Debug, Default, Clone)]
pub struct ProgrammeFilter {
    pub party_id: Option<String>,
    pub body_id: Option<String>,
    pub agreement_id: Option<String>,
    pub public: Option<bool>,
    /// Only programmes whose period overlaps this range (a year).
    pub covering: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    /// Only public programmes (for anonymous callers).
    pub public_only: bool,
}

/// Where the previous page ended in the list's order (latest period first, then key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammePosition {
    pub period_start: chrono::NaiveDate,
    pub key: String,
}

/// The filters of the programme list, applied to any boxed query on programmes.
macro_rules! filtered {
    ($query:expr, $filter:expr) => {{
        let mut query = $query;
        let filter: &ProgrammeFilter = $filter;
        if let Some(party) = &filter.party_id {
            let of_party = programme_parties::table
                .filter(programme_parties::party_id.eq(party.clone()))
                .select(programme_parties::programme_id);
            query = query.filter(programmes::id.eq_any(of_party));
        }
        if let Some(b) = &filter.body_id {
            query = query.filter(programmes::body_id.eq(b.clone()));
        }
        if let Some(a) = &filter.agreement_id {
            query = query.filter(programmes::agreement_id.eq(a.clone()));
        }
        if let Some(p) = filter.public {
            query = query.filter(programmes::public.eq(p));
        }
        if let Some((first, last)) = filter.covering {
            query = query
                .filter(programmes::period_start.le(last))
                .filter(programmes::period_end.ge(first));
        }
        if filter.public_only {
            query = query.filter(programmes::public.eq(true));
        }
        query
    }};
}

/// Programmes matching the filter, latest period first, after `after`.
pub fn search(
    conn: &mut Conn,
    filter: &ProgrammeFilter,
    after: Option<&ProgrammePosition>,
    limit: i64,
) -> QueryResult<Vec<ProgrammeRow>> {
    let query = programmes::table
        .select(ProgrammeRow::as_select())
        .order((programmes::period_start.desc(), programmes::key.asc()))
        .limit(limit)
        .into_boxed();
    let mut query = filtered!(query, filter);
    if let Some(a) = after {
        query = query.filter(
            programmes::period_start
                .lt(a.period_start)
                .or(programmes::period_start
                    .eq(a.period_start)
                    .and(programmes::key.gt(a.key.clone()))),
        );
    }
    query.load(conn)
}

pub fn count(conn: &mut Conn, filter: &ProgrammeFilter) -> QueryResult<i64> {
    let query = programmes::table.count().into_boxed();
    filtered!(query, filter).get_result(conn)
}

/// Stores a new programme with its parties and signatories, audited.
pub fn insert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: ProgrammeRow,
    party_ids: &[String],
    signatory_ids: &[String],
) -> QueryResult<ProgrammeRow> {
    let row = insert_audited!(conn, ctx, programmes::table, row);
    replace_programme_links(conn, ctx, &row.id, party_ids, signatory_ids)?;
    Ok(row)
}

/// Makes the programme's parties and signatories exactly these; true when any changed.
fn replace_programme_links(
    conn: &mut Conn,
    ctx: &WriteContext,
    programme_id: &str,
    party_ids: &[String],
    signatory_ids: &[String],
) -> QueryResult<bool> {
    let same = |mut a: Vec<String>, b: &[String]| {
        let mut b = b.to_vec();
        a.sort();
        a.dedup();
        b.sort();
        b.dedup();
        a == b
    };
    let parties_before: Vec<String> = programme_parties::table
        .filter(programme_parties::programme_id.eq(programme_id))
        .select(programme_parties::party_id)
        .load(conn)?;
    let signatories_before = self::signatory_ids(conn, programme_id)?;
    let unchanged = same(parties_before, party_ids) && same(signatories_before, signatory_ids);
    replace_links!(
        conn,
        ctx,
        programme_parties,
        programme_id,
        programme_id,
        party_id,
        party_ids,
        "programme_party"
    )?;
    replace_links!(
        conn,
        ctx,
        programme_signatories,
        programme_id,
        programme_id,
        organisation_id,
        signatory_ids,
        "programme_signatory"
    )?;
    Ok(!unchanged)
}

/// Replaces a programme under the version the client read, with its links.
/// A change of links alone is a change of the programme: its version moves too.
pub fn update(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: ProgrammeRow,
    new: ProgrammeRow,
    expected: i32,
    party_ids: &[String],
    signatory_ids: &[String],
) -> QueryResult<Versioned<ProgrammeRow>> {
    let written = update_versioned!(
        conn,
        ctx,
        programmes::table,
        programmes::version,
        stored,
        new,
        expected
    );
    let row = match written {
        Versioned::Stale => return Ok(Versioned::Stale),
        Versioned::Written(row) | Versioned::Unchanged(row) => row,
    };
    let links_changed = replace_programme_links(conn, ctx, &row.id, party_ids, signatory_ids)?;
    if !links_changed {
        return Ok(if row.version == expected {
            Versioned::Unchanged(row)
        } else {
            Versioned::Written(row)
        });
    }
    if row.version != expected {
        return Ok(Versioned::Written(row));
    }
    let n = diesel::update(
        programmes::table
            .find(&row.id)
            .filter(programmes::version.eq(expected)),
    )
    .set((
        programmes::version.eq(expected + 1),
        programmes::updated_at.eq(ctx.at),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(Versioned::Stale);
    }
    Ok(match by_id(conn, &row.id)? {
        Some(row) => Versioned::Written(row),
        None => Versioned::Stale,
    })
}

/// How many items a programme has.
pub fn item_count(conn: &mut Conn, programme_id: &str) -> QueryResult<i64> {
    obligations::table
        .filter(obligations::programme_id.eq(programme_id))
        .count()
        .get_result(conn)
}

/// Deletes a programme without items, with its sections and links, audited.
/// False when the programme changed since `expected` (nothing is deleted then
/// once the caller rolls back).
pub fn delete(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: ProgrammeRow,
    expected: i32,
) -> QueryResult<bool> {
    if stored.version != expected {
        return Ok(false);
    }
    replace_programme_links(conn, ctx, &stored.id, &[], &[])?;
    for section in sections_of(conn, &stored.id)? {
        let version = section.version;
        delete_versioned!(
            conn,
            ctx,
            sections::table,
            sections::version,
            section,
            version
        );
    }
    Ok(delete_versioned!(
        conn,
        ctx,
        programmes::table,
        programmes::version,
        stored,
        expected
    ))
}

pub fn section_by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<SectionRow>> {
    sections::table
        .find(id)
        .select(SectionRow::as_select())
        .first(conn)
        .optional()
}

pub fn section_by_code(
    conn: &mut Conn,
    programme_id: &str,
    code: &str,
) -> QueryResult<Option<SectionRow>> {
    sections::table
        .filter(sections::programme_id.eq(programme_id))
        .filter(sections::code.eq(code))
        .select(SectionRow::as_select())
        .first(conn)
        .optional()
}

/// The position after the programme's last section.
pub fn next_section_position(conn: &mut Conn, programme_id: &str) -> QueryResult<i32> {
    let last: Option<i32> = sections::table
        .filter(sections::programme_id.eq(programme_id))
        .select(diesel::dsl::max(sections::position))
        .first(conn)?;
    Ok(last.map_or(0, |p| p.saturating_add(1)))
}

/// Sections of a programme in order (position, then code), after `after`.
pub fn sections_page(
    conn: &mut Conn,
    programme_id: &str,
    after: Option<(i32, String)>,
    limit: i64,
) -> QueryResult<Vec<SectionRow>> {
    let mut query = sections::table
        .filter(sections::programme_id.eq(programme_id.to_string()))
        .order((sections::position.asc(), sections::code.asc()))
        .select(SectionRow::as_select())
        .limit(limit)
        .into_boxed();
    if let Some((position, code)) = after {
        query = query.filter(
            sections::position
                .gt(position)
                .or(sections::position.eq(position).and(sections::code.gt(code))),
        );
    }
    query.load(conn)
}

pub fn section_count(conn: &mut Conn, programme_id: &str) -> QueryResult<i64> {
    sections::table
        .filter(sections::programme_id.eq(programme_id))
        .count()
        .get_result(conn)
}

/// (section id, number of items) for the given sections.
pub fn section_item_counts(
    conn: &mut Conn,
    section_ids: &[String],
) -> QueryResult<Vec<(String, i64)>> {
    let rows: Vec<Option<String>> = obligations::table
        .filter(obligations::section_id.eq_any(section_ids))
        .select(obligations::section_id)
        .load(conn)?;
    let mut counts: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for id in rows.into_iter().flatten() {
        *counts.entry(id).or_default() += 1;
    }
    Ok(counts.into_iter().collect())
}

pub fn insert_section(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: SectionRow,
) -> QueryResult<SectionRow> {
    Ok(insert_audited!(conn, ctx, sections::table, row))
}

pub fn update_section(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: SectionRow,
    new: SectionRow,
    expected: i32,
) -> QueryResult<Versioned<SectionRow>> {
    Ok(update_versioned!(
        conn,
        ctx,
        sections::table,
        sections::version,
        stored,
        new,
        expected
    ))
}

/// Deletes a section under the version the client read; false when stale.
pub fn delete_section(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: SectionRow,
    expected: i32,
) -> QueryResult<bool> {
    Ok(delete_versioned!(
        conn,
        ctx,
        sections::table,
        sections::version,
        stored,
        expected
    ))
}
