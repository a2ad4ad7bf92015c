//! What a calendar feed shows, built from the records of its scope: events
//! (with their changed occurrences), the deadlines of obligations, derived
//! deadlines (lead times, agreements' notice), and the meetings of the bodies.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, Utc};

use super::{Calendar, Entry, EntryStatus, Method, Occurrence, Party, When};
use crate::domain::deadlines::{
    due_dates, AnchorDates, LeadTimeAnchor, Occurrence as YearlyOccurrence,
};
use crate::domain::kinds::EventSchedule;
use crate::domain::timeframe::notice_deadline;
use crate::domain::zone::{parse_wall_time, parse_zone};
use crate::domain::{Language, LocalizedText};
use crate::store::agreements::AgreementRow;
use crate::store::bodies::MeetingRow;
use crate::store::events::EventRow;
use crate::store::feeds::{Content, LeadTime, OccurrenceChange};
use crate::store::obligations::ObligationRow;

/// How often calendar clients are asked to poll a feed.
pub const REFRESH_HOURS: i64 = 4;

/// The domain name in UIDs: they must be globally unique and never change.
const UID_DOMAIN: &str = "accord";

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// A stored localized text in `lang` (falling back as the API does).
pub fn text(json: &str, lang: Language) -> String {
    LocalizedText::from_json(json)
        .map(|t| t.display(lang).to_string())
        // Stored text is written by accord as JSON; a plain string is shown as it is.
        .unwrap_or_else(|_| json.to_string())
}

/// Words of the entries accord writes itself, in the reader's language.
struct Words {
    due: &'static str,
    notice: &'static str,
    meeting: &'static str,
    before: &'static str,
}

fn words(lang: Language) -> Words {
    // Russian, the commissions' working language, for languages without words here.
    match lang {
        Language::Ru
        | Language::Be
        | Language::Hy
        | Language::Ky
        | Language::Tg
        | Language::Tk
        | Language::Uz => Words {
            due: "Срок",
            notice: "Последний день уведомления о непродлении",
            meeting: "Заседание",
            before: "дн. до",
        },
        Language::Kk => Words {
            due: "Мерзімі",
            notice: "Ұзартпау туралы хабарлаудың соңғы күні",
            meeting: "Отырыс",
            before: "күн бұрын",
        },
        Language::En => Words {
            due: "Due",
            notice: "Last day to give notice of non-renewal",
            meeting: "Meeting",
            before: "days before",
        },
    }
}

fn event_status(status: &str) -> EntryStatus {
    match status {
        "cancelled" => EntryStatus::Cancelled,
        "confirmed" | "held" => EntryStatus::Confirmed,
        _ => EntryStatus::Tentative,
    }
}

fn all_day(first: NaiveDate, last: NaiveDate) -> When {
    When::AllDay { first, last }
}

/// When an event happens, as a calendar entry; None for an event known only
/// to a month, quarter or year (an entry would claim days it does not hold).
fn when_of_event(e: &EventRow) -> Option<When> {
    if e.schedule == EventSchedule::Timed.as_str() {
        let zone = parse_zone(e.time_zone.as_deref()?).ok()?;
        let start = e.start_local?;
        if e.recurrence.is_some() {
            // A series repeats in wall time: it keeps its zone (RFC 5545 reads
            // a repeated ambiguous time as the earlier instant, as accord does
            // unless told otherwise).
            return Some(When::Timed {
                start,
                end: e.end_local,
                zone,
            });
        }
        return Some(timed_when(zone, start, e.starts_at, e.end_local, e.ends_at));
    }
    if e.schedule == EventSchedule::AllDay.as_str() {
        let (first, last) = e.first_days();
        return Some(all_day(first?, last?));
    }
    None
}

/// A wall time that occurs twice (the hour the clocks go back) means the
/// earlier instant in iCalendar (RFC 5545 3.3.5); when accord holds the later
/// one, the entry is written in UTC instead, so that no client is an hour off.
fn timed_when(
    zone: chrono_tz::Tz,
    start: NaiveDateTime,
    starts_at: Option<NaiveDateTime>,
    end: Option<NaiveDateTime>,
    ends_at: Option<NaiveDateTime>,
) -> When {
    use chrono::TimeZone;
    let read_as_stored = |local: NaiveDateTime, at: Option<NaiveDateTime>| match at {
        Some(at) => zone
            .from_local_datetime(&local)
            .earliest()
            .is_none_or(|t| t.naive_utc() == at),
        None => true,
    };
    let fine =
        read_as_stored(start, starts_at) && end.is_none_or(|end| read_as_stored(end, ends_at));
    match (fine, starts_at) {
        (false, Some(starts_at)) => When::Timed {
            start: starts_at,
            end: ends_at,
            zone: chrono_tz::UTC,
        },
        _ => When::Timed { start, end, zone },
    }
}

