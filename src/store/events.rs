//! Events: days of culture, tours, exhibitions, meetings, in local time.

use diesel::prelude::*;
use serde::Serialize;

use super::{
    delete_versioned, insert_audited, replace_links, update_versioned, upsert_versioned,
    versioned_record, Outcome, Versioned, WriteContext,
};
use crate::db::schema::{
    event_obligations, event_organisations, events, meetings, obligations, organisations,
    programmes,
};
use crate::db::Conn;
use crate::domain::kinds::{EventOrganisationRole, EventSchedule, EventStatus};

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = events, treat_none_as_null = true)]
pub struct EventRow {
    pub id: String,
    pub key: Option<String>,
    pub title: String,
    pub kind: String,
    pub status: String,
    pub schedule: String,
    pub timeframe_kind: String,
    pub timeframe_text: String,
    pub earliest: Option<chrono::NaiveDate>,
    pub latest: Option<chrono::NaiveDate>,
    pub start_local: Option<chrono::NaiveDateTime>,
    pub end_local: Option<chrono::NaiveDateTime>,
    pub time_zone: Option<String>,
    pub starts_at: Option<chrono::NaiveDateTime>,
    pub ends_at: Option<chrono::NaiveDateTime>,
    pub tzdata_version: Option<String>,
    pub recurrence: Option<String>,
    pub host_party_id: Option<String>,
    pub guest_party_id: Option<String>,
    pub city: Option<String>,
    pub venue: Option<String>,
    pub source: Option<String>,
    pub note: Option<String>,
    pub sequence: i32,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    /// JSON array of the original local starts removed from the series (EXDATE).
    pub exdates: Option<String>,
}
versioned_record!(EventRow, "event");

impl EventRow {
    /// The first and last day of the event's first occurrence (local dates).
    /// For a series, `earliest`/`latest` span the whole series; lead times and
    /// calendar entries need the days of one occurrence.
    pub fn first_days(&self) -> (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>) {
        if self.recurrence.is_none() {
            return (self.earliest, self.latest);
        }
        if let Some(start) = self.start_local {
            let end = self.end_local.map_or(start.date(), |e| e.date());
            return (Some(start.date()), Some(end));
        }
        // An all-day series keeps the dates it was given in its timeframe.
        match crate::domain::timeframe::Timeframe::parse(&self.timeframe_text, None) {
            Ok(t) => (t.earliest, t.latest),
            Err(_) => (self.earliest, self.earliest),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = event_organisations)]
pub struct EventOrganisationRow {
    pub event_id: String,
    pub organisation_id: String,
    pub role: String,
}

pub fn by_key(conn: &mut Conn, key: &str) -> QueryResult<Option<EventRow>> {
    events::table
        .filter(events::key.eq(key))
        .select(EventRow::as_select())
        .first(conn)
        .optional()
}

/// Whether `new` moves `old` for a calendar: a change of date, time, zone,
/// instant (new zone rules), recurrence (rule or removed occurrences) or
/// status. Calendar clients only take an update whose SEQUENCE rose (RFC 5545).
pub fn rescheduled(old: &EventRow, new: &EventRow) -> bool {
    old.start_local != new.start_local
        || old.end_local != new.end_local
        || old.time_zone != new.time_zone
        || old.starts_at != new.starts_at
        || old.ends_at != new.ends_at
        || old.earliest != new.earliest
        || old.latest != new.latest
        || old.recurrence != new.recurrence
        || old.exdates != new.exdates
        || old.status != new.status
}

/// Stores an event matched on its key. A change of date, time or status
/// raises its SEQUENCE, as calendar clients expect (RFC 5545).
pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    mut row: EventRow,
    organisations: &[EventOrganisationRow],
    obligation_ids: &[String],
) -> QueryResult<(EventRow, Outcome)> {
    let key = row.key.clone().unwrap_or_default();
    let stored = by_key(conn, &key)?;
    if let Some(old) = &stored {
        row.sequence = old.sequence + i32::from(rescheduled(old, &row));
    }
    let (row, outcome) = upsert_versioned!(conn, ctx, events::table, stored, row);
    let existing: Vec<EventOrganisationRow> = event_organisations::table
        .filter(event_organisations::event_id.eq(&row.id))
        .select(EventOrganisationRow::as_select())
        .load(conn)?;
    let wanted: Vec<EventOrganisationRow> = organisations
        .iter()
        .map(|o| EventOrganisationRow {
            event_id: row.id.clone(),
            ..o.clone()
        })
        .collect();
    for old in existing.iter().filter(|e| !wanted.contains(e)) {
        diesel::delete(
            event_organisations::table
                .filter(event_organisations::event_id.eq(&old.event_id))
                .filter(event_organisations::organisation_id.eq(&old.organisation_id)),
        )
        .execute(conn)?;
        super::audit::record(
            conn,
            ctx,
            "delete",
            "event_organisation",
            &format!("{}/{}", old.event_id, old.organisation_id),
            Some(old),
            None::<&()>,
        )?;
    }
    for new in wanted.iter().filter(|w| !existing.contains(w)) {
        diesel::insert_into(event_organisations::table)
            .values(new)
            .execute(conn)?;
        super::audit::record(
            conn,
            ctx,
            "create",
            "event_organisation",
            &format!("{}/{}", new.event_id, new.organisation_id),
            None::<&()>,
            Some(new),
        )?;
    }
    replace_links!(
        conn,
        ctx,
        event_obligations,
        event_id,
        &row.id,
        obligation_id,
        obligation_ids,
        "event_obligation"
    )?;
    Ok((row, outcome))
}

