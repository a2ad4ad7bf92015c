//! The planner: from the current data, which notifications are due to be
//! queued, written to the outbox idempotently (the dedupe key is unique, so
//! two planners, or one planning twice, write each row once).
//!
//! `plan_due` looks at a window around now (a day back, so a planner that was
//! down catches up; a day ahead, so the worker has rows before their hour)
//! and queues every reminder, overdue notice, digest and escalation whose
//! send instant falls in it. It selects items by their dates on indexed
//! columns: its cost follows what is due, not the size of the tables.
//!
//! `replan_item` runs inside the transaction of a write that changes an
//! item's date, completion or status: the item's unsent reminders that no
//! longer hold are cancelled and the ones that now hold are queued, so the
//! outbox never disagrees with the item once the write commits. Nothing is
//! planned about a completed, cancelled or superseded item (nor a suspended
//! one, nor a cancelled or held event or meeting).
//!
//! Digests: a contact who asked for a daily or weekly digest gets one
//! `digest` row per digest day; each notice for them is still a row of its
//! own (for dedupe and cancellation) with `digest_id` pointing at the
//! digest, whose payload lists its live members and is rewritten in the same
//! transaction whenever one is added or cancelled (all cancelled: the digest
//! is cancelled). Escalations to a secretariat are gathered the same way: one
//! `escalation` row per programme (or body, for protocol items), day and
//! secretariat contact. Rows with a `digest_id` are never sent themselves:
//! the worker marks them sent when their digest is sent.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use diesel::result::Error as DbError;
use diesel::QueryResult;

use super::payload::{DueItem, Named, Payload};
use crate::calendar::{Method, Party};
use crate::config::Settings;
use crate::db::Conn;
use crate::domain::deadlines::AnchorKind;
use crate::domain::kinds::{ContactRole, EventSchedule, EventStatus, NotificationMode};
use crate::domain::recurrence::{
    Moved, OccurrenceTime, RecurrenceId, Series, SeriesStart, MAX_OCCURRENCES,
};
use crate::domain::reminders::{
    self, audience, digest_day, escalation_key, event_key, send_instant, Audience, Channel,
    NoticeKey, Policy, ReminderField, Slot, GLOBAL_POLICY_ID,
};
use crate::domain::status::{fulfilled, latest_per_party, Completion, Lifecycle, PartyStatus};
use crate::domain::timeframe::{notice_deadline, Timeframe};
use crate::domain::zone::parse_zone;
use crate::domain::Language;
use crate::store;
use crate::store::agreements::AgreementRow;
use crate::store::bodies::MeetingRow;
use crate::store::events::EventRow;
use crate::store::lead_times::Deadline;
use crate::store::notifications::{message_id, state, NotificationRow};
use crate::store::obligations::{ObligationRow, OccurrenceRow};
use crate::store::organisations::ContactRow;
use crate::store::programmes::ProgrammeRow;

/// How far back `plan_due` looks: notices whose hour passed less than this
/// long ago (the planner or the server was down) are still queued.
pub const LOOKBACK_HOURS: i64 = 24;
/// How far ahead `plan_due` looks: rows are in the outbox before their hour.
pub const HORIZON_HOURS: i64 = 24;
/// The most occurrences of one series reminded of in one window.
const SERIES_OCCURRENCES: usize = 50;
/// Offsets of the furthest zones from UTC, and a day to spare, in hours:
/// the local days whose notices can fall in a window of instants.
const ZONE_SPAN_HOURS: i64 = 14 + 24;

/// What the planner needs of the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSettings {
    /// Where links in emails point: server.public_url, or http://localhost:8080.
    pub base_url: String,
    /// The domain of Message-IDs.
    pub message_id_domain: String,
    /// The ORGANIZER of event invitations: the sender of the emails.
    pub organizer: Party,
}

impl PlanSettings {
    pub fn from_settings(settings: &Settings) -> PlanSettings {
        let base = settings.server.public_url.trim().trim_end_matches('/');
        PlanSettings {
            base_url: if base.is_empty() {
                "http://localhost:8080".to_string()
            } else {
                base.to_string()
            },
            message_id_domain: settings.mail.message_id_domain.clone(),
            organizer: mailbox(&settings.mail.from),
        }
    }
}

/// "Name <address>" or a bare address, as a calendar user.
fn mailbox(from: &str) -> Party {
    let from = from.trim();
    match (from.rfind('<'), from.rfind('>')) {
        (Some(open), Some(close)) if open < close => {
            let name = from[..open].trim().trim_matches('"').trim();
            Party {
                email: from[open + 1..close].trim().to_string(),
                name: (!name.is_empty()).then(|| name.to_string()),
            }
        }
        _ => Party {
            email: from.to_string(),
            name: None,
        },
    }
}

/// What one planning did to the outbox.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlanOutcome {
    /// New rows: notices, digests, escalations, event emails.
    pub queued: usize,
    /// Rows cancelled earlier, never sent, that hold again.
    pub revived: usize,
    /// Unsent rows that no longer hold.
    pub cancelled: usize,
    /// Rows not tried yet whose words or hour changed with their item.
    pub refreshed: usize,
    /// Digests and escalations written or rewritten.
    pub gathered: usize,
}

impl PlanOutcome {
    fn add(&mut self, other: PlanOutcome) {
        self.queued += other.queued;
        self.revived += other.revived;
        self.cancelled += other.cancelled;
        self.refreshed += other.refreshed;
        self.gathered += other.gathered;
    }
}

impl std::fmt::Display for PlanOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} queued, {} revived, {} cancelled, {} refreshed, {} digest(s) and escalation(s) written",
            self.queued, self.revived, self.cancelled, self.refreshed, self.gathered
        )
    }
}

/// The instants whose notices a planning queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    /// The window `plan_due` plans at `now`.
    pub fn around(now: DateTime<Utc>) -> Window {
        Window {
            from: now - Duration::hours(LOOKBACK_HOURS),
            to: now + Duration::hours(HORIZON_HOURS),
        }
    }

    /// Every instant of a day in some zone: the preview of that day.
    pub fn of_day(day: NaiveDate) -> Window {
        let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
        Window {
            from: start - Duration::hours(14),
            to: start + Duration::hours(24 + 14),
        }
    }

    fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t <= self.to
    }

    /// The local days whose notices may fall in the window.
    fn days(&self) -> (NaiveDate, NaiveDate) {
        (
            (self.from - Duration::hours(ZONE_SPAN_HOURS)).date_naive(),
            (self.to + Duration::hours(ZONE_SPAN_HOURS)).date_naive(),
        )
    }
}

/// A record whose reminders a write re-plans.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Item {
    Obligation(String),
    Event(String),
    LeadTime(String),
    Meeting(String),
    Agreement(String),
}

impl Item {
    /// `notifications.item_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Item::Obligation(_) => "obligation",
            Item::Event(_) => "event",
            Item::LeadTime(_) => "lead_time",
            Item::Meeting(_) => "meeting",
            Item::Agreement(_) => "agreement",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Item::Obligation(id)
            | Item::Event(id)
            | Item::LeadTime(id)
            | Item::Meeting(id)
            | Item::Agreement(id) => id,
        }
    }
}

/// Plans the window around `now` in a transaction of its own: what the
/// worker calls before each claim, and `accord remind`.
pub fn plan_due(
    conn: &mut Conn,
    now: DateTime<Utc>,
    settings: &PlanSettings,
) -> QueryResult<PlanOutcome> {
    crate::db::write_transaction(conn, |conn| plan_in(conn, now, settings))
}

/// Plans the window around `now` inside the caller's transaction (a change
/// of policy re-plans everything it governs).
pub fn plan_in(
    conn: &mut Conn,
    now: DateTime<Utc>,
    settings: &PlanSettings,
) -> QueryResult<PlanOutcome> {
    plan(conn, now, Window::around(now), settings, &Scope::All)
}

/// Re-plans an item (and the lead times that hang on it) inside the
/// transaction of the write that changed it: its unsent reminders that no
/// longer hold are cancelled, the ones that hold are queued (or revived).
pub fn replan_item(
    conn: &mut Conn,
    now: DateTime<Utc>,
    settings: &PlanSettings,
    item: &Item,
) -> QueryResult<PlanOutcome> {
    replan_items(conn, now, settings, std::slice::from_ref(item))
}

/// `replan_item` for several items at once (a decision's effects, an import).
pub fn replan_items(
    conn: &mut Conn,
    now: DateTime<Utc>,
    settings: &PlanSettings,
    items: &[Item],
) -> QueryResult<PlanOutcome> {
    if items.is_empty() {
        return Ok(PlanOutcome::default());
    }
    let items = with_lead_times(conn, items)?;
    plan(
        conn,
        now,
        Window::around(now),
        settings,
        &Scope::Items(items),
    )
}