fn occurrence_of(text: &str, timed: bool) -> Option<Occurrence> {
    if timed {
        parse_wall_time(text)
            .ok()
            .map(|(t, _)| Occurrence::Timed(t))
    } else {
        text.parse::<NaiveDate>().ok().map(Occurrence::AllDay)
    }
}

fn event_entries(
    e: &EventRow,
    changes: &[&OccurrenceChange],
    lang: Language,
    base: &str,
) -> Vec<Entry> {
    let Some(when) = when_of_event(e) else {
        return vec![];
    };
    let timed = matches!(when, When::Timed { .. });
    let summary = text(&e.title, lang);
    let location = match (&e.venue, &e.city) {
        (Some(v), Some(c)) => Some(format!("{v}, {c}")),
        (Some(v), None) => Some(v.clone()),
        (None, Some(c)) => Some(c.clone()),
        (None, None) => None,
    };
    let exdates: Vec<Occurrence> = e
        .exdates
        .as_deref()
        .and_then(|j| serde_json::from_str::<Vec<String>>(j).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| occurrence_of(t, timed))
        .collect();
    let series = Entry {
        uid: format!("event-{}@{UID_DOMAIN}", e.id),
        summary: summary.clone(),
        description: e.note.clone(),
        location: location.clone(),
        status: event_status(&e.status),
        sequence: e.sequence,
        last_modified: utc(e.updated_at),
        created: Some(utc(e.created_at)),
        when: when.clone(),
        rrule: e.recurrence.clone(),
        exdates,
        recurrence_id: None,
        categories: vec![e.kind.clone()],
        url: Some(format!("{base}/api/v1/events/{}", e.id)),
    };
    let mut entries = vec![series.clone()];
    if e.recurrence.is_some() {
        for c in changes {
            let (recurrence_id, when) = match &when {
                When::Timed { zone, .. } => (
                    Occurrence::Timed(c.recurrence_local),
                    timed_when(*zone, c.start_local, c.starts_at, c.end_local, c.ends_at),
                ),
                When::AllDay { first, last } => {
                    let length = (*last - *first).num_days().max(0) as u64;
                    let start = c.start_local.date();
                    let end = c
                        .end_local
                        .map(|t| t.date())
                        .or_else(|| start.checked_add_days(Days::new(length)))
                        .unwrap_or(start);
                    (
                        Occurrence::AllDay(c.recurrence_local.date()),
                        all_day(start, end),
                    )
                }
            };
            entries.push(Entry {
                status: event_status(&c.status),
                // Never below the series': clients keep the higher of the two.
                sequence: e.sequence + c.sequence,
                last_modified: utc(c.updated_at),
                created: Some(utc(c.created_at)),
                when,
                rrule: None,
                exdates: vec![],
                recurrence_id: Some(recurrence_id),
                description: c.note.clone().or_else(|| series.description.clone()),
                ..series.clone()
            });
        }
    }
    entries
}

fn obligation_status(lifecycle: &str) -> EntryStatus {
    match lifecycle {
        "cancelled" | "superseded" => EntryStatus::Cancelled,
        _ => EntryStatus::Confirmed,
    }
}

/// The last day of an obligation (or of each year's occurrence of a yearly one).
fn obligation_entries(
    o: &ObligationRow,
    years: &[(i32, NaiveDate, NaiveDate)],
    lang: Language,
    base: &str,
) -> Vec<Entry> {
    let w = words(lang);
    let item = text(&o.text, lang);
    let entry = |uid: String, due: NaiveDate, year: Option<i32>| Entry {
        uid,
        summary: match year {
            Some(y) => format!("{}: {} {item} ({y})", w.due, o.number),
            None => format!("{}: {} {item}", w.due, o.number),
        },
        description: Some(o.timeframe_text.clone()),
        location: None,
        status: obligation_status(&o.lifecycle),
        sequence: o.version - 1,
        last_modified: utc(o.updated_at),
        created: Some(utc(o.created_at)),
        when: all_day(due, due),
        rrule: None,
        exdates: vec![],
        recurrence_id: None,
        categories: vec!["deadline".to_string()],
        url: Some(format!("{base}/api/v1/obligations/{}", o.id)),
    };
    if o.recurrence.is_some() && !years.is_empty() {
        years
            .iter()
            .map(|(year, _, latest)| {
                entry(
                    format!("obligation-{}-{year}@{UID_DOMAIN}", o.id),
                    *latest,
                    Some(*year),
                )
            })
            .collect()
    } else {
        o.latest
            .map(|due| entry(format!("obligation-{}@{UID_DOMAIN}", o.id), due, None))
            .into_iter()
            .collect()
    }
}

