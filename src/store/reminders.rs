//! What the planner reads and writes: the items whose reminders fall in a
//! window (chosen by their dates on indexed columns, so the cost follows what
//! is due, not the size of the tables), who is responsible for them, the
//! secretariats of bodies, and the outbox rows it revives, cancels and
//! gathers into digests. Queueing itself is `store::notifications::queue`.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::agreements::AgreementRow;
use super::bodies::MeetingRow;
use super::events::EventRow;
use super::lead_times::{Deadline, LeadTime};
use super::notifications::{state, NotificationRow};
use super::obligations::{ObligationRow, OccurrenceRow};
use super::organisations::{ContactRow, OrganisationRow};
use super::programmes::ProgrammeRow;
use super::{replace_links, WriteContext};
use crate::db::schema::{
    agreement_signatories, agreements, bodies, body_secretariats, contacts, event_obligations,
    event_organisations, events, lead_times, meetings, notifications, obligation_occurrences,
    obligations, organisations, programmes,
};
use crate::db::Conn;
use crate::domain::kinds::{EventOrganisationRole, EventSchedule, EventStatus, MeetingStatus};
use crate::domain::status::Lifecycle;

/// Ids per statement: SQLite limits the parameters of one.
const CHUNK: usize = 5_000;

/// States of a row that has not gone out: pending, awaiting a retry, or
/// claimed by a worker that has not sent it yet (the worker checks the row
/// right before sending and skips a cancelled one).
const UNSENT: [&str; 3] = [state::PENDING, state::RETRY, state::SENDING];

/// Kinds of row the planner writes about dated items (re-planning cancels
/// these; event emails are another matter).
pub const REMINDER_KINDS: [&str; 2] = ["reminder", "overdue"];
/// Kinds of row that gather others.
pub const GATHERING_KINDS: [&str; 2] = ["digest", "escalation"];
/// Kinds of email about an event itself, carrying an iTIP calendar.
pub const EVENT_KINDS: [&str; 3] = ["event_invitation", "event_change", "event_cancellation"];

/// Lifecycles that are reminded of: not closed, not suspended.
fn open_lifecycles() -> Vec<&'static str> {
    Lifecycle::ALL
        .iter()
        .filter(|l| !l.is_closed() && **l != Lifecycle::Suspended)
        .map(|l| l.as_str())
        .collect()
}

/// Event statuses that are reminded of: planned, not cancelled or held.
fn live_event_statuses() -> [&'static str; 3] {
    [
        EventStatus::Tentative.as_str(),
        EventStatus::Confirmed.as_str(),
        EventStatus::Postponed.as_str(),
    ]
}

// ---------------------------------------------------------------- candidates

/// Open items that do not recur, due (latest) on or before `to` (so also
/// every overdue one), or starting (earliest) within [from, to].
///
/// Two range scans on (lifecycle, latest) and (lifecycle, earliest) rather
/// than one OR, which the backends answer by reading every open item or
/// every item due in the past, completed ones included.
pub fn open_obligations(
    conn: &mut Conn,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<ObligationRow>> {
    let mut rows: Vec<ObligationRow> = obligations::table
        .filter(obligations::lifecycle.eq_any(open_lifecycles()))
        .filter(obligations::latest.le(to))
        .filter(obligations::recurrence.is_null())
        .select(ObligationRow::as_select())
        .load(conn)?;
    rows.extend(
        obligations::table
            .filter(obligations::lifecycle.eq_any(open_lifecycles()))
            .filter(obligations::earliest.between(from, to))
            .filter(obligations::latest.gt(to))
            .filter(obligations::recurrence.is_null())
            .select(ObligationRow::as_select())
            .load::<ObligationRow>(conn)?,
    );
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rows)
}

