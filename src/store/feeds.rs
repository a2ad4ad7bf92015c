//! Calendar feeds: secret URLs (stored as the SHA-256 of their token) and
//! the records each feed shows.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::agreements::AgreementRow;
use super::bodies::MeetingRow;
use super::events::EventRow;
use super::obligations::ObligationRow;
use super::WriteContext;
use crate::db::schema::{
    agreement_parties, agreement_signatories, agreements, assignments, audit_log, body_parties,
    calendar_feeds, event_obligations, event_occurrences, event_organisations, events, lead_times,
    meetings, obligation_occurrences, obligations, organisations, programmes,
};
use crate::db::Conn;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = calendar_feeds)]
pub struct FeedRow {
    pub id: String,
    /// Never shown, not even in the audit log.
    #[serde(skip_serializing)]
    pub token_hash: String,
    pub organisation_id: Option<String>,
    pub contact_id: Option<String>,
    pub programme_id: Option<String>,
    pub party_id: Option<String>,
    pub language: Option<String>,
    pub label: Option<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut Conn, ctx: &WriteContext, row: FeedRow) -> QueryResult<FeedRow> {
    diesel::insert_into(calendar_feeds::table)
        .values(&row)
        .execute(conn)?;
    super::audit::record(
        conn,
        ctx,
        "create",
        "calendar_feed",
        &row.id,
        None::<&()>,
        Some(&row),
    )?;
    Ok(row)
}

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<FeedRow>> {
    calendar_feeds::table
        .find(id)
        .select(FeedRow::as_select())
        .first(conn)
        .optional()
}

/// The live feed a token opens: none when unknown or revoked.
pub fn by_token_hash(conn: &mut Conn, hash: &str) -> QueryResult<Option<FeedRow>> {
    calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(hash))
        .filter(calendar_feeds::revoked_at.is_null())
        .select(FeedRow::as_select())
        .first(conn)
        .optional()
}

/// Feeds, newest first: those one user made, or all.
/// The live (not revoked) feeds, of one maker or all.
pub fn list(conn: &mut Conn, created_by: Option<&str>) -> QueryResult<Vec<FeedRow>> {
    let mut query = calendar_feeds::table
        .filter(calendar_feeds::revoked_at.is_null())
        .select(FeedRow::as_select())
        .order((calendar_feeds::created_at.desc(), calendar_feeds::id.asc()))
        .into_boxed();
    if let Some(user) = created_by {
        query = query.filter(calendar_feeds::created_by.eq(user.to_string()));
    }
    query.load(conn)
}

/// Revokes a live feed; false when it was revoked already.
pub fn revoke(conn: &mut Conn, ctx: &WriteContext, row: &FeedRow) -> QueryResult<bool> {
    let n = diesel::update(calendar_feeds::table.find(&row.id))
        .filter(calendar_feeds::revoked_at.is_null())
        .set(calendar_feeds::revoked_at.eq(Some(ctx.at)))
        .execute(conn)?;
    if n == 1 {
        let after = FeedRow {
            revoked_at: Some(ctx.at),
            ..row.clone()
        };
        super::audit::record(
            conn,
            ctx,
            "update",
            "calendar_feed",
            &row.id,
            Some(row),
            Some(&after),
        )?;
    }
    Ok(n == 1)
}

/// What a feed is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// An organisation (a contact's feed is its organisation's).
    Organisation(String),
    Programme(String),
    Party(String),
}

/// A changed occurrence of a recurring event.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = event_occurrences)]
pub struct OccurrenceChange {
    pub event_id: String,
    pub recurrence_local: NaiveDateTime,
    pub status: String,
    pub start_local: NaiveDateTime,
    pub end_local: Option<NaiveDateTime>,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    pub note: Option<String>,
    pub sequence: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A lead-time rule as a feed needs it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = lead_times)]