/// Cancels the unsent reminders of an item about to be deleted, and of the
/// lead times that go with it. Call it before the delete, in its transaction.
pub fn forget_item(conn: &mut Conn, now: DateTime<Utc>, item: &Item) -> QueryResult<PlanOutcome> {
    forget_items(conn, now, std::slice::from_ref(item))
}

/// `forget_item` for several items. An import, which has no mail settings to
/// write new rows with, calls it for the items it changed: their unsent
/// reminders are cancelled in its transaction, and the planner's next pass
/// queues (or revives, under the same Message-ID) those that still hold.
pub fn forget_items(
    conn: &mut Conn,
    now: DateTime<Utc>,
    items: &[Item],
) -> QueryResult<PlanOutcome> {
    if items.is_empty() {
        return Ok(PlanOutcome::default());
    }
    crate::db::serialize_planning(conn)?;
    let items = with_lead_times(conn, items)?;
    let at = now.naive_utc();
    let mut unsent = Vec::new();
    for item in &items {
        unsent.extend(store::reminders::unsent_of_item(
            conn,
            item.kind(),
            item.id(),
        )?);
    }
    let ids: Vec<String> = unsent.iter().map(|u| u.0.clone()).collect();
    let mut outcome = PlanOutcome {
        cancelled: store::reminders::cancel(conn, &ids, at)?,
        ..PlanOutcome::default()
    };
    let digests: BTreeSet<String> = unsent.into_iter().filter_map(|u| u.2).collect();
    outcome.gathered += regather(conn, &digests, at)?;
    Ok(outcome)
}

/// The items and the lead times that hang on the obligations, events and
/// meetings among them.
fn with_lead_times(conn: &mut Conn, items: &[Item]) -> QueryResult<Vec<Item>> {
    let mut all: BTreeSet<Item> = items.iter().cloned().collect();
    for (kind, ids) in [
        (
            AnchorKind::Obligation,
            ids_of(items, |i| matches!(i, Item::Obligation(_))),
        ),
        (
            AnchorKind::Event,
            ids_of(items, |i| matches!(i, Item::Event(_))),
        ),
        (
            AnchorKind::Meeting,
            ids_of(items, |i| matches!(i, Item::Meeting(_))),
        ),
    ] {
        if ids.is_empty() {
            continue;
        }
        for rule in store::lead_times::of_anchors(conn, kind, &ids)? {
            all.insert(Item::LeadTime(rule.row.id));
        }
    }
    Ok(all.into_iter().collect())
}

fn ids_of(items: &[Item], pick: impl Fn(&Item) -> bool) -> Vec<String> {
    items
        .iter()
        .filter(|i| pick(i))
        .map(|i| i.id().to_string())
        .collect()
}

/// What a planning covers.
enum Scope {
    /// Everything due in the window.
    All,
    /// These items only (each item's unsent rows are swept, whatever their time).
    Items(Vec<Item>),
}

/// What would be sent on `day` (a local date of each recipient): the rows
/// the planner would queue and those already waiting, computed in a
/// transaction that is rolled back, so nothing is written.
pub fn preview(
    conn: &mut Conn,
    day: NaiveDate,
    settings: &PlanSettings,
) -> QueryResult<Vec<NotificationRow>> {
    use diesel::Connection;
    enum Done {
        Rows(Vec<NotificationRow>),
        Failed(DbError),
    }
    impl From<DbError> for Done {
        fn from(e: DbError) -> Done {
            Done::Failed(e)
        }
    }
    let window = Window::of_day(day);
    let outcome = conn.transaction::<(), Done, _>(|conn| {
        plan(conn, window.from, window, settings, &Scope::All)?;
        let rows =
            store::reminders::due_between(conn, window.from.naive_utc(), window.to.naive_utc())?
                .into_iter()
                .filter(|r| {
                    let zone = r.time_zone.parse::<Tz>().unwrap_or(chrono_tz::UTC);
                    r.send_after.and_utc().with_timezone(&zone).date_naive() == day
                })
                .collect();
        // Rolled back: a preview writes nothing.
        Err(Done::Rows(rows))
    });
    match outcome {
        Err(Done::Rows(rows)) => Ok(rows),
        Err(Done::Failed(e)) => Err(e),
        Ok(()) => Ok(Vec::new()),
    }
}

/// A preview as text: per recipient, each email as its templates render it
/// (in the recipient's language, times in their zone): when it goes out, the
/// subject and the plain-text part.
pub fn describe(rows: &[NotificationRow]) -> String {
    use std::fmt::Write;
    let mut by_recipient: BTreeMap<&str, Vec<&NotificationRow>> = BTreeMap::new();
    for row in rows {
        by_recipient
            .entry(row.recipient.as_str())
            .or_default()
            .push(row);
    }
    let mut out = String::new();
    for (recipient, mut rows) in by_recipient {
        rows.sort_by(|a, b| (a.send_after, &a.dedupe_key).cmp(&(b.send_after, &b.dedupe_key)));
        let first = rows[0];
        let _ = writeln!(
            out,
            "== {recipient} ({}, {}): {} email(s)",
            first.language,
            first.time_zone,
            rows.len()
        );
        for row in rows {
            let zone = row.time_zone.parse::<Tz>().unwrap_or(chrono_tz::UTC);
            let at = row.send_after.and_utc().with_timezone(&zone);
            let _ = writeln!(
                out,
                "-- {} at {} [{}]",
                row.kind,
                at.format("%Y-%m-%d %H:%M %:z"),
                row.dedupe_key
            );
            match serde_json::from_str::<Payload>(&row.payload) {
                Ok(payload) => {
                    let email = super::templates::render(row, &payload);
                    let _ = writeln!(out, "Subject: {}", email.subject);
                    let _ = writeln!(out);
                    let _ = writeln!(out, "{}", email.text.trim_end());
                }
                Err(e) => {
                    let _ = writeln!(out, "(its payload does not read: {e})");
                }
            }
            let _ = writeln!(out);
        }
    }
    if out.is_empty() {
        out.push_str("nothing would be sent\n");
    }
    out
}

// ---------------------------------------------------------------- planning

/// The policies that apply: the global one and the programmes' own.
struct Policies {
    global: Policy,
    own: HashMap<String, (String, Policy)>,
}

impl Policies {
    fn load(conn: &mut Conn, programme_ids: Option<&[String]>) -> QueryResult<Policies> {
        let global = match store::policies::global(conn)? {
            Some(row) => row.policy().map_err(corrupt)?,
            None => Policy::default(),
        };
        let rows = match programme_ids {
            Some(ids) => store::policies::of_programmes(conn, ids)?,
            None => store::policies::all_of_programmes(conn)?,
        };
        let mut own = HashMap::new();
        for row in rows {
            if let Some(programme) = row.programme_id.clone() {
                own.insert(programme, (row.id.clone(), row.policy().map_err(corrupt)?));
            }
        }
        Ok(Policies { global, own })
    }

    /// The policy governing a programme's items (or the global one), with its id.
    fn of(&self, programme_id: Option<&str>) -> (&str, &Policy) {
        match programme_id.and_then(|p| self.own.get(p)) {
            Some((id, policy)) => (id.as_str(), policy),
            None => (GLOBAL_POLICY_ID, &self.global),
        }
    }

    fn max_offset(&self) -> i64 {
        self.own
            .values()
            .map(|(_, p)| p.max_offset())
            .chain(std::iter::once(self.global.max_offset()))
            .max()
            .unwrap_or(0)
    }
}

fn corrupt(e: String) -> DbError {
    DbError::DeserializationError(e.into())
}

fn to_json<T: serde::Serialize>(value: &T) -> QueryResult<String> {
    serde_json::to_string(value).map_err(|e| DbError::SerializationError(Box::new(e)))
}

/// Where escalations of an item go: its programme (or the body of its
/// protocol) and that body's secretariat.
#[derive(Debug, Clone)]
struct Group {
    /// The escalation key's group: a programme id, or `body:<id>`.
    id: String,
    body_id: Option<String>,
    programme_id: Option<String>,
    named: Named,
}