fn meeting_status(status: &str) -> EntryStatus {
    match status {
        "cancelled" => EntryStatus::Cancelled,
        "postponed" => EntryStatus::Tentative,
        _ => EntryStatus::Confirmed,
    }
}

fn meeting_entry(m: &MeetingRow, lang: Language, base: &str) -> Entry {
    let when = match (m.start_local, parse_zone(&m.time_zone)) {
        (Some(start), Ok(zone)) => timed_when(zone, start, m.starts_at, None, None),
        _ => all_day(m.held_on, m.held_on),
    };
    Entry {
        uid: format!("meeting-{}@{UID_DOMAIN}", m.id),
        summary: format!(
            "{} {}: {}",
            words(lang).meeting,
            m.number,
            text(&m.title, lang)
        ),
        description: m.note.clone(),
        location: m.city.clone(),
        status: meeting_status(&m.status),
        sequence: m.version - 1,
        last_modified: utc(m.updated_at),
        created: Some(utc(m.created_at)),
        when,
        rrule: None,
        exdates: vec![],
        recurrence_id: None,
        categories: vec!["meeting".to_string()],
        url: Some(format!("{base}/api/v1/meetings/{}", m.id)),
    }
}

fn notice_entry(a: &AgreementRow, today: NaiveDate, lang: Language, base: &str) -> Option<Entry> {
    let notice = notice_deadline(
        a.in_force_on,
        a.term_months,
        a.renewal_months,
        a.notice_months,
        today,
    )?;
    Some(Entry {
        uid: format!(
            "agreement-notice-{}-{}@{UID_DOMAIN}",
            a.id, notice.period_ends
        ),
        summary: format!("{}: {}", words(lang).notice, text(&a.title, lang)),
        description: Some(format!("{} → {}", notice.notice_by, notice.period_ends)),
        location: None,
        status: EntryStatus::Confirmed,
        sequence: a.version - 1,
        last_modified: utc(a.updated_at),
        created: Some(utc(a.created_at)),
        when: all_day(notice.notice_by, notice.notice_by),
        rrule: None,
        exdates: vec![],
        recurrence_id: None,
        categories: vec!["deadline".to_string()],
        url: Some(format!("{base}/api/v1/agreements/{}", a.id)),
    })
}

/// What a lead time hangs on, as far as its entries need it.
struct Anchor {
    title: String,
    dates: AnchorDates,
    sequence: i32,
    updated_at: NaiveDateTime,
    cancelled: bool,
}

fn lead_time_entries(l: &LeadTime, anchor: &Anchor, lang: Language, base: &str) -> Vec<Entry> {
    let w = words(lang);
    let title = text(&l.title, lang);
    let anchor_end = LeadTimeAnchor::parse(&l.anchor).unwrap_or(LeadTimeAnchor::Start);
    due_dates(anchor_end, l.days_before, &anchor.dates)
        .into_iter()
        .filter_map(|d| {
            let due = d.due_on?;
            let uid = match d.occurrence_year {
                Some(y) => format!("lead-time-{}-{y}@{UID_DOMAIN}", l.id),
                None => format!("lead-time-{}@{UID_DOMAIN}", l.id),
            };
            Some(Entry {
                uid,
                summary: format!("{title} — {}", anchor.title),
                description: Some(format!("{} {} {}", l.days_before, w.before, anchor.title)),
                location: None,
                status: if anchor.cancelled {
                    EntryStatus::Cancelled
                } else {
                    EntryStatus::Confirmed
                },
                // Rises with the rule's own changes and with every move of its anchor.
                sequence: l.version - 1 + anchor.sequence,
                last_modified: utc(l.updated_at.max(anchor.updated_at)),
                created: Some(utc(l.created_at)),
                when: all_day(due, due),
                rrule: None,
                exdates: vec![],
                recurrence_id: None,
                categories: vec!["deadline".to_string()],
                url: Some(format!("{base}/api/v1/lead-times/{}", l.id)),
            })
        })
        .collect()
}