/// (obligation id, event row) for the events linked to the given obligations.
pub fn linked_to_obligations(
    conn: &mut Conn,
    obligation_ids: &[String],
) -> QueryResult<Vec<(String, EventRow)>> {
    event_obligations::table
        .inner_join(events::table)
        .filter(event_obligations::obligation_id.eq_any(obligation_ids))
        .order(events::earliest.asc())
        .select((event_obligations::obligation_id, EventRow::as_select()))
        .load(conn)
}

pub fn count(conn: &mut Conn) -> QueryResult<i64> {
    events::table.count().get_result(conn)
}

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<EventRow>> {
    events::table
        .find(id)
        .select(EventRow::as_select())
        .first(conn)
        .optional()
}

/// Filters of the event list; all optional.
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    /// Events this organisation organises.
    pub organisation_id: Option<String>,
    /// Events this party hosts or is the guest of.
    pub party_id: Option<String>,
    /// Cities exactly as stored (the caller matched them ignoring case).
    pub cities: Option<Vec<String>>,
    /// Events whose [earliest, latest] overlaps [from, to]; undated events never do.
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub status: Option<String>,
    pub kind: Option<String>,
}

/// Where the previous page ended, in the list's order: (earliest, id), undated last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPosition {
    pub earliest: Option<chrono::NaiveDate>,
    pub id: String,
}

/// The filters of the event list, applied to any boxed query on events.
macro_rules! filtered {
    ($query:expr, $filter:expr) => {{
        let mut query = $query;
        let filter: &EventFilter = $filter;
        if let Some(org) = &filter.organisation_id {
            let organised = event_organisations::table
                .filter(event_organisations::organisation_id.eq(org.clone()))
                .filter(event_organisations::role.eq(EventOrganisationRole::Organiser.as_str()))
                .select(event_organisations::event_id);
            query = query.filter(events::id.eq_any(organised));
        }
        if let Some(party) = &filter.party_id {
            query = query.filter(
                events::host_party_id
                    .eq(party.clone())
                    .or(events::guest_party_id.eq(party.clone())),
            );
        }
        if let Some(cities) = &filter.cities {
            query = query.filter(events::city.eq_any(cities.clone()));
        }
        if let Some(d) = filter.from {
            query = query.filter(events::latest.ge(d));
        }
        if let Some(d) = filter.to {
            query = query.filter(events::earliest.le(d));
        }
        if let Some(s) = &filter.status {
            query = query.filter(events::status.eq(s.clone()));
        }
        if let Some(k) = &filter.kind {
            query = query.filter(events::kind.eq(k.clone()));
        }
        query
    }};
}

/// Events matching the filter by (earliest, id), undated last, after `after`.
pub fn search(
    conn: &mut Conn,
    filter: &EventFilter,
    after: Option<&EventPosition>,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    search_query(filter, after, limit).load(conn)
}

/// The statement `search` runs (public so that tests can EXPLAIN it).
pub fn search_query<'a>(
    filter: &EventFilter,
    after: Option<&EventPosition>,
    limit: i64,
) -> events::BoxedQuery<
    'a,
    crate::db::MultiBackend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<EventRow, crate::db::MultiBackend>>,
> {
    let query = events::table
        .select(EventRow::as_select())
        .order((
            events::earliest.is_null().asc(),
            events::earliest.asc(),
            events::id.asc(),
        ))
        .limit(limit)
        .into_boxed();
    let mut query = filtered!(query, filter);
    if let Some(a) = after {
        query = match a.earliest {
            Some(d) => query.filter(
                events::earliest
                    .gt(d)
                    .or(events::earliest.eq(d).and(events::id.gt(a.id.clone())))
                    .or(events::earliest.is_null()),
            ),
            None => query.filter(events::earliest.is_null().and(events::id.gt(a.id.clone()))),
        };
    }
    query
}

/// How many events match the filter.
pub fn count_matching(conn: &mut Conn, filter: &EventFilter) -> QueryResult<i64> {
    let query = events::table.count().into_boxed();
    filtered!(query, filter).get_result(conn)
}