/// One dated thing to remind of.
#[derive(Debug, Clone)]
struct Subject {
    item_kind: &'static str,
    item_id: String,
    field: ReminderField,
    occurrence: String,
    due_on: NaiveDate,
    starts_at: Option<DateTime<Utc>>,
    programme_id: Option<String>,
    programme: Option<Named>,
    /// Set when it can be overdue (an item's due date): overdue notices and
    /// escalations go to these.
    group: Option<Group>,
    number: Option<String>,
    title: BTreeMap<String, String>,
    /// Responsible organisations, whose focal points (and deputies) are told.
    organisations: Vec<String>,
    /// Or contacts told directly (a meeting's secretariat).
    contacts: Vec<ContactRow>,
    url: String,
}

/// A title map from stored multilingual JSON (plain text read as Russian).
fn titles(json: &str) -> BTreeMap<String, String> {
    serde_json::from_str(json)
        .unwrap_or_else(|_| BTreeMap::from([("ru".to_string(), json.to_string())]))
}

/// What a planning gathered from the data, before recipients.
#[derive(Default)]
struct Gathered {
    obligations: Vec<ObligationRow>,
    occurrences: Vec<(ObligationRow, OccurrenceRow)>,
    events: Vec<EventRow>,
    meetings: Vec<MeetingRow>,
    agreements: Vec<AgreementRow>,
    deadlines: Vec<Deadline>,
}

fn gather(conn: &mut Conn, scope: &Scope, from: NaiveDate, to: NaiveDate) -> QueryResult<Gathered> {
    let mut g = Gathered::default();
    match scope {
        Scope::All => {
            g.obligations = store::reminders::open_obligations(conn, from, to)?;
            g.occurrences = store::reminders::open_occurrences(conn, from, to)?;
            g.events = store::reminders::live_events(conn, from, to)?;
            g.meetings = store::reminders::live_meetings(conn, from, to)?;
            g.agreements = store::reminders::agreements_with_terms(conn)?;
            g.deadlines = store::reminders::deadlines_between(conn, from, to)?;
        }
        Scope::Items(items) => {
            let open: Vec<&str> = Lifecycle::ALL
                .iter()
                .filter(|l| !l.is_closed() && **l != Lifecycle::Suspended)
                .map(|l| l.as_str())
                .collect();
            let obligation_ids = ids_of(items, |i| matches!(i, Item::Obligation(_)));
            for row in store::reminders::obligations_by_ids(conn, &obligation_ids)? {
                if !open.contains(&row.lifecycle.as_str()) {
                    continue;
                }
                if row.recurrence.is_some() {
                    for o in
                        store::obligations::occurrences_of(conn, std::slice::from_ref(&row.id))?
                    {
                        g.occurrences.push((row.clone(), o));
                    }
                } else {
                    g.obligations.push(row);
                }
            }
            let event_ids = ids_of(items, |i| matches!(i, Item::Event(_)));
            for row in store::reminders::events_by_ids(conn, &event_ids)? {
                if live_event(&row) {
                    g.events.push(row);
                }
            }
            let meeting_ids = ids_of(items, |i| matches!(i, Item::Meeting(_)));
            g.meetings = store::reminders::meetings_by_ids(conn, &meeting_ids)?
                .into_iter()
                .filter(live_meeting)
                .collect();
            let agreement_ids = ids_of(items, |i| matches!(i, Item::Agreement(_)));
            g.agreements = store::reminders::agreements_by_ids(conn, &agreement_ids)?;
            let rule_ids = ids_of(items, |i| matches!(i, Item::LeadTime(_)));
            let mut rules = Vec::new();
            for id in rule_ids {
                if let Some(rule) = store::lead_times::by_id(conn, &id)? {
                    rules.push(rule);
                }
            }
            g.deadlines = store::reminders::deadlines_of_rules(conn, rules)?;
        }
    }
    Ok(g)
}

fn live_event(e: &EventRow) -> bool {
    matches!(
        EventStatus::parse(&e.status),
        Some(EventStatus::Tentative | EventStatus::Confirmed | EventStatus::Postponed)
    ) && e.schedule != EventSchedule::Approximate.as_str()
}

fn live_meeting(m: &MeetingRow) -> bool {
    matches!(m.status.as_str(), "planned" | "postponed")
}

/// The series of an event (a single event is a series of one); None for an
/// approximate one or a stored rule that no longer reads.
fn series_of(e: &EventRow) -> Option<Series> {
    let start = match EventSchedule::parse(&e.schedule)? {
        EventSchedule::Timed => SeriesStart::Timed {
            start: e.start_local?,
            end: e.end_local,
            zone: parse_zone(e.time_zone.as_deref()?).ok()?,
            starts_at: e.starts_at?.and_utc(),
            ends_at: e.ends_at.map(|t| t.and_utc()),
        },
        EventSchedule::AllDay => {
            let t = Timeframe::parse(&e.timeframe_text, None).ok()?;
            SeriesStart::AllDay {
                first: t.earliest?,
                last: t.latest?,
            }
        }
        EventSchedule::Approximate => return None,
    };
    let exdates: Vec<String> = e
        .exdates
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    Series::new(start, e.recurrence.as_deref(), &exdates)
        .or_else(|_| Series::new(start, None, &[]))
        .ok()
}

fn moved_of(o: &store::occurrences::OccurrenceRow, all_day: bool) -> Moved {
    let when = if all_day {
        let first = o.start_local.date();
        OccurrenceTime::AllDay {
            first,
            last: o.end_local.map(|e| e.date()).unwrap_or(first).max(first),
        }
    } else {
        OccurrenceTime::Timed {
            start: o.start_local,
            end: o.end_local,
            starts_at: o.starts_at.unwrap_or(o.start_local).and_utc(),
            ends_at: o.ends_at.map(|t| t.and_utc()),
        }
    };
    Moved {
        recurrence_id: RecurrenceId::from_local(o.recurrence_local, all_day),
        when,
    }
}

/// Everything a planning reads besides the items: who is responsible, the
/// programmes and bodies the items belong to.
struct Context {
    settings: PlanSettings,
    contacts: HashMap<String, Vec<ContactRow>>,
    organisation_keys: HashMap<String, String>,
    organisation_parties: HashMap<String, String>,
    secretariats: HashMap<String, Vec<ContactRow>>,
}