pub struct LeadTime {
    pub id: String,
    pub event_id: Option<String>,
    pub obligation_id: Option<String>,
    pub meeting_id: Option<String>,
    pub anchor: String,
    pub days_before: i32,
    pub title: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Everything one feed shows.
#[derive(Debug, Clone, Default)]
pub struct Content {
    pub events: Vec<EventRow>,
    pub changes: Vec<OccurrenceChange>,
    pub obligations: Vec<ObligationRow>,
    /// (obligation id, year, earliest, latest) of yearly obligations.
    pub yearly: Vec<(String, i32, chrono::NaiveDate, chrono::NaiveDate)>,
    pub lead_times: Vec<LeadTime>,
    pub meetings: Vec<MeetingRow>,
    pub agreements: Vec<AgreementRow>,
    /// The last time anything was deleted: a deletion changes a feed without
    /// leaving a row to date it.
    pub last_deletion: Option<NaiveDateTime>,
}

/// Ids in chunks: SQLite limits the parameters of one statement.
const CHUNK: usize = 5_000;

fn ids_of_obligations(conn: &mut Conn, scope: &Scope) -> QueryResult<Vec<String>> {
    let mut ids: Vec<String> = match scope {
        Scope::Organisation(org) => assignments::table
            .filter(assignments::organisation_id.eq(org))
            .select(assignments::obligation_id)
            .load(conn)?,
        Scope::Party(party) => assignments::table
            .filter(assignments::party_id.eq(party))
            .select(assignments::obligation_id)
            .load(conn)?,
        Scope::Programme(programme) => obligations::table
            .filter(obligations::programme_id.eq(programme))
            .select(obligations::id)
            .load(conn)?,
    };
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn ids_of_events(
    conn: &mut Conn,
    scope: &Scope,
    obligation_ids: &[String],
) -> QueryResult<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    for chunk in obligation_ids.chunks(CHUNK) {
        ids.extend(
            event_obligations::table
                .filter(event_obligations::obligation_id.eq_any(chunk))
                .select(event_obligations::event_id)
                .load::<String>(conn)?,
        );
    }
    match scope {
        Scope::Organisation(org) => ids.extend(
            event_organisations::table
                .filter(event_organisations::organisation_id.eq(org))
                .select(event_organisations::event_id)
                .load::<String>(conn)?,
        ),
        Scope::Party(party) => {
            ids.extend(
                events::table
                    .filter(
                        events::host_party_id
                            .eq(party)
                            .or(events::guest_party_id.eq(party)),
                    )
                    .select(events::id)
                    .load::<String>(conn)?,
            );
            ids.extend(
                event_organisations::table
                    .inner_join(organisations::table)
                    .filter(organisations::party_id.eq(party))
                    .select(event_organisations::event_id)
                    .load::<String>(conn)?,
            );
        }
        Scope::Programme(_) => {}
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Meetings of the bodies concerned: those of the programmes of the feed's
/// items, the meetings whose protocols hold its items, and (for a party)
/// those of the bodies it sits on.
fn ids_of_meetings(
    conn: &mut Conn,
    scope: &Scope,
    items: &[ObligationRow],
) -> QueryResult<Vec<String>> {
    let mut programme_ids: Vec<String> = items
        .iter()
        .filter_map(|o| o.programme_id.clone())
        .collect();
    if let Scope::Programme(p) = scope {
        programme_ids.push(p.clone());
    }
    programme_ids.sort();
    programme_ids.dedup();
    let mut body_ids: Vec<String> = Vec::new();
    for chunk in programme_ids.chunks(CHUNK) {
        body_ids.extend(
            programmes::table
                .filter(programmes::id.eq_any(chunk))
                .filter(programmes::body_id.is_not_null())
                .select(programmes::body_id.assume_not_null())
                .load::<String>(conn)?,
        );
    }
    if let Scope::Party(party) = scope {
        body_ids.extend(
            body_parties::table
                .filter(body_parties::party_id.eq(party))
                .select(body_parties::body_id)
                .load::<String>(conn)?,
        );
    }
    body_ids.sort();
    body_ids.dedup();
    let mut ids: Vec<String> = items.iter().filter_map(|o| o.meeting_id.clone()).collect();
    for chunk in body_ids.chunks(CHUNK) {
        ids.extend(
            meetings::table
                .filter(meetings::body_id.eq_any(chunk))
                .select(meetings::id)
                .load::<String>(conn)?,
        );
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Agreements whose notice deadlines concern the feed: a programme's own
/// agreement, those a party is party to, those an organisation signed.
fn ids_of_agreements(conn: &mut Conn, scope: &Scope) -> QueryResult<Vec<String>> {
    let mut ids: Vec<String> = match scope {
        Scope::Organisation(org) => agreement_signatories::table
            .filter(agreement_signatories::organisation_id.eq(org))
            .select(agreement_signatories::agreement_id)
            .load(conn)?,
        Scope::Party(party) => agreement_parties::table
            .filter(agreement_parties::party_id.eq(party))
            .select(agreement_parties::agreement_id)
            .load(conn)?,
        Scope::Programme(programme) => programmes::table
            .find(programme)
            .filter(programmes::agreement_id.is_not_null())
            .select(programmes::agreement_id.assume_not_null())
            .load(conn)?,
    };
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Loads everything a feed of this scope shows.
pub fn content(conn: &mut Conn, scope: &Scope) -> QueryResult<Content> {
    let obligation_ids = ids_of_obligations(conn, scope)?;
    let event_ids = ids_of_events(conn, scope, &obligation_ids)?;
    let mut c = Content::default();
    for chunk in obligation_ids.chunks(CHUNK) {
        c.obligations.extend(
            obligations::table
                .filter(obligations::id.eq_any(chunk))
                .select(ObligationRow::as_select())
                .load(conn)?,
        );
        c.yearly.extend(
            obligation_occurrences::table
                .filter(obligation_occurrences::obligation_id.eq_any(chunk))
                .select((
                    obligation_occurrences::obligation_id,
                    obligation_occurrences::year,
                    obligation_occurrences::earliest,
                    obligation_occurrences::latest,
                ))
                .load::<(String, i32, chrono::NaiveDate, chrono::NaiveDate)>(conn)?,
        );
        c.lead_times.extend(
            lead_times::table
                .filter(lead_times::obligation_id.eq_any(chunk))
                .select(LeadTime::as_select())
                .load(conn)?,
        );
    }
    for chunk in event_ids.chunks(CHUNK) {
        c.events.extend(
            events::table
                .filter(events::id.eq_any(chunk))
                .select(EventRow::as_select())
                .load(conn)?,
        );
        c.changes.extend(
            event_occurrences::table
                .filter(event_occurrences::event_id.eq_any(chunk))
                .select(OccurrenceChange::as_select())
                .load(conn)?,
        );
        c.lead_times.extend(
            lead_times::table
                .filter(lead_times::event_id.eq_any(chunk))
                .select(LeadTime::as_select())
                .load(conn)?,
        );
    }
    let meeting_ids = ids_of_meetings(conn, scope, &c.obligations)?;
    for chunk in meeting_ids.chunks(CHUNK) {
        c.meetings.extend(
            meetings::table
                .filter(meetings::id.eq_any(chunk))
                .select(MeetingRow::as_select())
                .load(conn)?,
        );
        c.lead_times.extend(
            lead_times::table
                .filter(lead_times::meeting_id.eq_any(chunk))
                .select(LeadTime::as_select())
                .load(conn)?,
        );
    }
    let agreement_ids = ids_of_agreements(conn, scope)?;
    for chunk in agreement_ids.chunks(CHUNK) {
        c.agreements.extend(
            agreements::table
                .filter(agreements::id.eq_any(chunk))
                .select(AgreementRow::as_select())
                .load(conn)?,
        );
    }
    c.last_deletion = last_deletion(conn)?;
    Ok(c)
}

/// When anything was last deleted (conservative: a feed may have lost an entry then).
fn last_deletion(conn: &mut Conn) -> QueryResult<Option<NaiveDateTime>> {
    audit_log::table
        .filter(audit_log::action.eq("delete"))
        .select(diesel::dsl::max(audit_log::at))
        .first(conn)
}

/// One event with its changed occurrences and lead times (the single-event download).
pub fn content_of_event(conn: &mut Conn, event: EventRow) -> QueryResult<Content> {
    let changes = event_occurrences::table
        .filter(event_occurrences::event_id.eq(&event.id))
        .select(OccurrenceChange::as_select())
        .load(conn)?;
    let lead_times = lead_times::table
        .filter(lead_times::event_id.eq(&event.id))
        .select(LeadTime::as_select())
        .load(conn)?;
    let last_deletion = last_deletion(conn)?;
    Ok(Content {
        events: vec![event],
        changes,
        lead_times,
        last_deletion,
        ..Content::default()
    })
}

/// How far below the highest change number [`changes`] counts: a PostgreSQL
/// transaction that took its number earlier but committed later shows up in
/// the count.
const CHANGE_WINDOW: i64 = 1_000;

/// Where the feeds' change log stands: (highest number, numbers in the last
/// [`CHANGE_WINDOW`]). Every write to a table whose rows any feed shows moves
/// it (database triggers, migration 000009), so equal answers mean equal
/// content; two index lookups, whatever the size of the feeds.
pub fn changes(conn: &mut Conn) -> QueryResult<(i64, i64)> {
    use diesel::sql_types::{BigInt, Nullable};
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Nullable<BigInt>)]
        top: Option<i64>,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let row: Row = diesel::sql_query(format!(
        "SELECT MAX(seq) AS top, COUNT(*) AS n FROM feed_changes \
         WHERE seq > (SELECT COALESCE(MAX(seq), 0) FROM feed_changes) - {CHANGE_WINDOW}"
    ))
    .get_result(conn)?;
    Ok((row.top.unwrap_or(0), row.n))
}