/// Every city an event is in, as stored.
pub fn cities(conn: &mut Conn) -> QueryResult<Vec<String>> {
    events::table
        .filter(events::city.is_not_null())
        .select(events::city.assume_not_null())
        .distinct()
        .load(conn)
}

/// (event id, organisation key) of the organisers of the given events, by key.
pub fn organisers_of(conn: &mut Conn, event_ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    event_organisations::table
        .inner_join(organisations::table)
        .filter(event_organisations::event_id.eq_any(event_ids))
        .filter(event_organisations::role.eq(EventOrganisationRole::Organiser.as_str()))
        .order(organisations::key.asc())
        .select((event_organisations::event_id, organisations::key))
        .load(conn)
}

/// Ids of the organisations that organise an event.
pub fn organiser_ids(conn: &mut Conn, event_id: &str) -> QueryResult<Vec<String>> {
    event_organisations::table
        .filter(event_organisations::event_id.eq(event_id))
        .filter(event_organisations::role.eq(EventOrganisationRole::Organiser.as_str()))
        .order(event_organisations::organisation_id.asc())
        .select(event_organisations::organisation_id)
        .load(conn)
}

/// Events that could clash with another one: neither cancelled nor
/// approximate, other than `except`, with a day in [from, to] (the
/// events_dates index), by first day.
macro_rules! clash_candidates {
    ($query:expr, $except:expr, $from:expr, $to:expr) => {
        $query
            .filter(events::id.ne($except))
            .filter(events::status.ne(EventStatus::Cancelled.as_str()))
            .filter(events::schedule.ne(EventSchedule::Approximate.as_str()))
            .filter(events::earliest.le($to))
            .filter(events::latest.ge($from))
    };
}

/// Events that could clash with another one and share an organiser of it
/// (`organisation_ids`): each with the common organisation's key, at most
/// `limit` rows, by first day.
pub fn busy_candidates(
    conn: &mut Conn,
    organisation_ids: &[String],
    except: &str,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    limit: i64,
) -> QueryResult<Vec<(EventRow, String)>> {
    if organisation_ids.is_empty() {
        return Ok(vec![]);
    }
    let query = event_organisations::table
        .inner_join(events::table)
        .inner_join(organisations::table)
        .filter(event_organisations::organisation_id.eq_any(organisation_ids))
        .filter(event_organisations::role.eq(EventOrganisationRole::Organiser.as_str()));
    clash_candidates!(query, except, from, to)
        .order((
            events::earliest.asc(),
            events::id.asc(),
            organisations::key.asc(),
        ))
        .limit(limit)
        .select((EventRow::as_select(), organisations::key))
        .load(conn)
}

/// Events that could clash with another one and have a venue, in one of
/// `cities` (as stored) or in no city when `cities` is given; at most
/// `limit`, by first day. The venue itself is compared by the caller
/// (case folding beyond ASCII is not SQL's on SQLite).
pub fn venue_candidates(
    conn: &mut Conn,
    cities: Option<&[String]>,
    except: &str,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    let query = events::table
        .filter(events::venue.is_not_null())
        .into_boxed();
    let mut query = clash_candidates!(query, except, from, to);
    if let Some(cities) = cities {
        query = query.filter(
            events::city
                .is_null()
                .or(events::city.eq_any(cities.to_vec())),
        );
    }
    query
        .order((events::earliest.asc(), events::id.asc()))
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
}

/// (event id, obligation id) of the obligations the given events fulfil.
pub fn fulfils_of(conn: &mut Conn, event_ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    event_obligations::table
        .filter(event_obligations::event_id.eq_any(event_ids))
        .order(event_obligations::obligation_id.asc())
        .select((
            event_obligations::event_id,
            event_obligations::obligation_id,
        ))
        .load(conn)
}

/// The body an event belongs to for access: the one body of the programmes
/// (or meetings) of the obligations it fulfils; none when it fulfils none,
/// or obligations of several bodies, or of a programme without a body.
pub fn body_of(conn: &mut Conn, obligation_ids: &[String]) -> QueryResult<Option<String>> {
    if obligation_ids.is_empty() {
        return Ok(None);
    }
    let owners: Vec<(Option<String>, Option<String>)> = obligations::table
        .left_join(programmes::table)
        .left_join(meetings::table)
        .filter(obligations::id.eq_any(obligation_ids))
        .select((programmes::body_id.nullable(), meetings::body_id.nullable()))
        .load(conn)?;
    let bodies: std::collections::BTreeSet<Option<String>> = owners
        .into_iter()
        .map(|(programme_body, meeting_body)| programme_body.or(meeting_body))
        .collect();
    Ok(match bodies.len() {
        1 => bodies.into_iter().next().flatten(),
        _ => None,
    })
}