impl Context {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.base_url)
    }

    fn keys_of(&self, organisations: &[String]) -> Vec<String> {
        let mut keys: Vec<String> = organisations
            .iter()
            .filter_map(|o| self.organisation_keys.get(o).cloned())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

fn programme_named(p: &ProgrammeRow) -> Named {
    Named {
        id: p.id.clone(),
        key: Some(p.key.clone()),
        title: titles(&p.title),
    }
}

/// Turns what was gathered into subjects, loading what they need in batches.
fn subjects(
    conn: &mut Conn,
    g: Gathered,
    from: NaiveDate,
    settings: &PlanSettings,
) -> QueryResult<(Vec<Subject>, Context)> {
    let mut ctx = Context {
        settings: settings.clone(),
        contacts: HashMap::new(),
        organisation_keys: HashMap::new(),
        organisation_parties: HashMap::new(),
        secretariats: HashMap::new(),
    };
    // The anchors of the deadlines, checked live like the items themselves.
    let mut obligation_ids: BTreeSet<String> = g.obligations.iter().map(|o| o.id.clone()).collect();
    obligation_ids.extend(g.occurrences.iter().map(|(o, _)| o.id.clone()));
    let mut event_ids: BTreeSet<String> = g.events.iter().map(|e| e.id.clone()).collect();
    let mut meeting_ids: BTreeSet<String> = g.meetings.iter().map(|m| m.id.clone()).collect();
    for d in &g.deadlines {
        match d.anchor_kind {
            AnchorKind::Obligation => obligation_ids.insert(d.anchor_id.clone()),
            AnchorKind::Event => event_ids.insert(d.anchor_id.clone()),
            AnchorKind::Meeting => meeting_ids.insert(d.anchor_id.clone()),
        };
    }
    let obligation_ids: Vec<String> = obligation_ids.into_iter().collect();
    let event_ids: Vec<String> = event_ids.into_iter().collect();
    let mut anchor_obligations: HashMap<String, ObligationRow> = HashMap::new();
    for o in g
        .obligations
        .iter()
        .chain(g.occurrences.iter().map(|(o, _)| o))
    {
        anchor_obligations.insert(o.id.clone(), o.clone());
    }
    let missing: Vec<String> = obligation_ids
        .iter()
        .filter(|id| !anchor_obligations.contains_key(*id))
        .cloned()
        .collect();
    for o in store::reminders::obligations_by_ids(conn, &missing)? {
        anchor_obligations.insert(o.id.clone(), o);
    }
    let mut anchor_events: HashMap<String, EventRow> =
        g.events.iter().map(|e| (e.id.clone(), e.clone())).collect();
    let missing: Vec<String> = event_ids
        .iter()
        .filter(|id| !anchor_events.contains_key(*id))
        .cloned()
        .collect();
    for e in store::reminders::events_by_ids(conn, &missing)? {
        anchor_events.insert(e.id.clone(), e);
    }
    let mut anchor_meetings: HashMap<String, MeetingRow> = g
        .meetings
        .iter()
        .map(|m| (m.id.clone(), m.clone()))
        .collect();
    let missing: Vec<String> = meeting_ids
        .iter()
        .filter(|id| !anchor_meetings.contains_key(*id))
        .cloned()
        .collect();
    for m in store::reminders::meetings_by_ids(conn, &missing)? {
        anchor_meetings.insert(m.id.clone(), m);
    }
    meeting_ids.extend(
        anchor_obligations
            .values()
            .filter_map(|o| o.meeting_id.clone()),
    );
    let missing: Vec<String> = meeting_ids
        .iter()
        .filter(|id| !anchor_meetings.contains_key(*id))
        .cloned()
        .collect();
    for m in store::reminders::meetings_by_ids(conn, &missing)? {
        anchor_meetings.insert(m.id.clone(), m);
    }

    // Responsibility: assignments, organisers, signatories.
    let mut assigned: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for chunk in obligation_ids.chunks(1000) {
        for a in store::obligations::assignments_of(conn, chunk)? {
            assigned
                .entry(a.obligation_id.clone())
                .or_default()
                .push((a.organisation_id.clone(), a.party_code.clone()));
        }
    }
    let mut reports: HashMap<String, Vec<(Option<i32>, PartyStatus)>> = HashMap::new();
    for chunk in obligation_ids.chunks(1000) {
        for r in store::reports::of_obligations(conn, chunk)? {
            let (Some(lifecycle), Some(completion)) = (
                Lifecycle::parse(&r.report.lifecycle),
                Completion::parse(&r.report.completion),
            ) else {
                continue;
            };
            reports
                .entry(r.report.obligation_id.clone())
                .or_default()
                .push((
                    r.report.occurrence_year,
                    PartyStatus {
                        party: r.party_code.clone(),
                        lifecycle,
                        completion,
                        as_of: r.report.as_of,
                        reported_at: r.report.reported_at,
                    },
                ));
        }
    }
    let mut organisers: HashMap<String, Vec<String>> = HashMap::new();
    for (event, org) in store::reminders::organisers_of(conn, &event_ids)? {
        organisers.entry(event).or_default().push(org);
    }
    let mut event_programmes: HashMap<String, String> = HashMap::new();
    for (event, programme) in store::reminders::programmes_of_events(conn, &event_ids)? {
        event_programmes.entry(event).or_insert(programme);
    }
    let agreement_ids: Vec<String> = g.agreements.iter().map(|a| a.id.clone()).collect();
    let mut signatories: HashMap<String, Vec<String>> = HashMap::new();
    for (agreement, org) in store::reminders::signatories_of(conn, &agreement_ids)? {
        signatories.entry(agreement).or_default().push(org);
    }

    // Programmes and bodies, for policies, payloads and escalations.
    let mut programme_ids: BTreeSet<String> = anchor_obligations
        .values()
        .filter_map(|o| o.programme_id.clone())
        .collect();
    programme_ids.extend(event_programmes.values().cloned());
    let programme_ids: Vec<String> = programme_ids.into_iter().collect();
    let programmes: HashMap<String, ProgrammeRow> =
        store::reminders::programmes_by_ids(conn, &programme_ids)?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
    let mut body_ids: BTreeSet<String> = programmes
        .values()
        .filter_map(|p| p.body_id.clone())
        .collect();
    body_ids.extend(anchor_meetings.values().map(|m| m.body_id.clone()));
    let body_ids: Vec<String> = body_ids.into_iter().collect();
    let bodies: HashMap<String, (String, String)> =
        store::reminders::bodies_by_ids(conn, &body_ids)?
            .into_iter()
            .map(|(id, key, name)| (id, (key, name)))
            .collect();
    for (body, contact) in store::reminders::secretariats_of(conn, &body_ids)? {
        ctx.secretariats.entry(body).or_default().push(contact);
    }

    // Whose contacts: every organisation named.
    let mut organisation_ids: BTreeSet<String> = BTreeSet::new();
    organisation_ids.extend(assigned.values().flatten().map(|(o, _)| o.clone()));
    organisation_ids.extend(organisers.values().flatten().cloned());
    organisation_ids.extend(signatories.values().flatten().cloned());
    let organisation_ids: Vec<String> = organisation_ids.into_iter().collect();
    for org in store::reminders::organisations_by_ids(conn, &organisation_ids)? {
        ctx.organisation_keys
            .insert(org.id.clone(), org.key.clone());
        ctx.organisation_parties
            .insert(org.id.clone(), org.party_id.clone());
    }
    for c in store::reminders::active_contacts_of(conn, &organisation_ids)? {
        ctx.contacts
            .entry(c.organisation_id.clone())
            .or_default()
            .push(c);
    }

    let group_of = |o: &ObligationRow| -> Option<Group> {
        if let Some(p) = o.programme_id.as_ref().and_then(|p| programmes.get(p)) {
            return Some(Group {
                id: p.id.clone(),
                body_id: p.body_id.clone(),
                programme_id: Some(p.id.clone()),
                named: programme_named(p),
            });
        }
        let meeting = o.meeting_id.as_ref().and_then(|m| anchor_meetings.get(m))?;
        let (key, name) = bodies.get(&meeting.body_id)?;
        Some(Group {
            id: format!("body:{}", meeting.body_id),
            body_id: Some(meeting.body_id.clone()),
            programme_id: None,
            named: Named {
                id: meeting.body_id.clone(),
                key: Some(key.clone()),
                title: titles(name),
            },
        })
    };
    // An item's state: open (with the organisations still to act), or done.
    let open_organisations = |o: &ObligationRow, year: Option<i32>| -> Option<Vec<String>> {
        let assignments = assigned.get(&o.id).cloned().unwrap_or_default();
        let mut parties: Vec<&str> = assignments.iter().map(|(_, p)| p.as_str()).collect();
        parties.sort_unstable();
        parties.dedup();
        let all = reports.get(&o.id).map(Vec::as_slice).unwrap_or_default();
        let whole: Vec<PartyStatus> = all
            .iter()
            .filter(|(y, _)| y.is_none())
            .map(|(_, s)| s.clone())
            .collect();
        let latest = latest_per_party(whole.iter(), None);
        if fulfilled(&parties, &latest) {
            return None;
        }
        let latest = match year {
            Some(year) => {
                let of_year: Vec<PartyStatus> = all
                    .iter()
                    .filter(|(y, _)| *y == Some(year))
                    .map(|(_, s)| s.clone())
                    .collect();
                let latest = latest_per_party(of_year.iter(), None);
                if fulfilled(&parties, &latest) {
                    return None;
                }
                latest
            }
            None => latest,
        };
        // A party that reports its part done is not reminded of it.
        let done: Vec<&str> = latest
            .iter()
            .filter(|s| s.is_done())
            .map(|s| s.party.as_str())
            .collect();
        Some(
            assignments
                .iter()
                .filter(|(_, party)| !done.contains(&party.as_str()))
                .map(|(org, _)| org.clone())
                .collect(),
        )
    };
    let obligation_programme = |o: &ObligationRow| -> Option<Named> {
        if let Some(p) = o.programme_id.as_ref().and_then(|p| programmes.get(p)) {
            return Some(programme_named(p));
        }
        let m = o.meeting_id.as_ref().and_then(|m| anchor_meetings.get(m))?;
        Some(Named {
            id: m.id.clone(),
            key: None,
            title: titles(&m.title),
        })
    };

    let mut subjects = Vec::new();
    let obligation_subjects = |o: &ObligationRow,
                               year: Option<i32>,
                               earliest: Option<NaiveDate>,
                               latest: Option<NaiveDate>,
                               out: &mut Vec<Subject>| {
        let Some(organisations) = open_organisations(o, year) else {
            return;
        };
        let base = Subject {
            item_kind: "obligation",
            item_id: o.id.clone(),
            field: ReminderField::ObligationDue,
            occurrence: year.map(|y| y.to_string()).unwrap_or_default(),
            due_on: NaiveDate::MIN,
            starts_at: None,
            programme_id: o.programme_id.clone(),
            programme: obligation_programme(o),
            group: None,
            number: Some(o.number.clone()),
            title: titles(&o.text),
            organisations,
            contacts: Vec::new(),
            url: ctx.url(&format!("/api/v1/obligations/{}", o.id)),
        };
        if let Some(due) = latest {
            out.push(Subject {
                due_on: due,
                group: group_of(o),
                ..base.clone()
            });
        }
        // "Prepare" counts from the earliest date, when it is another day.
        if let Some(start) = earliest.filter(|e| Some(*e) != latest) {
            out.push(Subject {
                field: ReminderField::ObligationEarliest,
                due_on: start,
                ..base
            });
        }
    };
    for o in &g.obligations {
        obligation_subjects(o, None, o.earliest, o.latest, &mut subjects);
    }
    for (o, occ) in &g.occurrences {
        obligation_subjects(
            o,
            Some(occ.year),
            Some(occ.earliest),
            Some(occ.latest),
            &mut subjects,
        );
    }

    // Events: each occurrence of a series within reach.
    let changes = store::occurrences::of_events(
        conn,
        &g.events.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
    )?;
    for e in &g.events {
        let Some(series) = series_of(e) else { continue };
        let all_day = e.schedule == EventSchedule::AllDay.as_str();
        let mine: Vec<&store::occurrences::OccurrenceRow> =
            changes.iter().filter(|c| c.event_id == e.id).collect();
        let moved: Vec<Moved> = mine
            .iter()
            .filter(|c| c.status != EventStatus::Cancelled.as_str())
            .map(|c| moved_of(c, all_day))
            .collect();
        let cancelled: Vec<RecurrenceId> = mine
            .iter()
            .filter(|c| c.status == EventStatus::Cancelled.as_str())
            .map(|c| RecurrenceId::from_local(c.recurrence_local, all_day))
            .collect();
        let to = from + Duration::days(366 + 14);
        let expansion =
            series.occurrences(from, to, SERIES_OCCURRENCES.min(MAX_OCCURRENCES), &moved);
        let programme_id = event_programmes.get(&e.id).cloned();
        for occ in expansion.occurrences {
            if cancelled.contains(&occ.recurrence_id) {
                continue;
            }
            subjects.push(Subject {
                item_kind: "event",
                item_id: e.id.clone(),
                field: ReminderField::EventStart,
                occurrence: if series.is_recurring() {
                    occ.recurrence_id.to_string()
                } else {
                    String::new()
                },
                due_on: occ.when.days().0,
                starts_at: occ.when.instants().map(|(s, _)| s),
                programme_id: programme_id.clone(),
                programme: programme_id
                    .as_ref()
                    .and_then(|p| programmes.get(p))
                    .map(programme_named),
                group: None,
                number: None,
                title: titles(&e.title),
                organisations: organisers.get(&e.id).cloned().unwrap_or_default(),
                contacts: Vec::new(),
                url: ctx.url(&format!("/api/v1/events/{}", e.id)),
            });
        }
    }

    for m in &g.meetings {
        subjects.push(Subject {
            item_kind: "meeting",
            item_id: m.id.clone(),
            field: ReminderField::Meeting,
            occurrence: String::new(),
            due_on: m.held_on,
            starts_at: m.starts_at.map(|t| t.and_utc()),
            programme_id: None,
            // A meeting belongs to its body, not to a programme.
            programme: None,
            group: None,
            number: None,
            title: titles(&m.title),
            organisations: Vec::new(),
            contacts: ctx
                .secretariats
                .get(&m.body_id)
                .cloned()
                .unwrap_or_default(),
            url: ctx.url(&format!("/api/v1/meetings/{}", m.id)),
        });
    }

    for a in &g.agreements {
        let mut dues = Vec::new();
        if let Some(first) = notice_deadline(
            a.in_force_on,
            a.term_months,
            a.renewal_months,
            a.notice_months,
            from,
        ) {
            dues.push(first.notice_by);
            // Notice of this period already due: the next period's is ahead.
            if first.renews && first.notice_by < from {
                if let Some(next) = notice_deadline(
                    a.in_force_on,
                    a.term_months,
                    a.renewal_months,
                    a.notice_months,
                    first.period_ends,
                ) {
                    dues.push(next.notice_by);
                }
            }
        }
        for due in dues.into_iter().filter(|d| *d >= from) {
            subjects.push(Subject {
                item_kind: "agreement",
                item_id: a.id.clone(),
                field: ReminderField::AgreementNotice,
                occurrence: String::new(),
                due_on: due,
                starts_at: None,
                programme_id: None,
                programme: None,
                group: None,
                number: None,
                title: titles(&a.title),
                organisations: signatories.get(&a.id).cloned().unwrap_or_default(),
                contacts: Vec::new(),
                url: ctx.url(&format!("/api/v1/agreements/{}", a.id)),
            });
        }
    }

    for d in &g.deadlines {
        let Some(due) = d.due_on else { continue };
        let rule = &d.lead_time;
        let (organisations, contacts, programme_id, programme) = match d.anchor_kind {
            AnchorKind::Obligation => {
                let Some(o) = anchor_obligations.get(&d.anchor_id) else {
                    continue;
                };
                let lifecycle = Lifecycle::parse(&o.lifecycle).unwrap_or(Lifecycle::Planned);
                if lifecycle.is_closed() || lifecycle == Lifecycle::Suspended {
                    continue;
                }
                let Some(orgs) = open_organisations(o, d.occurrence_year) else {
                    continue;
                };
                (
                    orgs,
                    Vec::new(),
                    o.programme_id.clone(),
                    obligation_programme(o),
                )
            }
            AnchorKind::Event => {
                let Some(e) = anchor_events.get(&d.anchor_id).filter(|e| live_event(e)) else {
                    continue;
                };
                let programme_id = event_programmes.get(&e.id).cloned();
                let programme = programme_id
                    .as_ref()
                    .and_then(|p| programmes.get(p))
                    .map(programme_named);
                (
                    organisers.get(&e.id).cloned().unwrap_or_default(),
                    Vec::new(),
                    programme_id,
                    programme,
                )
            }
            AnchorKind::Meeting => {
                let Some(m) = anchor_meetings
                    .get(&d.anchor_id)
                    .filter(|m| live_meeting(m))
                else {
                    continue;
                };
                (
                    Vec::new(),
                    ctx.secretariats
                        .get(&m.body_id)
                        .cloned()
                        .unwrap_or_default(),
                    None,
                    None,
                )
            }
        };
        // A rule with a responsible party concerns that party's organisations only.
        let organisations = match &rule.party_id {
            Some(party) => organisations
                .into_iter()
                .filter(|o| ctx.organisation_parties.get(o) == Some(party))
                .collect(),
            None => organisations,
        };
        let own = titles(&rule.title);
        let anchor = titles(&d.anchor_title);
        let title = own
            .iter()
            .map(|(lang, text)| {
                let of = anchor
                    .get(lang)
                    .or_else(|| anchor.get("ru"))
                    .or_else(|| anchor.values().next());
                let full = match of {
                    Some(a) if !a.trim().is_empty() => format!("{text} — {a}"),
                    _ => text.clone(),
                };
                (lang.clone(), full)
            })
            .collect();
        subjects.push(Subject {
            item_kind: "lead_time",
            item_id: rule.id.clone(),
            field: ReminderField::LeadTime,
            occurrence: d.occurrence_year.map(|y| y.to_string()).unwrap_or_default(),
            due_on: due,
            starts_at: None,
            programme_id,
            programme,
            group: None,
            number: None,
            title,
            organisations,
            contacts,
            url: ctx.url(&format!("/api/v1/lead-times/{}", rule.id)),
        });
    }
    Ok((subjects, ctx))
}

/// Where a member goes: a contact's digest of a day, or an escalation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Gathering {
    Digest {
        contact_id: String,
        mode: NotificationMode,
        day: NaiveDate,
    },
    Escalation {
        group: String,
        day: NaiveDate,
        contact_id: String,
    },
}