/// The iTIP message (METHOD:REQUEST or CANCEL) about one event for one
/// attendee, with the UID, SEQUENCE and times the feeds give it: what the
/// planner attaches to event emails. `changes` are the event's changed
/// occurrences (any others are ignored). Empty when the event has no days to
/// show (known only to a month, quarter or year).
pub fn event_invitation(
    e: &EventRow,
    changes: &[OccurrenceChange],
    lang: Language,
    base: &str,
    organizer: &Party,
    attendee: &Party,
    method: Method,
) -> Option<String> {
    let mine: Vec<&OccurrenceChange> = changes.iter().filter(|c| c.event_id == e.id).collect();
    let entries = event_entries(e, &mine, lang, base);
    if entries.is_empty() {
        return None;
    }
    Some(super::ics::invitation(
        &entries, organizer, attendee, method,
    ))
}

/// The calendar of a feed, and the last change of what it shows.
pub fn build(
    name: String,
    content: &Content,
    lang: Language,
    today: NaiveDate,
    base: &str,
) -> (Calendar, Option<DateTime<Utc>>) {
    let mut changes: BTreeMap<&str, Vec<&OccurrenceChange>> = BTreeMap::new();
    for c in &content.changes {
        changes.entry(c.event_id.as_str()).or_default().push(c);
    }
    let mut yearly: BTreeMap<&str, Vec<(i32, NaiveDate, NaiveDate)>> = BTreeMap::new();
    for (id, year, earliest, latest) in &content.yearly {
        yearly
            .entry(id.as_str())
            .or_default()
            .push((*year, *earliest, *latest));
    }
    let mut entries = Vec::new();
    let mut anchors: BTreeMap<&str, Anchor> = BTreeMap::new();
    for e in &content.events {
        let mine = changes.remove(e.id.as_str()).unwrap_or_default();
        entries.extend(event_entries(e, &mine, lang, base));
        anchors.insert(
            e.id.as_str(),
            Anchor {
                title: text(&e.title, lang),
                // A recurring event's lead times count from its first occurrence.
                dates: {
                    let (first, last) = e.first_days();
                    AnchorDates::Span { first, last }
                },
                sequence: e.sequence,
                updated_at: e.updated_at,
                cancelled: e.status == "cancelled",
            },
        );
    }
    for o in &content.obligations {
        let years = yearly.remove(o.id.as_str()).unwrap_or_default();
        entries.extend(obligation_entries(o, &years, lang, base));
        let dates = if o.recurrence.is_some() {
            AnchorDates::Yearly(
                years
                    .iter()
                    .map(|(year, earliest, latest)| YearlyOccurrence {
                        year: *year,
                        earliest: *earliest,
                        latest: *latest,
                    })
                    .collect(),
            )
        } else {
            AnchorDates::Span {
                first: o.earliest,
                last: o.latest,
            }
        };
        anchors.insert(
            o.id.as_str(),
            Anchor {
                title: format!("{} {}", o.number, text(&o.text, lang)),
                dates,
                sequence: o.version - 1,
                updated_at: o.updated_at,
                cancelled: matches!(o.lifecycle.as_str(), "cancelled" | "superseded"),
            },
        );
    }
    for m in &content.meetings {
        entries.push(meeting_entry(m, lang, base));
        anchors.insert(
            m.id.as_str(),
            Anchor {
                title: format!(
                    "{} {}: {}",
                    words(lang).meeting,
                    m.number,
                    text(&m.title, lang)
                ),
                dates: AnchorDates::Span {
                    first: Some(m.held_on),
                    last: Some(m.held_on),
                },
                sequence: m.version - 1,
                updated_at: m.updated_at,
                cancelled: m.status == "cancelled",
            },
        );
    }
    for a in &content.agreements {
        entries.extend(notice_entry(a, today, lang, base));
    }
    let mut seen = std::collections::BTreeSet::new();
    for l in &content.lead_times {
        // A rule may be reached twice (an event of an item of the feed); show it once.
        if !seen.insert(l.id.as_str()) {
            continue;
        }
        let anchor_id = l
            .event_id
            .as_deref()
            .or(l.obligation_id.as_deref())
            .or(l.meeting_id.as_deref());
        if let Some(anchor) = anchor_id.and_then(|id| anchors.get(id)) {
            entries.extend(lead_time_entries(l, anchor, lang, base));
        }
    }
    // A stable order: the same content gives the same bytes (and ETag).
    entries.sort_by(|a, b| {
        (&a.uid, a.recurrence_id.is_some(), &a.recurrence_id).cmp(&(
            &b.uid,
            b.recurrence_id.is_some(),
            &b.recurrence_id,
        ))
    });
    let last_change = entries
        .iter()
        .map(|e| e.last_modified)
        .chain(content.last_deletion.map(utc))
        .max();
    (
        Calendar {
            name,
            refresh: chrono::Duration::hours(REFRESH_HOURS),
            entries,
        },
        last_change,
    )
}