/// Occurrences of open yearly items due on or before `to`, or starting
/// within [from, to], with their item.
pub fn open_occurrences(
    conn: &mut Conn,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(ObligationRow, OccurrenceRow)>> {
    obligation_occurrences::table
        .inner_join(
            obligations::table.on(obligations::id.eq(obligation_occurrences::obligation_id)),
        )
        .filter(obligations::lifecycle.eq_any(open_lifecycles()))
        .filter(
            obligation_occurrences::latest
                .le(to)
                .or(obligation_occurrences::earliest.between(from, to)),
        )
        .order((
            obligation_occurrences::obligation_id.asc(),
            obligation_occurrences::year.asc(),
        ))
        .select((ObligationRow::as_select(), OccurrenceRow::as_select()))
        .load(conn)
}

/// Events still to happen (tentative, confirmed, postponed; with a date or
/// a time) with a day in [from, to] (a series: its span).
pub fn live_events(conn: &mut Conn, from: NaiveDate, to: NaiveDate) -> QueryResult<Vec<EventRow>> {
    events::table
        .filter(events::status.eq_any(live_event_statuses()))
        .filter(events::schedule.ne(EventSchedule::Approximate.as_str()))
        .filter(events::earliest.le(to))
        .filter(events::latest.ge(from))
        .order(events::id.asc())
        .select(EventRow::as_select())
        .load(conn)
}

/// Meetings still to be held (planned or postponed) on a day in [from, to].
pub fn live_meetings(
    conn: &mut Conn,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<MeetingRow>> {
    meetings::table
        .filter(meetings::status.eq_any([
            MeetingStatus::Planned.as_str(),
            MeetingStatus::Postponed.as_str(),
        ]))
        .filter(meetings::held_on.between(from, to))
        .order(meetings::id.asc())
        .select(MeetingRow::as_select())
        .load(conn)
}

/// Agreements with an entry into force and a term: those that have notice
/// deadlines. Agreements are few (tens): no date window narrows them.
pub fn agreements_with_terms(conn: &mut Conn) -> QueryResult<Vec<AgreementRow>> {
    agreements::table
        .filter(agreements::in_force_on.is_not_null())
        .filter(agreements::term_months.is_not_null())
        .order(agreements::id.asc())
        .select(AgreementRow::as_select())
        .load(conn)
}

/// The shortest and longest lead time (days before), if there are any.
fn lead_time_span(conn: &mut Conn) -> QueryResult<Option<(i32, i32)>> {
    let (min, max): (Option<i32>, Option<i32>) = lead_times::table
        .select((
            diesel::dsl::min(lead_times::days_before),
            diesel::dsl::max(lead_times::days_before),
        ))
        .first(conn)?;
    Ok(min.zip(max))
}

/// The deadlines (from lead times) that may fall due within [from, to]:
/// rules whose anchors have a date within [from + shortest, to + longest]
/// lead, each anchor still live. Due dates come from
/// `store::lead_times` (the same rule as the API's); undated ones are left out.
pub fn deadlines_between(
    conn: &mut Conn,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Deadline>> {
    let Some((min, max)) = lead_time_span(conn)? else {
        return Ok(Vec::new());
    };
    let shift = |d: NaiveDate, n: i32| {
        d.checked_add_signed(chrono::Duration::days(i64::from(n)))
            .unwrap_or(d)
    };
    let (lo, hi) = (shift(from, min), shift(to, max));
    let event_ids: Vec<String> = lead_times::table
        .inner_join(events::table.on(lead_times::event_id.eq(events::id.nullable())))
        .filter(events::status.eq_any(live_event_statuses()))
        .filter(events::earliest.le(hi))
        .filter(events::latest.ge(lo))
        .select(events::id)
        .distinct()
        .load(conn)?;
    let mut obligation_ids: Vec<String> = lead_times::table
        .inner_join(obligations::table.on(lead_times::obligation_id.eq(obligations::id.nullable())))
        .filter(obligations::lifecycle.eq_any(open_lifecycles()))
        .filter(obligations::recurrence.is_null())
        .filter(obligations::latest.ge(lo))
        .filter(obligations::earliest.le(hi))
        .select(obligations::id)
        .distinct()
        .load(conn)?;
    obligation_ids.extend(
        lead_times::table
            .inner_join(
                obligation_occurrences::table
                    .on(lead_times::obligation_id
                        .eq(obligation_occurrences::obligation_id.nullable())),
            )
            .inner_join(
                obligations::table.on(lead_times::obligation_id.eq(obligations::id.nullable())),
            )
            .filter(obligations::lifecycle.eq_any(open_lifecycles()))
            .filter(obligation_occurrences::latest.ge(lo))
            .filter(obligation_occurrences::earliest.le(hi))
            .select(obligation_occurrences::obligation_id)
            .distinct()
            .load::<String>(conn)?,
    );
    obligation_ids.sort();
    obligation_ids.dedup();
    let meeting_ids: Vec<String> = lead_times::table
        .inner_join(meetings::table.on(lead_times::meeting_id.eq(meetings::id.nullable())))
        .filter(meetings::status.eq_any([
            MeetingStatus::Planned.as_str(),
            MeetingStatus::Postponed.as_str(),
        ]))
        .filter(meetings::held_on.between(lo, hi))
        .select(meetings::id)
        .distinct()
        .load(conn)?;
    let deadlines =
        super::lead_times::deadlines_of(conn, &event_ids, &obligation_ids, &meeting_ids)?;
    Ok(deadlines
        .into_iter()
        .filter(|d| d.due_on.is_some_and(|due| (from..=to).contains(&due)))
        .collect())
}

/// The deadlines of the given lead-time rules (whatever their dates).
pub fn deadlines_of_rules(conn: &mut Conn, rules: Vec<LeadTime>) -> QueryResult<Vec<Deadline>> {
    let (events, items, meetings) = super::lead_times::anchor_ids(&rules);
    let anchors = super::lead_times::anchors(conn, &events, &items, &meetings)?;
    Ok(super::lead_times::derive(rules, &anchors))
}

// ---------------------------------------------------------------- records by id

pub fn obligations_by_ids(conn: &mut Conn, ids: &[String]) -> QueryResult<Vec<ObligationRow>> {
    super::in_chunks(ids, |chunk| {
        obligations::table
            .filter(obligations::id.eq_any(chunk))
            .select(ObligationRow::as_select())
            .load(conn)
    })
}

pub fn events_by_ids(conn: &mut Conn, ids: &[String]) -> QueryResult<Vec<EventRow>> {
    super::in_chunks(ids, |chunk| {
        events::table
            .filter(events::id.eq_any(chunk))
            .select(EventRow::as_select())
            .load(conn)
    })
}

pub fn agreements_by_ids(conn: &mut Conn, ids: &[String]) -> QueryResult<Vec<AgreementRow>> {
    super::in_chunks(ids, |chunk| {
        agreements::table
            .filter(agreements::id.eq_any(chunk))
            .filter(agreements::in_force_on.is_not_null())
            .filter(agreements::term_months.is_not_null())
            .select(AgreementRow::as_select())
            .load(conn)
    })
}

pub fn programmes_by_ids(conn: &mut Conn, ids: &[String]) -> QueryResult<Vec<ProgrammeRow>> {
    super::in_chunks(ids, |chunk| {
        programmes::table
            .filter(programmes::id.eq_any(chunk))
            .select(ProgrammeRow::as_select())
            .load(conn)
    })
}

pub fn meetings_by_ids(conn: &mut Conn, ids: &[String]) -> QueryResult<Vec<MeetingRow>> {
    super::in_chunks(ids, |chunk| {
        meetings::table
            .filter(meetings::id.eq_any(chunk))
            .select(MeetingRow::as_select())
            .load(conn)
    })
}

pub fn organisations_by_ids(conn: &mut Conn, ids: &[String]) -> QueryResult<Vec<OrganisationRow>> {
    super::in_chunks(ids, |chunk| {
        organisations::table
            .filter(organisations::id.eq_any(chunk))
            .select(OrganisationRow::as_select())
            .load(conn)
    })
}

/// (body id, key, name) of the given bodies.
pub fn bodies_by_ids(
    conn: &mut Conn,
    ids: &[String],
) -> QueryResult<Vec<(String, String, String)>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        found.extend(
            bodies::table
                .filter(bodies::id.eq_any(chunk))
                .select((bodies::id, bodies::key, bodies::name))
                .load::<(String, String, String)>(conn)?,
        );
    }
    Ok(found)
}

/// (event id, organisation id) of the organisers of the given events.
pub fn organisers_of(conn: &mut Conn, event_ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    let mut found = Vec::new();
    for chunk in event_ids.chunks(CHUNK) {
        found.extend(
            event_organisations::table
                .filter(event_organisations::event_id.eq_any(chunk))
                .filter(event_organisations::role.eq(EventOrganisationRole::Organiser.as_str()))
                .select((
                    event_organisations::event_id,
                    event_organisations::organisation_id,
                ))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(found)
}

/// (event id, programme id) of the programmes whose items the given events fulfil.
pub fn programmes_of_events(
    conn: &mut Conn,
    event_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    let mut found = Vec::new();
    for chunk in event_ids.chunks(CHUNK) {
        found.extend(
            event_obligations::table
                .inner_join(obligations::table)
                .filter(event_obligations::event_id.eq_any(chunk))
                .filter(obligations::programme_id.is_not_null())
                .select((
                    event_obligations::event_id,
                    obligations::programme_id.assume_not_null(),
                ))
                .distinct()
                .load::<(String, String)>(conn)?,
        );
    }
    found.sort();
    Ok(found)
}

/// (agreement id, organisation id) of the signatories of the given agreements.
pub fn signatories_of(
    conn: &mut Conn,
    agreement_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    let mut found = Vec::new();
    for chunk in agreement_ids.chunks(CHUNK) {
        found.extend(
            agreement_signatories::table
                .filter(agreement_signatories::agreement_id.eq_any(chunk))
                .select((
                    agreement_signatories::agreement_id,
                    agreement_signatories::organisation_id,
                ))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(found)
}

/// The active contacts of the given organisations.
pub fn active_contacts_of(
    conn: &mut Conn,
    organisation_ids: &[String],
) -> QueryResult<Vec<ContactRow>> {
    let mut found = Vec::new();
    for chunk in organisation_ids.chunks(CHUNK) {
        found.extend(
            contacts::table
                .filter(contacts::organisation_id.eq_any(chunk))
                .filter(contacts::active.eq(true))
                .order((contacts::organisation_id.asc(), contacts::email.asc()))
                .select(ContactRow::as_select())
                .load(conn)?,
        );
    }
    Ok(found)
}

// ---------------------------------------------------------------- body secretariats

/// (body id, contact) of the active secretariat contacts of the given bodies.
pub fn secretariats_of(
    conn: &mut Conn,
    body_ids: &[String],
) -> QueryResult<Vec<(String, ContactRow)>> {
    let mut found = Vec::new();
    for chunk in body_ids.chunks(CHUNK) {
        found.extend(
            body_secretariats::table
                .inner_join(contacts::table.on(contacts::id.eq(body_secretariats::contact_id)))
                .filter(body_secretariats::body_id.eq_any(chunk))
                .filter(contacts::active.eq(true))
                .order((body_secretariats::body_id.asc(), contacts::email.asc()))
                .select((body_secretariats::body_id, ContactRow::as_select()))
                .load::<(String, ContactRow)>(conn)?,
        );
    }
    Ok(found)
}

/// The contacts with this email (lower case), of whatever organisation, by id.
pub fn contacts_by_email(conn: &mut Conn, email: &str) -> QueryResult<Vec<ContactRow>> {
    contacts::table
        .filter(contacts::email.eq(email))
        .order(contacts::id.asc())
        .select(ContactRow::as_select())
        .load(conn)
}

/// (body id, contact id) of the secretariats of the given bodies (active
/// contacts or not), by body and contact.
pub fn secretariat_links(
    conn: &mut Conn,
    body_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    let mut found = Vec::new();
    for chunk in body_ids.chunks(CHUNK) {
        found.extend(
            body_secretariats::table
                .filter(body_secretariats::body_id.eq_any(chunk))
                .order((
                    body_secretariats::body_id.asc(),
                    body_secretariats::contact_id.asc(),
                ))
                .select((body_secretariats::body_id, body_secretariats::contact_id))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(found)
}

/// The contact ids of a body's secretariat (active or not), in id order.
pub fn secretariat_ids(conn: &mut Conn, body_id: &str) -> QueryResult<Vec<String>> {
    body_secretariats::table
        .filter(body_secretariats::body_id.eq(body_id))
        .order(body_secretariats::contact_id.asc())
        .select(body_secretariats::contact_id)
        .load(conn)
}

/// Makes a body's secretariat exactly `contact_ids`, each change audited;
/// true when any changed.
pub fn replace_secretariat(
    conn: &mut Conn,
    ctx: &WriteContext,
    body_id: &str,
    contact_ids: &[String],
) -> QueryResult<bool> {
    let before = secretariat_ids(conn, body_id)?;
    replace_links!(
        conn,
        ctx,
        body_secretariats,
        body_id,
        body_id,
        contact_id,
        contact_ids,
        "body_secretariat"
    )?;
    Ok(before != secretariat_ids(conn, body_id)?)
}

/// Moves a body's version on by one if it is still `expected` (a change of
/// its secretariat is a change of the body); false when it moved meanwhile.
pub fn bump_body_version(
    conn: &mut Conn,
    body_id: &str,
    expected: i32,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        bodies::table
            .find(body_id)
            .filter(bodies::version.eq(expected)),
    )
    .set((bodies::version.eq(expected + 1), bodies::updated_at.eq(at)))
    .execute(conn)?;
    Ok(n == 1)
}

// ---------------------------------------------------------------- the outbox

/// The rows with these dedupe keys.
pub fn by_keys(conn: &mut Conn, keys: &[String]) -> QueryResult<Vec<NotificationRow>> {
    let mut found = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        found.extend(
            notifications::table
                .filter(notifications::dedupe_key.eq_any(chunk))
                .select(NotificationRow::as_select())
                .load(conn)?,
        );
    }
    Ok(found)
}

pub fn by_ids(conn: &mut Conn, ids: &[String]) -> QueryResult<Vec<NotificationRow>> {
    super::in_chunks(ids, |chunk| {
        notifications::table
            .filter(notifications::id.eq_any(chunk))
            .select(NotificationRow::as_select())
            .load(conn)
    })
}

/// Brings back a row cancelled before it was ever sent (its item moved away
/// and back): pending again, with what it says and when now, its Message-ID
/// kept. False when the row is not such a row (any more).
pub fn revive(
    conn: &mut Conn,
    id: &str,
    payload: &str,
    send_after: NaiveDateTime,
    digest_id: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        notifications::table
            .find(id)
            .filter(notifications::state.eq(state::CANCELLED))
            .filter(notifications::sent_at.is_null()),
    )
    .set((
        notifications::state.eq(state::PENDING),
        notifications::payload.eq(payload),
        notifications::send_after.eq(send_after),
        notifications::digest_id.eq(digest_id),
        notifications::lease_until.eq(None::<NaiveDateTime>),
        notifications::claimed_by.eq(None::<String>),
        notifications::last_error.eq(None::<String>),
        notifications::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Rewrites what a row not tried yet says and when it goes (its item
/// changed); false when it is no longer such a row.
pub fn refresh(
    conn: &mut Conn,
    id: &str,
    payload: &str,
    send_after: NaiveDateTime,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        notifications::table
            .find(id)
            .filter(notifications::state.eq(state::PENDING))
            .filter(notifications::attempts.eq(0)),
    )
    .set((
        notifications::payload.eq(payload),
        notifications::send_after.eq(send_after),
        notifications::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// What identifies a notice apart from the policy that planned it.
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    pub kind: &'a str,
    pub item_kind: &'a str,
    pub item_id: &'a str,
    pub occurrence: &'a str,
    pub due_on: NaiveDate,
    pub offset_days: i32,
    pub contact_id: &'a str,
}

/// What identifies a notice across policies: `Notice`, owned.
pub type NoticeKey = (String, String, String, String, NaiveDate, i32, String);

impl Notice<'_> {
    pub fn key(&self) -> NoticeKey {
        (
            self.kind.to_string(),
            self.item_kind.to_string(),
            self.item_id.to_string(),
            self.occurrence.to_string(),
            self.due_on,
            self.offset_days,
            self.contact_id.to_string(),
        )
    }
}

/// A notice as stored: the columns of `NoticeKey`, some nullable.
type StoredNotice = (
    String,
    Option<String>,
    Option<String>,
    String,
    Option<NaiveDate>,
    Option<i32>,
    Option<String>,
);

/// Which of these notices went out (or are going out) already, under
/// whatever policy planned them: a programme that gets a policy of its own
/// does not tell anyone twice what they were told this morning. Read in a
/// few queries by item, not one per notice (planning 10,000 due items made
/// tens of thousands of round trips).
pub fn told_among(
    conn: &mut Conn,
    notices: &[Notice<'_>],
) -> QueryResult<std::collections::HashSet<NoticeKey>> {
    let items: Vec<String> = notices
        .iter()
        .map(|n| n.item_id.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut told = std::collections::HashSet::new();
    for chunk in items.chunks(CHUNK) {
        let rows: Vec<StoredNotice> = notifications::table
            .filter(notifications::item_id.eq_any(chunk))
            .filter(notifications::state.eq_any([state::SENT, state::SENDING]))
            .select((
                notifications::kind,
                notifications::item_kind,
                notifications::item_id,
                notifications::occurrence,
                notifications::due_on,
                notifications::offset_days,
                notifications::contact_id,
            ))
            .load(conn)?;
        for (kind, item_kind, item_id, occurrence, due_on, offset_days, contact_id) in rows {
            if let (
                Some(item_kind),
                Some(item_id),
                Some(due_on),
                Some(offset_days),
                Some(contact_id),
            ) = (item_kind, item_id, due_on, offset_days, contact_id)
            {
                told.insert((
                    kind,
                    item_kind,
                    item_id,
                    occurrence,
                    due_on,
                    offset_days,
                    contact_id,
                ));
            }
        }
    }
    Ok(told)
}

/// The states of the given rows (digests, say), by id.
fn states_of(conn: &mut Conn, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        found.extend(
            notifications::table
                .filter(notifications::id.eq_any(chunk))
                .select((notifications::id, notifications::state))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(found)
}

/// An unsent reminder row: (id, dedupe key, digest id).
pub type Unsent = (String, String, Option<String>);

/// Keeps the rows that can still be cancelled: alone, or gathered into a
/// digest or escalation that has not gone out (a sending or sent one carries
/// them already).
fn cancellable(conn: &mut Conn, rows: Vec<Unsent>) -> QueryResult<Vec<Unsent>> {
    let digests: Vec<String> = rows
        .iter()
        .filter_map(|r| r.2.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let pending: BTreeSet<String> = states_of(conn, &digests)?
        .into_iter()
        .filter(|(_, s)| s == state::PENDING)
        .map(|(id, _)| id)
        .collect();
    Ok(rows
        .into_iter()
        .filter(|r| r.2.as_ref().is_none_or(|d| pending.contains(d)))
        .collect())
}

/// The unsent reminder and overdue rows about an item.
pub fn unsent_of_item(conn: &mut Conn, item_kind: &str, item_id: &str) -> QueryResult<Vec<Unsent>> {
    let rows = notifications::table
        .filter(notifications::item_kind.eq(item_kind))
        .filter(notifications::item_id.eq(item_id))
        .filter(notifications::state.eq_any(UNSENT))
        .filter(notifications::kind.eq_any(REMINDER_KINDS))
        .select((
            notifications::id,
            notifications::dedupe_key,
            notifications::digest_id,
        ))
        .load::<Unsent>(conn)?;
    cancellable(conn, rows)
}

/// The unsent reminder and overdue rows due to go out within [from, to].
pub fn unsent_between(
    conn: &mut Conn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Unsent>> {
    let rows = notifications::table
        .filter(notifications::state.eq_any(UNSENT))
        .filter(notifications::send_after.between(from, to))
        .filter(notifications::kind.eq_any(REMINDER_KINDS))
        .select((
            notifications::id,
            notifications::dedupe_key,
            notifications::digest_id,
        ))
        .load::<Unsent>(conn)?;
    cancellable(conn, rows)
}

/// Cancels the given rows if still unsent; the number cancelled.
pub fn cancel(conn: &mut Conn, ids: &[String], at: NaiveDateTime) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in ids.chunks(CHUNK) {
        n += diesel::update(
            notifications::table
                .filter(notifications::id.eq_any(chunk))
                .filter(notifications::state.eq_any(UNSENT)),
        )
        .set((
            notifications::state.eq(state::CANCELLED),
            notifications::updated_at.eq(at),
        ))
        .execute(conn)?;
    }
    Ok(n)
}

/// The unsent event emails about an event (a newer one replaces them).
pub fn unsent_event_emails(conn: &mut Conn, event_id: &str) -> QueryResult<Vec<String>> {
    notifications::table
        .filter(notifications::item_kind.eq("event"))
        .filter(notifications::item_id.eq(event_id))
        .filter(notifications::state.eq_any(UNSENT))
        .filter(notifications::kind.eq_any(EVENT_KINDS))
        .select(notifications::id)
        .load(conn)
}

/// The contacts that have received (or are receiving) an invitation or a
/// change of this event: those a cancellation or a change is owed to.
pub fn invited_contacts(conn: &mut Conn, event_id: &str) -> QueryResult<BTreeSet<String>> {
    let ids: Vec<Option<String>> = notifications::table
        .filter(notifications::item_kind.eq("event"))
        .filter(notifications::item_id.eq(event_id))
        .filter(notifications::state.eq_any([state::SENT, state::SENDING]))
        .filter(notifications::kind.eq_any(["event_invitation", "event_change"]))
        .select(notifications::contact_id)
        .load(conn)?;
    Ok(ids.into_iter().flatten().collect())
}

/// A digest or escalation still open to members, locked against a worker's
/// claim until this transaction ends (PostgreSQL; SQLite's write
/// transaction excludes the worker anyway). None when it is not pending.
pub fn lock_pending(conn: &mut Conn, id: &str) -> QueryResult<Option<NotificationRow>> {
    macro_rules! pending {
        () => {
            notifications::table
                .find(id)
                .filter(notifications::state.eq(state::PENDING))
                .select(NotificationRow::as_select())
        };
    }
    match conn {
        Conn::Postgresql(c) => pending!().for_update().first(c).optional(),
        Conn::Sqlite(c) => pending!().first(c).optional(),
    }
}

/// The members of a digest or escalation that still count (not cancelled),
/// by due date.
pub fn live_members(conn: &mut Conn, digest_id: &str) -> QueryResult<Vec<NotificationRow>> {
    notifications::table
        .filter(notifications::digest_id.eq(digest_id))
        .filter(notifications::state.ne(state::CANCELLED))
        .order((
            notifications::due_on.asc(),
            notifications::send_after.asc(),
            notifications::id.asc(),
        ))
        .select(NotificationRow::as_select())
        .load(conn)
}

/// Rewrites what a pending digest says.
pub fn set_payload(
    conn: &mut Conn,
    id: &str,
    payload: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .find(id)
            .filter(notifications::state.eq(state::PENDING)),
    )
    .set((
        notifications::payload.eq(payload),
        notifications::updated_at.eq(at),
    ))
    .execute(conn)
}

/// Points a member at its digest.
pub fn link(
    conn: &mut Conn,
    member_id: &str,
    digest_id: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(notifications::table.find(member_id))
        .set((
            notifications::digest_id.eq(digest_id),
            notifications::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Rows due to go out within [from, to] that are sent on their own (not
/// gathered), pending or awaiting a retry: what a preview shows.
pub fn due_between(
    conn: &mut Conn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<NotificationRow>> {
    notifications::table
        .filter(notifications::state.eq_any(UNSENT))
        .filter(notifications::send_after.between(from, to))
        .filter(notifications::digest_id.is_null())
        .order((
            notifications::recipient.asc(),
            notifications::send_after.asc(),
            notifications::dedupe_key.asc(),
        ))
        .select(NotificationRow::as_select())
        .load(conn)
}