/// A row the planner wants, and where it is gathered (if it is).
struct Wanted {
    row: NotificationRow,
    gathering: Option<(Gathering, GatheringRow)>,
}

/// What a new digest or escalation row needs.
#[derive(Debug, Clone)]
struct GatheringRow {
    contact: ContactRow,
    send_after: NaiveDateTime,
    programme_id: Option<String>,
    programme: Option<Named>,
}

fn zone_of(contact: &ContactRow) -> Tz {
    parse_zone(&contact.time_zone).unwrap_or(chrono_tz::UTC)
}

fn mode_of(contact: &ContactRow) -> NotificationMode {
    NotificationMode::parse(&contact.notifications).unwrap_or(NotificationMode::Immediate)
}

/// The rows every subject calls for within the window.
fn wanted_rows(
    subjects: &[Subject],
    ctx: &Context,
    policies: &Policies,
    window: Window,
    now: NaiveDateTime,
) -> QueryResult<Vec<Wanted>> {
    let (from, to) = window.days();
    // A weekly digest on Monday lists the week's notices: look six days further.
    let to_members = to + Duration::days(6);
    let mut wanted = Vec::new();
    for s in subjects {
        let (policy_id, policy) = policies.of(s.programme_id.as_deref());
        if !policy.reminds_of(s.field) {
            continue;
        }
        let mut slots = reminders::before_due(s.due_on, policy, from, to_members);
        let overdue = s.group.is_some() && s.field == ReminderField::ObligationDue;
        if overdue {
            slots.extend(reminders::overdue(s.due_on, policy, from, to_members));
        }
        for slot in slots {
            let level = audience(-slot.days_before, policy);
            let mut recipients: Vec<&ContactRow> = s.contacts.iter().collect();
            for org in &s.organisations {
                for c in ctx.contacts.get(org).map(Vec::as_slice).unwrap_or_default() {
                    let role = ContactRole::parse(&c.role);
                    let told = role == Some(ContactRole::FocalPoint)
                        || (role == Some(ContactRole::Deputy) && level >= Audience::Deputies);
                    if told {
                        recipients.push(c);
                    }
                }
            }
            for contact in recipients {
                let zone = zone_of(contact);
                let mode = mode_of(contact);
                let (send_after, send_day, gathering) = match digest_day(slot.day, mode) {
                    None => (
                        send_instant(slot.day, policy.send_hour, zone),
                        slot.day,
                        None,
                    ),
                    Some(day) => {
                        let at = send_instant(day, policy.send_hour, zone);
                        let gathering = Gathering::Digest {
                            contact_id: contact.id.clone(),
                            mode,
                            day,
                        };
                        let row = GatheringRow {
                            contact: contact.clone(),
                            send_after: at.naive_utc(),
                            programme_id: None,
                            programme: None,
                        };
                        (at, day, Some((gathering, row)))
                    }
                };
                if !window.contains(send_after) {
                    continue;
                }
                let key = NoticeKey {
                    policy_id,
                    channel: Channel::Direct,
                    field: s.field,
                    item_kind: s.item_kind,
                    item_id: &s.item_id,
                    occurrence: &s.occurrence,
                    due_on: s.due_on,
                    days_before: slot.days_before,
                    contact_id: &contact.id,
                };
                let row = notice_row(s, ctx, contact, &key, slot, send_day, send_after, now)?;
                wanted.push(Wanted { row, gathering });
            }
        }
        // The secretariat hears of overdue items in one escalation per day.
        let Some(group) = s.group.as_ref().filter(|_| overdue) else {
            continue;
        };
        let Some(body) = group.body_id.as_ref() else {
            continue;
        };
        let secretariat = ctx
            .secretariats
            .get(body)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if secretariat.is_empty() {
            continue;
        }
        for slot in reminders::escalation(s.due_on, policy, from, to) {
            for contact in secretariat {
                let zone = zone_of(contact);
                let send_after = send_instant(slot.day, policy.send_hour, zone);
                if !window.contains(send_after) {
                    continue;
                }
                let key = NoticeKey {
                    policy_id,
                    channel: Channel::Secretariat,
                    field: s.field,
                    item_kind: s.item_kind,
                    item_id: &s.item_id,
                    occurrence: &s.occurrence,
                    due_on: s.due_on,
                    days_before: slot.days_before,
                    contact_id: &contact.id,
                };
                let row = notice_row(s, ctx, contact, &key, slot, slot.day, send_after, now)?;
                let gathering = Gathering::Escalation {
                    group: group.id.clone(),
                    day: slot.day,
                    contact_id: contact.id.clone(),
                };
                let gathering_row = GatheringRow {
                    contact: contact.clone(),
                    send_after: send_after.naive_utc(),
                    programme_id: group.programme_id.clone(),
                    programme: Some(group.named.clone()),
                };
                wanted.push(Wanted {
                    row,
                    gathering: Some((gathering, gathering_row)),
                });
            }
        }
    }
    Ok(wanted)
}