pub fn insert(conn: &mut Conn, ctx: &WriteContext, row: EventRow) -> QueryResult<EventRow> {
    Ok(insert_audited!(conn, ctx, events::table, row))
}

/// Writes `row` over `stored` if the event is still at version `expected`.
pub fn update(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: EventRow,
    row: EventRow,
    expected: i32,
) -> QueryResult<Versioned<EventRow>> {
    Ok(update_versioned!(
        conn,
        ctx,
        events::table,
        events::version,
        stored,
        row,
        expected
    ))
}

/// Raises an event's version when only its links (organisers, obligations) changed.
pub fn bump_version(
    conn: &mut Conn,
    id: &str,
    expected: i32,
    at: chrono::NaiveDateTime,
) -> QueryResult<Option<EventRow>> {
    let n = diesel::update(events::table.find(id).filter(events::version.eq(expected)))
        .set((events::version.eq(expected + 1), events::updated_at.eq(at)))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    by_id(conn, id)
}

fn unlink_organisation(
    conn: &mut Conn,
    ctx: &WriteContext,
    old: &EventOrganisationRow,
) -> QueryResult<()> {
    diesel::delete(
        event_organisations::table
            .filter(event_organisations::event_id.eq(&old.event_id))
            .filter(event_organisations::organisation_id.eq(&old.organisation_id)),
    )
    .execute(conn)?;
    super::audit::record(
        conn,
        ctx,
        "delete",
        "event_organisation",
        &format!("{}/{}", old.event_id, old.organisation_id),
        Some(old),
        None::<&()>,
    )
}

/// Makes the organisers of an event exactly `organisation_ids` (participants
/// are kept, unless one becomes an organiser). Returns whether anything changed.
pub fn replace_organisers(
    conn: &mut Conn,
    ctx: &WriteContext,
    event_id: &str,
    organisation_ids: &[String],
) -> QueryResult<bool> {
    let organiser = EventOrganisationRole::Organiser.as_str();
    let existing: Vec<EventOrganisationRow> = event_organisations::table
        .filter(event_organisations::event_id.eq(event_id))
        .select(EventOrganisationRow::as_select())
        .load(conn)?;
    let mut changed = false;
    for old in &existing {
        let wanted = organisation_ids.contains(&old.organisation_id);
        if (old.role == organiser) != wanted {
            unlink_organisation(conn, ctx, old)?;
            changed = changed || old.role == organiser;
        }
    }
    for id in organisation_ids {
        if existing
            .iter()
            .any(|e| &e.organisation_id == id && e.role == organiser)
        {
            continue;
        }
        let new = EventOrganisationRow {
            event_id: event_id.to_string(),
            organisation_id: id.clone(),
            role: organiser.to_string(),
        };
        diesel::insert_into(event_organisations::table)
            .values(&new)
            .execute(conn)?;
        super::audit::record(
            conn,
            ctx,
            "create",
            "event_organisation",
            &format!("{}/{}", new.event_id, new.organisation_id),
            None::<&()>,
            Some(&new),
        )?;
        changed = true;
    }
    Ok(changed)
}

/// Makes the obligations an event fulfils exactly `obligation_ids`. Returns
/// whether anything changed.
pub fn replace_fulfils(
    conn: &mut Conn,
    ctx: &WriteContext,
    event_id: &str,
    obligation_ids: &[String],
) -> QueryResult<bool> {
    use std::collections::BTreeSet;
    let existing: BTreeSet<String> = event_obligations::table
        .filter(event_obligations::event_id.eq(event_id))
        .select(event_obligations::obligation_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    if existing == obligation_ids.iter().cloned().collect::<BTreeSet<_>>() {
        return Ok(false);
    }
    replace_links!(
        conn,
        ctx,
        event_obligations,
        event_id,
        event_id,
        obligation_id,
        obligation_ids,
        "event_obligation"
    )?;
    Ok(true)
}

/// Deletes an event still at version `expected`, with its links and changed
/// occurrences, each audited.
/// Returns false when the event changed meanwhile.
pub fn delete(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: EventRow,
    expected: i32,
) -> QueryResult<bool> {
    if stored.version != expected {
        return Ok(false);
    }
    let links: Vec<EventOrganisationRow> = event_organisations::table
        .filter(event_organisations::event_id.eq(&stored.id))
        .select(EventOrganisationRow::as_select())
        .load(conn)?;
    for old in &links {
        unlink_organisation(conn, ctx, old)?;
    }
    replace_fulfils(conn, ctx, &stored.id.clone(), &[])?;
    // The database would cascade them; deleted here so the audit log has them.
    for change in super::occurrences::of_event(conn, &stored.id)? {
        super::occurrences::delete(conn, ctx, &change)?;
    }
    Ok(delete_versioned!(
        conn,
        ctx,
        events::table,
        events::version,
        stored,
        expected
    ))
}