#[allow(clippy::too_many_arguments)]
fn notice_row(
    s: &Subject,
    ctx: &Context,
    contact: &ContactRow,
    key: &NoticeKey<'_>,
    slot: Slot,
    send_day: NaiveDate,
    send_after: DateTime<Utc>,
    now: NaiveDateTime,
) -> QueryResult<NotificationRow> {
    let payload = Payload {
        recipient_name: contact.name.clone(),
        programme: s.programme.clone(),
        items: vec![DueItem {
            kind: s.item_kind.to_string(),
            id: s.item_id.clone(),
            number: s.number.clone(),
            title: s.title.clone(),
            field: s.field.as_str().to_string(),
            due_on: Some(s.due_on),
            starts_at: s.starts_at,
            // As seen on the day it is read (a digest's day).
            days_left: s.due_on.signed_duration_since(send_day).num_days(),
            occurrence: s.occurrence.clone(),
            responsible: ctx.keys_of(&s.organisations),
            url: s.url.clone(),
        }],
        ics: None,
    };
    let id = store::new_id();
    Ok(NotificationRow {
        message_id: message_id(&id, &ctx.settings.message_id_domain),
        id,
        dedupe_key: key.dedupe_key(),
        kind: if slot.is_overdue() {
            "overdue"
        } else {
            "reminder"
        }
        .to_string(),
        contact_id: Some(contact.id.clone()),
        recipient: contact.email.clone(),
        language: contact.language.clone(),
        time_zone: contact.time_zone.clone(),
        programme_id: s.programme_id.clone(),
        item_kind: Some(s.item_kind.to_string()),
        item_id: Some(s.item_id.clone()),
        occurrence: s.occurrence.clone(),
        due_on: Some(s.due_on),
        offset_days: Some(i32::try_from(slot.days_before).unwrap_or(i32::MIN)),
        payload: to_json(&payload)?,
        send_after: send_after.naive_utc(),
        state: state::PENDING.to_string(),
        attempts: 0,
        lease_until: None,
        claimed_by: None,
        last_error: None,
        digest_id: None,
        created_at: now,
        updated_at: now,
        sent_at: None,
    })
}

/// The one planning routine behind `plan_due`, `replan_items` and `preview`.
fn plan(
    conn: &mut Conn,
    now: DateTime<Utc>,
    window: Window,
    settings: &PlanSettings,
    scope: &Scope,
) -> QueryResult<PlanOutcome> {
    crate::db::serialize_planning(conn)?;
    let at = now.naive_utc();
    let policies = Policies::load(conn, None)?;
    let (from, to) = window.days();
    // Due dates whose notices can fall in the window: up to the longest
    // offset (and a weekend, and a weekly digest's week) after it; overdue
    // ones before it.
    let reach = to + Duration::days(policies.max_offset() + 2 + 6);
    let gathered = gather(conn, scope, from, reach)?;
    let (subjects, ctx) = subjects(conn, gathered, from, settings)?;
    let wanted = wanted_rows(&subjects, &ctx, &policies, window, at)?;
    let mut outcome = PlanOutcome::default();
    let mut touched: BTreeSet<String> = BTreeSet::new();
    let keys: Vec<String> = wanted.iter().map(|w| w.row.dedupe_key.clone()).collect();
    let wanted_keys: HashSet<&str> = keys.iter().map(String::as_str).collect();

    // First what no longer holds, so a digest it leaves is rewritten below.
    let unsent = match scope {
        Scope::All => {
            store::reminders::unsent_between(conn, window.from.naive_utc(), window.to.naive_utc())?
        }
        Scope::Items(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(store::reminders::unsent_of_item(
                    conn,
                    item.kind(),
                    item.id(),
                )?);
            }
            all
        }
    };
    let stale: Vec<&store::reminders::Unsent> = unsent
        .iter()
        .filter(|u| !wanted_keys.contains(u.1.as_str()))
        .collect();
    let stale_ids: Vec<String> = stale.iter().map(|u| u.0.clone()).collect();
    outcome.cancelled += store::reminders::cancel(conn, &stale_ids, at)?;
    touched.extend(stale.iter().filter_map(|u| u.2.clone()));

    let existing: HashMap<String, NotificationRow> = store::reminders::by_keys(conn, &keys)?
        .into_iter()
        .map(|r| (r.dedupe_key.clone(), r))
        .collect();
    let mut open: HashMap<Gathering, String> = HashMap::new();
    let mut fresh = Vec::new();
    for w in wanted {
        let row = w.row;
        if let Some(old) = existing.get(&row.dedupe_key) {
            if old.state == state::PENDING
                && old.attempts == 0
                && (old.payload != row.payload || old.send_after != row.send_after)
            {
                // Never tried yet: it says what holds now (an event's new
                // time on the same day, a new title, a new send hour).
                if store::reminders::refresh(conn, &old.id, &row.payload, row.send_after, at)? {
                    outcome.refreshed += 1;
                    touched.extend(old.digest_id.clone());
                }
                continue;
            }
            if old.state != state::CANCELLED || old.sent_at.is_some() {
                continue;
            }
            // Moved away and back (or cancelled by a change that is undone):
            // the same notice again, under its old Message-ID.
            let digest = match &w.gathering {
                Some((g, spec)) => Some(open_gathering(
                    conn,
                    &mut open,
                    g,
                    spec,
                    &ctx.settings,
                    at,
                    &mut outcome,
                )?),
                None => None,
            };
            if store::reminders::revive(
                conn,
                &old.id,
                &row.payload,
                row.send_after,
                digest.as_deref(),
                at,
            )? {
                outcome.revived += 1;
                touched.extend(digest);
            }
            continue;
        }
        fresh.push((row, w.gathering));
    }
    // New notices: those told already (under another policy) are left out,
    // found in one read for all; the rest are inserted in a few statements.
    let notices: Vec<store::reminders::Notice<'_>> =
        fresh.iter().map(|(row, _)| notice_of(row)).collect();
    let told = store::reminders::told_among(conn, &notices)?;
    let keys: Vec<_> = notices.iter().map(|n| n.key()).collect();
    drop(notices);
    let mut to_queue = Vec::with_capacity(fresh.len());
    for ((mut row, gathering), key) in fresh.into_iter().zip(keys) {
        if told.contains(&key) {
            continue;
        }
        if let Some((g, spec)) = &gathering {
            let digest = open_gathering(conn, &mut open, g, spec, &ctx.settings, at, &mut outcome)?;
            row.digest_id = Some(digest.clone());
            touched.insert(digest);
        }
        to_queue.push(row);
    }
    outcome.queued += store::notifications::queue_all(conn, &to_queue)?;
    outcome.gathered += regather(conn, &touched, at)?;
    Ok(outcome)
}

/// The notice a new row would give.
fn notice_of(row: &NotificationRow) -> store::reminders::Notice<'_> {
    store::reminders::Notice {
        kind: &row.kind,
        item_kind: row.item_kind.as_deref().unwrap_or_default(),
        item_id: row.item_id.as_deref().unwrap_or_default(),
        occurrence: &row.occurrence,
        due_on: row.due_on.unwrap_or(NaiveDate::MIN),
        offset_days: row.offset_days.unwrap_or_default(),
        contact_id: row.contact_id.as_deref().unwrap_or_default(),
    }
}

/// The digest or escalation a member goes into: the pending one of its day
/// (locked until the transaction ends, so no worker claims it while it
/// grows), or a new one when there is none or the day's went out already.
fn open_gathering(
    conn: &mut Conn,
    open: &mut HashMap<Gathering, String>,
    gathering: &Gathering,
    spec: &GatheringRow,
    settings: &PlanSettings,
    at: NaiveDateTime,
    outcome: &mut PlanOutcome,
) -> QueryResult<String> {
    if let Some(id) = open.get(gathering) {
        return Ok(id.clone());
    }
    let key_of = |n: u32| match gathering {
        Gathering::Digest {
            contact_id,
            mode,
            day,
        } => reminders::digest_key(contact_id, *mode, *day, n),
        Gathering::Escalation {
            group,
            day,
            contact_id,
        } => escalation_key(group, *day, contact_id, n),
    };
    let kind = match gathering {
        Gathering::Digest { .. } => "digest",
        Gathering::Escalation { .. } => "escalation",
    };
    // A few rounds: another planner may write the same row meanwhile.
    for n in 0..1000 {
        let key = key_of(n);
        let found = store::reminders::by_keys(conn, std::slice::from_ref(&key))?;
        let id = match found.into_iter().next() {
            Some(row) if row.state == state::PENDING => {
                match store::reminders::lock_pending(conn, &row.id)? {
                    Some(row) => row.id,
                    None => continue,
                }
            }
            Some(row) if row.state == state::CANCELLED && row.sent_at.is_none() => {
                let empty = to_json(&Payload {
                    recipient_name: spec.contact.name.clone(),
                    programme: spec.programme.clone(),
                    items: vec![],
                    ics: None,
                })?;
                if !store::reminders::revive(conn, &row.id, &empty, spec.send_after, None, at)? {
                    continue;
                }
                row.id
            }
            Some(_) => continue,
            None => {
                let id = store::new_id();
                let row = NotificationRow {
                    message_id: message_id(&id, &settings.message_id_domain),
                    id: id.clone(),
                    dedupe_key: key.clone(),
                    kind: kind.to_string(),
                    contact_id: Some(spec.contact.id.clone()),
                    recipient: spec.contact.email.clone(),
                    language: spec.contact.language.clone(),
                    time_zone: spec.contact.time_zone.clone(),
                    programme_id: spec.programme_id.clone(),
                    item_kind: None,
                    item_id: None,
                    occurrence: String::new(),
                    due_on: None,
                    offset_days: None,
                    payload: to_json(&Payload {
                        recipient_name: spec.contact.name.clone(),
                        programme: spec.programme.clone(),
                        items: vec![],
                        ics: None,
                    })?,
                    send_after: spec.send_after,
                    state: state::PENDING.to_string(),
                    attempts: 0,
                    lease_until: None,
                    claimed_by: None,
                    last_error: None,
                    digest_id: None,
                    created_at: at,
                    updated_at: at,
                    sent_at: None,
                };
                if !store::notifications::queue(conn, &row)? {
                    // Written by another planner meanwhile: look again at this key.
                    match store::reminders::by_keys(conn, std::slice::from_ref(&key))?
                        .into_iter()
                        .next()
                    {
                        Some(other) if other.state == state::PENDING => {
                            match store::reminders::lock_pending(conn, &other.id)? {
                                Some(row) => row.id,
                                None => continue,
                            }
                        }
                        _ => continue,
                    }
                } else {
                    outcome.queued += 1;
                    id
                }
            }
        };
        open.insert(gathering.clone(), id.clone());
        return Ok(id);
    }
    Err(DbError::RollbackTransaction)
}

/// Rewrites the payload of each pending digest or escalation from its live
/// members; one left without any is cancelled. The number written.
fn regather(conn: &mut Conn, ids: &BTreeSet<String>, at: NaiveDateTime) -> QueryResult<usize> {
    let mut written = 0;
    for id in ids {
        let Some(digest) = store::reminders::lock_pending(conn, id)? else {
            continue;
        };
        let members = store::reminders::live_members(conn, id)?;
        if members.is_empty() {
            written += store::reminders::cancel(conn, std::slice::from_ref(id), at)?;
            continue;
        }
        let mut payload: Payload = serde_json::from_str(&digest.payload)
            .map_err(|e| DbError::DeserializationError(Box::new(e)))?;
        let mut items = Vec::new();
        for m in &members {
            let p: Payload = serde_json::from_str(&m.payload)
                .map_err(|e| DbError::DeserializationError(Box::new(e)))?;
            items.extend(p.items);
        }
        items.sort_by(|a, b| {
            (a.due_on, a.starts_at, &a.number, &a.id).cmp(&(
                b.due_on,
                b.starts_at,
                &b.number,
                &b.id,
            ))
        });
        payload.items = items;
        let text = to_json(&payload)?;
        if text != digest.payload {
            written += store::reminders::set_payload(conn, id, &text, at)?;
        }
    }
    Ok(written)
}

// ---------------------------------------------------------------- event emails

/// What happened to an event, for its emails.
#[derive(Debug, Clone, Copy)]
pub enum EventChange<'a> {
    Created(&'a EventRow),
    Changed {
        old: &'a EventRow,
        new: &'a EventRow,
    },
    /// One occurrence of a series moved or cancelled; `revision` names it
    /// (its original start and SEQUENCE).
    OccurrenceChanged {
        event: &'a EventRow,
        revision: &'a str,
    },
    /// Call before the delete: the calendar is built from the event as it was.
    Deleted(&'a EventRow),
}

/// Queues the invitation, change or cancellation (with its iTIP calendar)
/// that an event write calls for, to the focal points of its organisers:
/// an invitation when a confirmed event is created (or an event becomes
/// confirmed, or a focal point has not been invited yet); a change when an
/// invited focal point's event moves; a cancellation when an event they were
/// invited to is cancelled or deleted. Unsent emails about the event are
/// replaced (each carries the calendar as it is now). The number queued.
pub fn event_emails(
    conn: &mut Conn,
    now: DateTime<Utc>,
    settings: &PlanSettings,
    change: EventChange<'_>,
) -> QueryResult<usize> {
    let at = now.naive_utc();
    let (event, old) = match change {
        EventChange::Created(e) => (e, None),
        EventChange::Changed { old, new } => (new, Some(old)),
        EventChange::OccurrenceChanged { event, .. } => (event, Some(event)),
        EventChange::Deleted(e) => (e, Some(e)),
    };
    let status = EventStatus::parse(&event.status);
    let confirmed = status == Some(EventStatus::Confirmed);
    let cancelled =
        matches!(change, EventChange::Deleted(_)) || status == Some(EventStatus::Cancelled);
    let was_cancelled = old.is_some_and(|o| o.status == EventStatus::Cancelled.as_str())
        && !matches!(change, EventChange::Deleted(_));
    let revision = match change {
        EventChange::OccurrenceChanged { revision, .. } => format!("{}/{revision}", event.sequence),
        EventChange::Deleted(_) => format!("{}/deleted", event.sequence),
        _ => event.sequence.to_string(),
    };
    let rescheduled = match change {
        EventChange::Changed { old, new } => new.sequence > old.sequence,
        EventChange::OccurrenceChanged { .. } => true,
        _ => false,
    };
    // Past events are history: no invitations to them.
    let over = event
        .latest
        .is_some_and(|last| last < now.date_naive() - Duration::days(1));
    if over
        || series_of(event).is_none()
        || (cancelled && was_cancelled)
        || (!confirmed && !cancelled && !rescheduled)
    {
        return Ok(0);
    }
    let stale = store::reminders::unsent_event_emails(conn, &event.id)?;
    store::reminders::cancel(conn, &stale, at)?;
    let invited = store::reminders::invited_contacts(conn, &event.id)?;
    let organisers: Vec<String> =
        store::reminders::organisers_of(conn, std::slice::from_ref(&event.id))?
            .into_iter()
            .map(|(_, o)| o)
            .collect();
    let keys: Vec<String> = store::reminders::organisations_by_ids(conn, &organisers)?
        .into_iter()
        .map(|o| o.key)
        .collect();
    let programme =
        match store::reminders::programmes_of_events(conn, std::slice::from_ref(&event.id))?
            .into_iter()
            .next()
        {
            Some((_, p)) => store::reminders::programmes_by_ids(conn, &[p])?
                .first()
                .map(programme_named),
            None => None,
        };
    let changes = store::feeds::content_of_event(conn, event.clone())?.changes;
    // The first occurrence: what the invitation is to.
    let (first_day, starts_at) = match series_of(event).map(|s| *s.start()) {
        Some(SeriesStart::Timed {
            start, starts_at, ..
        }) => (Some(start.date()), Some(starts_at)),
        Some(SeriesStart::AllDay { first, .. }) => (Some(first), None),
        None => (event.earliest, event.starts_at.map(|t| t.and_utc())),
    };
    let mut queued = 0;
    for contact in store::reminders::active_contacts_of(conn, &organisers)? {
        if ContactRole::parse(&contact.role) != Some(ContactRole::FocalPoint) {
            continue;
        }
        let was_invited = invited.contains(&contact.id);
        let (kind, method) = if cancelled {
            if !was_invited {
                continue;
            }
            ("event_cancellation", Method::Cancel)
        } else if !was_invited {
            if !confirmed {
                continue;
            }
            ("event_invitation", Method::Request)
        } else if rescheduled {
            ("event_change", Method::Request)
        } else {
            continue;
        };
        let lang = Language::parse(&contact.language).unwrap_or(Language::Ru);
        let attendee = Party {
            email: contact.email.clone(),
            name: Some(contact.name.clone()),
        };
        let Some(ics) = crate::calendar::feed::event_invitation(
            event,
            &changes,
            lang,
            &settings.base_url,
            &settings.organizer,
            &attendee,
            method,
        ) else {
            continue;
        };
        let zone = zone_of(&contact);
        let today = now.with_timezone(&zone).date_naive();
        let payload = Payload {
            recipient_name: contact.name.clone(),
            programme: programme.clone(),
            items: vec![DueItem {
                kind: "event".to_string(),
                id: event.id.clone(),
                number: None,
                title: titles(&event.title),
                field: ReminderField::EventStart.as_str().to_string(),
                due_on: first_day,
                starts_at,
                days_left: first_day.map_or(0, |d| d.signed_duration_since(today).num_days()),
                occurrence: String::new(),
                responsible: keys.clone(),
                url: format!("{}/api/v1/events/{}", settings.base_url, event.id),
            }],
            ics: Some(ics),
        };
        let id = store::new_id();
        let row = NotificationRow {
            message_id: message_id(&id, &settings.message_id_domain),
            id,
            dedupe_key: event_key(kind, &event.id, &revision, &contact.id),
            kind: kind.to_string(),
            contact_id: Some(contact.id.clone()),
            recipient: contact.email.clone(),
            language: contact.language.clone(),
            time_zone: contact.time_zone.clone(),
            programme_id: programme.as_ref().map(|p| p.id.clone()),
            item_kind: Some("event".to_string()),
            item_id: Some(event.id.clone()),
            occurrence: String::new(),
            due_on: first_day,
            offset_days: None,
            payload: to_json(&payload)?,
            send_after: at,
            state: state::PENDING.to_string(),
            attempts: 0,
            lease_until: None,
            claimed_by: None,
            last_error: None,
            digest_id: None,
            created_at: at,
            updated_at: at,
            sent_at: None,
        };
        if store::notifications::queue(conn, &row)? {
            queued += 1;
        } else if let Some(old) =
            store::reminders::by_keys(conn, std::slice::from_ref(&row.dedupe_key))?
                .into_iter()
                .next()
        {
            // Replaced above and wanted again (a change undone): the same email.
            if store::reminders::revive(conn, &old.id, &row.payload, at, None, at)? {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// Both of the hooks an event write needs: its reminders re-planned and its emails.
pub fn event_written(
    conn: &mut Conn,
    now: DateTime<Utc>,
    settings: &PlanSettings,
    change: EventChange<'_>,
) -> QueryResult<PlanOutcome> {
    let mut outcome = match change {
        EventChange::Deleted(e) => forget_item(conn, now, &Item::Event(e.id.clone()))?,
        EventChange::Created(e)
        | EventChange::Changed { new: e, .. }
        | EventChange::OccurrenceChanged { event: e, .. } => {
            replan_item(conn, now, settings, &Item::Event(e.id.clone()))?
        }
    };
    outcome.add(PlanOutcome {
        queued: event_emails(conn, now, settings, change)?,
        ..PlanOutcome::default()
    });
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_is_the_organizer() {
        assert_eq!(
            mailbox("accord <accord@localhost>"),
            Party {
                email: "accord@localhost".into(),
                name: Some("accord".into())
            }
        );
        assert_eq!(
            mailbox("\"Secretariat, KZ\" <sc@example.kz>"),
            Party {
                email: "sc@example.kz".into(),
                name: Some("Secretariat, KZ".into())
            }
        );
        assert_eq!(
            mailbox("sc@example.kz"),
            Party {
                email: "sc@example.kz".into(),
                name: None
            }
        );
    }

    #[test]
    fn windows_cover_the_local_days_of_their_instants() {
        use chrono::TimeZone;
        let now = Utc.with_ymd_and_hms(2025, 10, 8, 12, 0, 0).unwrap();
        let w = Window::around(now);
        assert_eq!(w.from, Utc.with_ymd_and_hms(2025, 10, 7, 12, 0, 0).unwrap());
        assert_eq!(w.to, Utc.with_ymd_and_hms(2025, 10, 9, 12, 0, 0).unwrap());
        let (from, to) = w.days();
        assert!(from <= NaiveDate::from_ymd_opt(2025, 10, 6).unwrap());
        assert!(to >= NaiveDate::from_ymd_opt(2025, 10, 10).unwrap());
        let day = Window::of_day(NaiveDate::from_ymd_opt(2025, 10, 8).unwrap());
        // 09:00 in Kamchatka (UTC+12) and in Los Angeles (UTC-7) on the 8th.
        assert!(day.contains(Utc.with_ymd_and_hms(2025, 10, 7, 21, 0, 0).unwrap()));
        assert!(day.contains(Utc.with_ymd_and_hms(2025, 10, 8, 16, 0, 0).unwrap()));
    }
}
