//! Events: days of culture, tours, exhibitions, meetings. A timed event is a
//! local wall time in an IANA zone, with the UTC instant derived (and the
//! tzdata version that derived it); an all-day or approximate event is a
//! timeframe of dates.

use std::collections::BTreeMap;

use actix_web::http::header::LOCATION;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::auth::{write_context, Authenticated};
use super::body::{merge_patch, read, JsonBody};
use super::etag::{expected_version, ok_with_etag, stale, with_etag};
use super::pagination;
use super::programmes::corrupt;
use super::AppState;
use crate::db::Conn;
use crate::domain::access::{Action, Target};
use crate::domain::keys::is_key;
use crate::domain::kinds::{EventKind, EventSchedule, EventStatus};
use crate::domain::recurrence::{
    occurrence_instant, Moved, Occurrence, OccurrenceTime, RecurrenceId, Series, SeriesStart,
    MAX_OCCURRENCES,
};
use crate::domain::timeframe::{Timeframe, TimeframeKind};
use crate::domain::zone::parse_wall_time;
use crate::domain::zone::{parse_zone, resolve_local, tzdata_version};
use crate::domain::{Language, LocalizedText};
use crate::error::{AppError, AppResult, FieldError};
use crate::notify::planner::EventChange;
use crate::store::events::{EventFilter, EventPosition, EventRow};
use crate::store::occurrences::OccurrenceRow;
use crate::store::{self, Versioned};

/// The routes of this module, under /api/v1.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/events", web::get().to(list))
        .route("/events", web::post().to(create))
        .route("/events/{id}", web::get().to(one))
        .route("/events/{id}", web::put().to(put))
        .route("/events/{id}", web::patch().to(patch))
        .route("/events/{id}", web::delete().to(delete))
        .route("/events/{id}/occurrences", web::get().to(occurrences))
        .route(
            "/events/{id}/occurrences/{recurrence_id}",
            web::put().to(put_occurrence),
        );
}

/// The OpenAPI paths of this module.
#[derive(OpenApi)]
#[openapi(
    paths(list, one, create, put, patch, delete, occurrences, put_occurrence),
    tags((name = "events", description = "Events in local time: days of culture, tours, exhibitions, meetings"))
)]
pub struct Doc;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Organisation key: events it organises.
    pub organisation: Option<String>,
    /// Party code: events it hosts or is the guest of.
    pub party: Option<String>,
    /// City, ignoring case.
    pub city: Option<String>,
    /// Events whose last day is on or after this date. Undated events are
    /// left out when `from` or `to` is given.
    pub from: Option<NaiveDate>,
    /// Events whose first day is on or before this date.
    pub to: Option<NaiveDate>,
    pub status: Option<EventStatus>,
    pub kind: Option<EventKind>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Language of the display values (also from Accept-Language).
    pub lang: Option<String>,
}

/// An event as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    /// Stable key (ties the event to import files), if it has one.
    pub key: Option<String>,
    #[schema(value_type = BTreeMap<String, String>)]
    pub title: LocalizedText,
    /// The title in the reader's language.
    pub title_display: String,
    pub kind: EventKind,
    pub status: EventStatus,
    /// How precisely the time is known: timed (wall time and zone), all_day (dates) or approximate (a month, quarter or year).
    pub schedule: EventSchedule,
    /// The timeframe as given (`when`), or the start of a timed event.
    pub timeframe: String,
    pub timeframe_kind: TimeframeKind,
    /// First day (local date); absent when not yet known. For a recurring
    /// event, the first day of its first occurrence (or of an occurrence
    /// moved earlier).
    pub earliest: Option<NaiveDate>,
    /// Last day (local date), inclusive. For a recurring event, the last day
    /// of its last occurrence when the rule ends (COUNT or UNTIL), and
    /// 2200-12-31 when it does not, so that date filters find the series.
    pub latest: Option<NaiveDate>,
    /// Local wall time of the start in `time_zone`, e.g. 2025-06-10T10:00 (timed events).
    pub start: Option<String>,
    /// Local wall time of the end in `time_zone`.
    pub end: Option<String>,
    /// IANA time zone of `start` and `end`.
    pub time_zone: Option<String>,
    /// The start as an instant, in UTC.
    pub starts_at: Option<DateTime<Utc>>,
    /// The zone's offset from UTC at the start, e.g. +05:00.
    pub start_offset: Option<String>,
    /// The end as an instant, in UTC.
    pub ends_at: Option<DateTime<Utc>>,
    /// The zone's offset from UTC at the end.
    pub end_offset: Option<String>,
    /// Version of the tz database that derived `starts_at` and `ends_at`.
    pub tzdata_version: Option<String>,
    /// Host party code.
    pub host: Option<String>,
    /// Guest party code.
    pub guest: Option<String>,
    pub city: Option<String>,
    pub venue: Option<String>,
    pub source: Option<String>,
    pub note: Option<String>,
    /// Keys of the organising organisations.
    pub organisers: Vec<String>,
    /// Ids of the obligations (programme or protocol items) it fulfils.
    pub fulfils: Vec<String>,
    /// Recurrence rule (an RFC 5545 RRULE value), e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=10;
    /// absent when the event does not recur. Its occurrences: `/events/{id}/occurrences`.
    pub rrule: Option<String>,
    /// Occurrences removed from the series (EXDATE): their original local
    /// starts, e.g. 2025-07-08T10:00 (a date for an all-day series).
    pub exdates: Vec<String>,
    /// Calendar SEQUENCE (RFC 5545): rises on every change of date, time, zone,
    /// rule, removed occurrences or status (not on a change of one occurrence).
    pub sequence: i32,
    /// Deadlines derived from the event (lead times: "delegation list 60 days
    /// before the start"), with their due dates; they move when the event moves.
    pub deadlines: Vec<super::lead_times::DeadlineView>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Warnings, not errors: other events of a common organiser, or at the same
    /// venue, at an overlapping time. Given with one event (GET, POST, PUT,
    /// PATCH), never in list pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<Vec<Conflict>>,
}

/// What kind of clash a conflict is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// An organiser of this event also organises the other, at an overlapping time.
    OrganisationBusy,
    /// The other event is at the same venue, in the same city, at an overlapping time.
    VenueDoubleBooked,
}

/// Another event that overlaps this one (a warning: the write was done).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Conflict {
    pub kind: ConflictKind,
    /// Id of the other event.
    pub event_id: String,
    /// Title of the other event in the reader's language.
    pub event_title: String,
    /// Key of the common organiser (organisation_busy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// The other event's venue, as it gives it.
    pub venue: Option<String>,
    /// Start of the other event's overlapping occurrence, in UTC (timed events).
    pub starts_at: Option<DateTime<Utc>>,
    /// First day (local) of the other event's overlapping occurrence.
    pub earliest: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<EventView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many events match the filters.
    pub total: i64,
}

/// The changeable fields of an event. PUT sends all; PATCH sends a JSON merge
/// patch of them. Give either `when` (dates) or `start` with `time_zone`
/// (and optionally `end`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// Stable key: lowercase letters, digits and dashes; unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[schema(value_type = BTreeMap<String, String>)]
    pub title: LocalizedText,
    pub kind: EventKind,
    /// Default: tentative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<EventStatus>,
    /// All-day or approximate: a date, a range, a month, a quarter or a year
    /// ("2025-10-07", "2025-10-07..2025-10-08", "2025-10", "II quarter 2025", "2025").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Timed: local wall time, e.g. 2025-06-10T10:00. An explicit offset
    /// (2025-10-26T02:30+01:00) picks one of the two instants of a time that
    /// occurs twice; without it the earlier is taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Local wall time of the end, in the same zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// IANA time zone of `start` and `end`, e.g. Asia/Almaty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Host party code (ISO 3166).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Guest party code (ISO 3166).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Keys of the organising organisations.
    #[serde(default)]
    pub organisers: Vec<String>,
    /// Ids of the obligations it fulfils.
    #[serde(default)]
    pub fulfils: Vec<String>,
    /// Recurrence rule: an RFC 5545 RRULE value without `RRULE:`, e.g.
    /// FREQ=WEEKLY;BYDAY=TU;COUNT=10. Daily at most often; the event's start
    /// must be the rule's first occurrence; UNTIL is a UTC date-time
    /// (20251231T235959Z) for a timed event and a date (20251231) for an
    /// all-day one. Not for approximate events (a month, quarter or year).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
    /// Occurrences removed from the series (EXDATE): original local starts,
    /// e.g. 2025-07-08T10:00, or dates (2025-07-08) for an all-day series.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exdates: Vec<String>,
}

fn encode_cursor(p: &EventPosition) -> String {
    let earliest = p.earliest.map(|d| d.to_string()).unwrap_or_default();
    pagination::encode(&[&earliest, &p.id])
}

fn decode_cursor(text: &str) -> AppResult<EventPosition> {
    let parts = pagination::decode(text, 2)?;
    let earliest = match parts[0].as_str() {
        "" => None,
        d => Some(
            d.parse::<NaiveDate>()
                .ok()
                .filter(|d| YEARS.contains(&d.year()))
                .ok_or_else(|| AppError::invalid("cursor", "is not a cursor this API gave out"))?,
        ),
    };
    Ok(EventPosition {
        earliest,
        id: parts[1].clone(),
    })
}

#[utoipa::path(
    get, path = "/api/v1/events", tag = "events",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of events by first day, then id; undated events last", body = EventPage),
        (status = 400, description = "Invalid filter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: AppResult<super::lang::Lang>,
    query: actix_web::Result<web::Query<ListQuery>>,
) -> actix_web::Result<HttpResponse> {
    // Without a token the answer is 401, whatever the query says.
    who.may(Action::Read, Target::Event { body_id: None })?;
    Ok(page(state, lang?, query?.into_inner()).await?)
}

async fn page(
    state: web::Data<AppState>,
    lang: super::lang::Lang,
    q: ListQuery,
) -> AppResult<HttpResponse> {
    let limit = pagination::limit(q.limit)?;
    for (field, date) in [("from", q.from), ("to", q.to)] {
        if date.is_some_and(|d| !YEARS.contains(&d.year())) {
            return Err(AppError::invalid(
                field,
                format!("years are {} to {}", YEARS.start(), YEARS.end()),
            ));
        }
    }
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if to < from {
            return Err(AppError::invalid("to", "is before from"));
        }
    }
    let after = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let page = state
        .db(move |conn| {
            let empty = || EventPage {
                items: vec![],
                next_cursor: None,
                total: 0,
            };
            let mut filter = EventFilter {
                from: q.from,
                to: q.to,
                status: q.status.map(|s| s.as_str().to_string()),
                kind: q.kind.map(|k| k.as_str().to_string()),
                ..EventFilter::default()
            };
            if let Some(key) = &q.organisation {
                match store::organisations::by_key(conn, key)? {
                    Some(o) => filter.organisation_id = Some(o.id),
                    None => return Ok(empty()),
                }
            }
            if let Some(code) = &q.party {
                match store::parties::by_code(conn, code)? {
                    Some(p) => filter.party_id = Some(p.id),
                    None => return Ok(empty()),
                }
            }
            if let Some(city) = &q.city {
                // Matched here rather than in SQL: SQLite's lower() folds ASCII only,
                // and city names are often Cyrillic.
                let wanted = city.trim().to_lowercase();
                filter.cities = Some(
                    store::events::cities(conn)?
                        .into_iter()
                        .filter(|c| c.trim().to_lowercase() == wanted)
                        .collect(),
                );
            }
            let mut rows = store::events::search(conn, &filter, after.as_ref(), limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = if more {
                rows.last().map(|r| {
                    encode_cursor(&EventPosition {
                        earliest: r.earliest,
                        id: r.id.clone(),
                    })
                })
            } else {
                None
            };
            let total = store::events::count_matching(conn, &filter)?;
            let items = views(conn, rows, lang.0)?;
            Ok(EventPage {
                items,
                next_cursor,
                total,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Builds the views of some events, with their links, in the given order.
fn views(conn: &mut Conn, rows: Vec<EventRow>, lang: Language) -> AppResult<Vec<EventView>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut organisers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (event, key) in store::events::organisers_of(conn, &ids)? {
        organisers.entry(event).or_default().push(key);
    }
    let mut fulfils: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (event, obligation) in store::events::fulfils_of(conn, &ids)? {
        fulfils.entry(event).or_default().push(obligation);
    }
    let party_ids: Vec<String> = rows
        .iter()
        .flat_map(|r| [r.host_party_id.clone(), r.guest_party_id.clone()])
        .flatten()
        .collect();
    let codes: BTreeMap<String, String> = store::parties::codes_of(conn, &party_ids)?
        .into_iter()
        .collect();
    let mut deadlines =
        super::lead_times::deadlines_of_events(conn, &rows.iter().collect::<Vec<_>>(), lang)?;
    rows.into_iter()
        .map(|row| {
            let organisers = organisers.remove(&row.id).unwrap_or_default();
            let fulfils = fulfils.remove(&row.id).unwrap_or_default();
            let deadlines = deadlines.remove(&row.id).unwrap_or_default();
            view(row, &codes, organisers, fulfils, deadlines, lang)
        })
        .collect()
}

fn wall_time(t: NaiveDateTime) -> String {
    use chrono::Timelike;
    let form = if t.second() == 0 {
        "%Y-%m-%dT%H:%M"
    } else {
        "%Y-%m-%dT%H:%M:%S"
    };
    t.format(form).to_string()
}

fn offset_at(zone: Option<Tz>, at: Option<NaiveDateTime>) -> Option<String> {
    let (zone, at) = (zone?, at?);
    Some(zone.offset_from_utc_datetime(&at).fix().to_string())
}

fn view(
    row: EventRow,
    codes: &BTreeMap<String, String>,
    organisers: Vec<String>,
    fulfils: Vec<String>,
    deadlines: Vec<super::lead_times::DeadlineView>,
    lang: Language,
) -> AppResult<EventView> {
    let title = LocalizedText::from_json(&row.title).map_err(|e| corrupt("event title", e))?;
    let zone = row.time_zone.as_deref().and_then(|z| parse_zone(z).ok());
    let code = |id: &Option<String>| id.as_ref().and_then(|id| codes.get(id).cloned());
    let exdates = stored_exdates(&row)?;
    Ok(EventView {
        title_display: title.display(lang).to_string(),
        title,
        kind: EventKind::parse(&row.kind).ok_or_else(|| corrupt("event kind", &row.kind))?,
        status: EventStatus::parse(&row.status)
            .ok_or_else(|| corrupt("event status", &row.status))?,
        schedule: EventSchedule::parse(&row.schedule)
            .ok_or_else(|| corrupt("event schedule", &row.schedule))?,
        timeframe_kind: TimeframeKind::parse(&row.timeframe_kind)
            .ok_or_else(|| corrupt("event timeframe kind", &row.timeframe_kind))?,
        timeframe: row.timeframe_text,
        earliest: row.earliest,
        latest: row.latest,
        start: row.start_local.map(wall_time),
        end: row.end_local.map(wall_time),
        start_offset: offset_at(zone, row.starts_at),
        end_offset: offset_at(zone, row.ends_at),
        time_zone: row.time_zone,
        starts_at: row.starts_at.map(|t| t.and_utc()),
        ends_at: row.ends_at.map(|t| t.and_utc()),
        tzdata_version: row.tzdata_version,
        host: code(&row.host_party_id),
        guest: code(&row.guest_party_id),
        city: row.city,
        venue: row.venue,
        source: row.source,
        note: row.note,
        organisers,
        fulfils,
        rrule: row.recurrence,
        exdates,
        sequence: row.sequence,
        deadlines,
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        conflicts: None,
        id: row.id,
        key: row.key,
    })
}

fn view_of(conn: &mut Conn, row: EventRow, lang: Language) -> AppResult<EventView> {
    views(conn, vec![row], lang)?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("event vanished")))
}

/// An event and the body its access depends on.
struct EventScope {
    row: EventRow,
    body_id: Option<String>,
}

impl EventScope {
    fn target(&self) -> Target<'_> {
        Target::Event {
            body_id: self.body_id.as_deref(),
        }
    }
}

fn scope(conn: &mut Conn, id: &str) -> AppResult<EventScope> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::invalid("id", format!("`{id}` is not a UUID")));
    }
    let row = store::events::by_id(conn, id)?.ok_or_else(|| AppError::not_found("event", id))?;
    let fulfils: Vec<String> = store::events::fulfils_of(conn, std::slice::from_ref(&row.id))?
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    let body_id = store::events::body_of(conn, &fulfils)?;
    Ok(EventScope { row, body_id })
}

#[utoipa::path(
    get, path = "/api/v1/events/{id}", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)")),
    responses(
        (status = 200, description = "The event, with its ETag", body = EventView),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn one(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: AppResult<super::lang::Lang>,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Event { body_id: None })?;
    let lang = lang?;
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            let scope = scope(conn, &id)?;
            who.may(Action::Read, scope.target())?;
            view_with_conflicts(conn, scope.row, lang.0)
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

/// Years an event may be in: those of timeframes (domain::timeframe), which
/// also keeps instants within what both databases store.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// A wall time as `current_input` gives it back: with the offset when the
/// time occurs twice in its zone, so that a patch keeps the instant it had.
fn wall_time_input(local: NaiveDateTime, zone: Tz, at: Option<NaiveDateTime>) -> String {
    let text = wall_time(local);
    match (zone.from_local_datetime(&local), at) {
        (chrono::LocalResult::Ambiguous(..), Some(at)) => {
            format!("{text}{}", zone.offset_from_utc_datetime(&at).fix())
        }
        _ => text,
    }
}

/// The input that reproduces a stored event (the base of a merge patch).
fn current_input(conn: &mut Conn, row: &EventRow) -> AppResult<EventInput> {
    let ids = std::slice::from_ref(&row.id);
    let organisers = store::events::organisers_of(conn, ids)?
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    let fulfils = store::events::fulfils_of(conn, ids)?
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    let party_ids: Vec<String> = [row.host_party_id.clone(), row.guest_party_id.clone()]
        .into_iter()
        .flatten()
        .collect();
    let codes: BTreeMap<String, String> = store::parties::codes_of(conn, &party_ids)?
        .into_iter()
        .collect();
    let code = |id: &Option<String>| id.as_ref().and_then(|id| codes.get(id).cloned());
    let timed = row.schedule == EventSchedule::Timed.as_str();
    let zone = row.time_zone.as_deref().and_then(|z| parse_zone(z).ok());
    let (when, start, end) = match (timed, zone, row.start_local) {
        (true, Some(zone), Some(start)) => (
            None,
            Some(wall_time_input(start, zone, row.starts_at)),
            row.end_local
                .map(|end| wall_time_input(end, zone, row.ends_at)),
        ),
        _ => (Some(row.timeframe_text.clone()), None, None),
    };
    Ok(EventInput {
        key: row.key.clone(),
        title: LocalizedText::from_json(&row.title).map_err(|e| corrupt("event title", e))?,
        kind: EventKind::parse(&row.kind).ok_or_else(|| corrupt("event kind", &row.kind))?,
        status: Some(
            EventStatus::parse(&row.status).ok_or_else(|| corrupt("event status", &row.status))?,
        ),
        when,
        start,
        end,
        time_zone: if timed { row.time_zone.clone() } else { None },
        host: code(&row.host_party_id),
        guest: code(&row.guest_party_id),
        city: row.city.clone(),
        venue: row.venue.clone(),
        source: row.source.clone(),
        note: row.note.clone(),
        organisers,
        fulfils,
        rrule: row.recurrence.clone(),
        exdates: stored_exdates(row)?,
    })
}

/// An input checked against the database: the row to store and its links.
struct Checked {
    row: EventRow,
    organiser_ids: Vec<String>,
    fulfils: Vec<String>,
    body_id: Option<String>,
    occurrences: OccurrencePlan,
}

/// Dates and times of an event from `when`, or from `start`/`end`/`time_zone`.
fn schedule_into(input: &EventInput, row: &mut EventRow, errors: &mut Vec<FieldError>) {
    match (&input.when, &input.start) {
        (Some(_), Some(_)) => errors.push(FieldError::new(
            "start",
            "give either `when` (dates) or `start` (a local time), not both",
        )),
        (None, None) => errors.push(FieldError::new(
            "when",
            "an event needs `when` (dates) or `start` (a local time) with `time_zone`",
        )),
        (Some(when), None) => {
            for (field, given) in [("end", &input.end), ("time_zone", &input.time_zone)] {
                if given.is_some() {
                    errors.push(FieldError::new(field, "goes with `start`, not with `when`"));
                }
            }
            match Timeframe::parse(when, None) {
                Ok(t) => {
                    row.schedule = match t.kind {
                        TimeframeKind::Date | TimeframeKind::Range => EventSchedule::AllDay,
                        _ => EventSchedule::Approximate,
                    }
                    .as_str()
                    .to_string();
                    row.timeframe_kind = t.kind.as_str().to_string();
                    row.timeframe_text = t.source;
                    row.earliest = t.earliest;
                    row.latest = t.latest;
                }
                Err(e) => errors.push(FieldError::new("when", e.to_string())),
            }
        }
        (None, Some(start)) => timed_into(input, start, row, errors),
    }
}

fn timed_into(
    input: &EventInput,
    start_text: &str,
    row: &mut EventRow,
    errors: &mut Vec<FieldError>,
) {
    let zone = match input.time_zone.as_deref().map(parse_zone) {
        Some(Ok(zone)) => Some(zone),
        Some(Err(e)) => {
            errors.push(FieldError::new("time_zone", e));
            None
        }
        None => {
            errors.push(FieldError::new(
                "time_zone",
                "an event with a start time needs its IANA time zone, e.g. Asia/Almaty",
            ));
            None
        }
    };
    let start = parse_wall_time(start_text).map_err(|e| errors.push(FieldError::new("start", e)));
    let end = input
        .end
        .as_deref()
        .map(parse_wall_time)
        .transpose()
        .map_err(|e| errors.push(FieldError::new("end", e)));
    let (Some(zone), Ok((start_local, start_offset)), Ok(end)) = (zone, start, end) else {
        return;
    };
    let starts_at = match resolve_local(start_local, zone, start_offset) {
        Ok(t) => t,
        Err(e) => {
            errors.push(FieldError::new("start", e.to_string()));
            return;
        }
    };
    let end = match end {
        None => None,
        Some((end_local, end_offset)) => match resolve_local(end_local, zone, end_offset) {
            // Both, as the wall times are stored too and must not run backwards.
            Ok(ends_at) if ends_at < starts_at || end_local < start_local => {
                errors.push(FieldError::new("end", "the event ends before it starts"));
                return;
            }
            Ok(ends_at) => Some((end_local, ends_at)),
            Err(e) => {
                errors.push(FieldError::new("end", e.to_string()));
                return;
            }
        },
    };
    let first = start_local.date();
    let last = end.map(|(l, _)| l.date()).unwrap_or(first);
    row.schedule = EventSchedule::Timed.as_str().to_string();
    row.timeframe_kind = if first == last {
        TimeframeKind::Date
    } else {
        TimeframeKind::Range
    }
    .as_str()
    .to_string();
    row.timeframe_text = start_text.trim().to_string();
    row.earliest = Some(first);
    row.latest = Some(last);
    row.start_local = Some(start_local);
    row.end_local = end.map(|(l, _)| l);
    row.time_zone = Some(zone.name().to_string());
    row.starts_at = Some(starts_at.naive_utc());
    row.ends_at = end.map(|(_, u)| u.naive_utc());
    row.tzdata_version = Some(tzdata_version().to_string());
}

/// Free text: trimmed, blank as absent, bounded.
fn free_text(
    field: &str,
    text: &Option<String>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let text = text.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    if text.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Some(text.to_string())
}

/// Checks an input and builds the row to store over `base` (the stored event,
/// or a fresh one), collecting every failing field.
fn check(conn: &mut Conn, input: &EventInput, base: &EventRow) -> AppResult<Checked> {
    let mut errors = Vec::new();
    let mut row = EventRow {
        key: None,
        title: input.title.to_json(),
        kind: input.kind.as_str().to_string(),
        status: input
            .status
            .unwrap_or(EventStatus::Tentative)
            .as_str()
            .to_string(),
        schedule: String::new(),
        timeframe_kind: String::new(),
        timeframe_text: String::new(),
        earliest: None,
        latest: None,
        start_local: None,
        end_local: None,
        time_zone: None,
        starts_at: None,
        ends_at: None,
        tzdata_version: None,
        host_party_id: None,
        guest_party_id: None,
        city: free_text("city", &input.city, 200, &mut errors),
        venue: free_text("venue", &input.venue, 500, &mut errors),
        source: free_text("source", &input.source, 1000, &mut errors),
        note: free_text("note", &input.note, 4000, &mut errors),
        ..base.clone()
    };
    if let Some(key) = &input.key {
        if !is_key(key) {
            errors.push(FieldError::new(
                "key",
                format!("`{key}` is not a key: use lowercase letters, digits and dashes"),
            ));
        } else if store::events::by_key(conn, key)?.is_some_and(|other| other.id != base.id) {
            errors.push(FieldError::new(
                "key",
                format!("event `{key}` already exists"),
            ));
        }
        row.key = Some(key.clone());
    }
    schedule_into(input, &mut row, &mut errors);
    let occurrences = recurrence_into(conn, input, base, &mut row, &mut errors)?;
    for (field, code, slot) in [
        ("host", &input.host, &mut row.host_party_id),
        ("guest", &input.guest, &mut row.guest_party_id),
    ] {
        if let Some(code) = code {
            match store::parties::by_code(conn, code)? {
                Some(p) => *slot = Some(p.id),
                None => errors.push(FieldError::new(
                    field,
                    format!("party `{code}` does not exist"),
                )),
            }
        }
    }
    let mut organiser_ids = Vec::new();
    for (i, key) in input.organisers.iter().enumerate() {
        let field = format!("organisers[{i}]");
        match store::organisations::by_key(conn, key)? {
            Some(o) if organiser_ids.contains(&o.id) => {
                errors.push(FieldError::new(field, format!("`{key}` is named twice")))
            }
            Some(o) => organiser_ids.push(o.id),
            None => errors.push(FieldError::new(
                field,
                format!("organisation `{key}` does not exist"),
            )),
        }
    }
    let mut fulfils = Vec::new();
    for (i, id) in input.fulfils.iter().enumerate() {
        let field = format!("fulfils[{i}]");
        if uuid::Uuid::parse_str(id).is_err() {
            errors.push(FieldError::new(
                field,
                format!("`{id}` is not an obligation id (a UUID)"),
            ));
        } else if fulfils.contains(id) {
            errors.push(FieldError::new(field, format!("`{id}` is named twice")));
        } else if store::obligations::by_id(conn, id)?.is_none() {
            errors.push(FieldError::new(
                field,
                format!("obligation {id} does not exist"),
            ));
        } else {
            fulfils.push(id.clone());
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let body_id = store::events::body_of(conn, &fulfils)?;
    Ok(Checked {
        row,
        organiser_ids,
        fulfils,
        body_id,
        occurrences,
    })
}

/// A second event with the same key, written concurrently, is a conflict, not a fault.
fn key_taken(e: diesel::result::Error) -> AppError {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => AppError::Conflict("an event with this key already exists".into()),
        other => other.into(),
    }
}

fn location(id: &str) -> String {
    format!("/api/v1/events/{id}")
}

#[utoipa::path(
    post, path = "/api/v1/events", tag = "events",
    request_body = EventInput,
    responses(
        (status = 201, description = "Created; Location and ETag name it", body = EventView,
            headers(("Location" = String, description = "URL of the new event"), ("ETag" = String, description = "Its version"))),
        (status = 400, description = "Invalid event", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to create", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key was taken meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: AppResult<super::lang::Lang>,
    body: AppResult<JsonBody>,
) -> AppResult<HttpResponse> {
    // Without a token the answer is 401, whatever the body says.
    if who.principal().is_none() {
        who.may(Action::Create, Target::Event { body_id: None })?;
    }
    let lang = lang?;
    let input: EventInput = read(body?.0)?;
    let ctx = write_context(&state, &who, &req);
    let st = state.clone();
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let fresh = EventRow {
                    id: store::new_id(),
                    key: None,
                    title: String::new(),
                    kind: String::new(),
                    status: String::new(),
                    schedule: String::new(),
                    timeframe_kind: String::new(),
                    timeframe_text: String::new(),
                    earliest: None,
                    latest: None,
                    start_local: None,
                    end_local: None,
                    time_zone: None,
                    starts_at: None,
                    ends_at: None,
                    tzdata_version: None,
                    recurrence: None,
                    host_party_id: None,
                    guest_party_id: None,
                    city: None,
                    venue: None,
                    source: None,
                    note: None,
                    sequence: 0,
                    version: 1,
                    created_at: ctx.at,
                    updated_at: ctx.at,
                    exdates: None,
                };
                let checked = check(conn, &input, &fresh)?;
                who.may(
                    Action::Create,
                    Target::Event {
                        body_id: checked.body_id.as_deref(),
                    },
                )?;
                let row = store::events::insert(conn, &ctx, checked.row).map_err(key_taken)?;
                store::events::replace_organisers(conn, &ctx, &row.id, &checked.organiser_ids)?;
                store::events::replace_fulfils(conn, &ctx, &row.id, &checked.fulfils)?;
                // Its reminders, and the invitations to a confirmed event, with it.
                super::reminder_policies::event_written(conn, &st, EventChange::Created(&row))?;
                view_with_conflicts(conn, row, lang.0)
            })
        })
        .await?;
    Ok(with_etag(HttpResponse::Created(), view.version)
        .insert_header((LOCATION, location(&view.id)))
        .json(view))
}

async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: AppResult<super::lang::Lang>,
    id: String,
    body: AppResult<JsonBody>,
    patch: bool,
) -> AppResult<HttpResponse> {
    // Without a token the answer is 401, whatever the request says.
    if who.principal().is_none() {
        who.may(Action::Update, Target::Event { body_id: None })?;
    }
    let (lang, body) = (lang?, body?.0);
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let st = state.clone();
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let scope = scope(conn, &id)?;
                who.may(Action::Update, scope.target())?;
                let input: EventInput = if patch {
                    let mut doc = serde_json::to_value(current_input(conn, &scope.row)?)
                        .map_err(|e| AppError::Internal(e.into()))?;
                    merge_patch(&mut doc, &body);
                    read(doc)?
                } else {
                    read(body)?
                };
                let checked = check(conn, &input, &scope.row)?;
                // The event must stay within what the caller may write.
                who.may(
                    Action::Update,
                    Target::Event {
                        body_id: checked.body_id.as_deref(),
                    },
                )?;
                let mut row = checked.row;
                row.sequence =
                    scope.row.sequence + i32::from(store::events::rescheduled(&scope.row, &row));
                let old = scope.row.clone();
                let row = match store::events::update(conn, &ctx, scope.row, row, expected)
                    .map_err(key_taken)?
                {
                    Versioned::Stale => return Err(stale()),
                    Versioned::Written(row) | Versioned::Unchanged(row) => row,
                };
                apply_occurrence_plan(conn, &ctx, checked.occurrences)?;
                let organisers_changed =
                    store::events::replace_organisers(conn, &ctx, &row.id, &checked.organiser_ids)?;
                let fulfils_changed =
                    store::events::replace_fulfils(conn, &ctx, &row.id, &checked.fulfils)?;
                // A change of links is a change of the event: its version moves too.
                let row = if (organisers_changed || fulfils_changed) && row.version == expected {
                    store::events::bump_version(conn, &row.id, expected, ctx.at)?
                        .ok_or_else(stale)?
                } else {
                    row
                };
                // Its reminders follow its dates and status; invitees hear of a change.
                super::reminder_policies::event_written(
                    conn,
                    &st,
                    EventChange::Changed {
                        old: &old,
                        new: &row,
                    },
                )?;
                view_with_conflicts(conn, row, lang.0)
            })
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

#[utoipa::path(
    put, path = "/api/v1/events/{id}", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)"), ("If-Match" = String, Header, description = "ETag of the version being replaced")),
    request_body = EventInput,
    responses(
        (status = 200, description = "Replaced", body = EventView),
        (status = 400, description = "Invalid event", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key was taken meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: AppResult<super::lang::Lang>,
    id: web::Path<String>,
    body: AppResult<JsonBody>,
) -> AppResult<HttpResponse> {
    change(state, req, who, lang, id.into_inner(), body, false).await
}

#[utoipa::path(
    patch, path = "/api/v1/events/{id}", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)"), ("If-Match" = String, Header, description = "ETag of the version being changed")),
    request_body(content = Object, description = "JSON merge patch (RFC 7396) of EventInput", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = EventView),
        (status = 400, description = "Invalid change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key was taken meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: AppResult<super::lang::Lang>,
    id: web::Path<String>,
    body: AppResult<JsonBody>,
) -> AppResult<HttpResponse> {
    change(state, req, who, lang, id.into_inner(), body, true).await
}

#[utoipa::path(
    delete, path = "/api/v1/events/{id}", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)"), ("If-Match" = String, Header, description = "ETag of the version being deleted")),
    responses(
        (status = 204, description = "Deleted, with its links to organisations and obligations"),
        (status = 400, description = "Invalid id or If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to delete", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    if who.principal().is_none() {
        who.may(Action::Delete, Target::Event { body_id: None })?;
    }
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    let st = state.clone();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let scope = scope(conn, &id)?;
                who.may(Action::Delete, scope.target())?;
                if scope.row.version != expected {
                    return Err(stale());
                }
                // Its reminders go, and those invited hear it is off (from the event as it was).
                super::reminder_policies::event_written(
                    conn,
                    &st,
                    EventChange::Deleted(&scope.row),
                )?;
                // Its lead times go with it, each deletion audited (not a silent cascade).
                store::lead_times::delete_of_anchor(
                    conn,
                    &ctx,
                    crate::domain::deadlines::AnchorKind::Event,
                    &scope.row.id,
                )?;
                if store::events::delete(conn, &ctx, scope.row, expected)? {
                    Ok(())
                } else {
                    Err(stale())
                }
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The exdates of a stored event, as the API writes them.
pub(crate) fn stored_exdates(row: &EventRow) -> AppResult<Vec<String>> {
    match row.exdates.as_deref() {
        None => Ok(vec![]),
        Some(text) => serde_json::from_str(text).map_err(|e| corrupt("event exdates", e)),
    }
}

pub(crate) fn is_all_day(row: &EventRow) -> bool {
    row.schedule == EventSchedule::AllDay.as_str()
}

/// The first occurrence of an event, on which a rule is anchored; None for
/// an approximate or undated event. For an all-day event it is the days of
/// `when` (a recurring event's earliest/latest span the whole series).
pub(crate) fn series_start(row: &EventRow) -> Option<SeriesStart> {
    match EventSchedule::parse(&row.schedule)? {
        EventSchedule::Timed => Some(SeriesStart::Timed {
            start: row.start_local?,
            end: row.end_local,
            zone: parse_zone(row.time_zone.as_deref()?).ok()?,
            starts_at: row.starts_at?.and_utc(),
            ends_at: row.ends_at.map(|t| t.and_utc()),
        }),
        EventSchedule::AllDay => {
            let t = Timeframe::parse(&row.timeframe_text, None).ok()?;
            Some(SeriesStart::AllDay {
                first: t.earliest?,
                last: t.latest?,
            })
        }
        EventSchedule::Approximate => None,
    }
}

/// The series of a stored event (a single event is a series of one); None
/// for an approximate or undated event.
pub(crate) fn series_of(row: &EventRow) -> AppResult<Option<Series>> {
    let Some(start) = series_start(row) else {
        return Ok(None);
    };
    let exdates = stored_exdates(row)?;
    match Series::new(start, row.recurrence.as_deref(), &exdates) {
        Ok(series) => Ok(Some(series)),
        Err(errors) => {
            // A stored rule was checked when written; new zone rules could in
            // principle unsettle it. The event is then shown as a single event.
            tracing::warn!(event = row.id, ?errors, "stored recurrence no longer valid");
            Ok(Series::new(start, None, &[]).ok())
        }
    }
}

/// A changed occurrence as the series sees it.
pub(crate) fn moved_of(o: &OccurrenceRow, all_day: bool) -> Moved {
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

/// What a write of an event does to its changed occurrences: those its new
/// rule, start or exdates no longer have are deleted; those kept are given
/// new instants when the zone changed.
#[derive(Default)]
struct OccurrencePlan {
    stale: Vec<OccurrenceRow>,
    rezoned: Vec<(OccurrenceRow, OccurrenceRow)>,
}

/// Checks `rrule` and `exdates` against the event's start and sets the row's
/// rule, exdates and (for a series) its first and last day.
fn recurrence_into(
    conn: &mut Conn,
    input: &EventInput,
    base: &EventRow,
    row: &mut EventRow,
    errors: &mut Vec<FieldError>,
) -> AppResult<OccurrencePlan> {
    row.recurrence = None;
    row.exdates = None;
    let mut plan = OccurrencePlan::default();
    let existing = store::occurrences::of_event(conn, &base.id)?;
    let Some(start) = series_start(row) else {
        if row.schedule == EventSchedule::Approximate.as_str()
            && (input.rrule.is_some() || !input.exdates.is_empty())
        {
            errors.push(FieldError::new(
                if input.rrule.is_some() { "rrule" } else { "exdates" },
                "an approximate event (a month, quarter or year) cannot recur: give it a start time or dates",
            ));
        }
        plan.stale = existing;
        return Ok(plan);
    };
    let series = match Series::new(start, input.rrule.as_deref(), &input.exdates) {
        Ok(series) => series,
        Err(rejected) => {
            errors.extend(
                rejected
                    .into_iter()
                    .map(|e| FieldError::new(e.field, e.reason)),
            );
            return Ok(plan);
        }
    };
    row.recurrence = series.rule().map(str::to_string);
    let exdates: Vec<String> = series.exdates().iter().map(|d| d.to_string()).collect();
    row.exdates = if exdates.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&exdates).map_err(|e| AppError::Internal(e.into()))?)
    };
    let all_day = is_all_day(row);
    let zone = row.time_zone.as_deref().and_then(|z| parse_zone(z).ok());
    let mut moved = Vec::new();
    for old in existing {
        let id = RecurrenceId::from_local(old.recurrence_local, all_day);
        let kept = series.is_recurring()
            && base.schedule == row.schedule
            && series.occurrence(id).is_some();
        if !kept {
            plan.stale.push(old);
            continue;
        }
        let mut new = old.clone();
        if let (false, Some(zone), true) = (all_day, zone, base.time_zone != row.time_zone) {
            // The same wall times in the new zone.
            new.starts_at = Some(occurrence_instant(old.start_local, zone).naive_utc());
            new.ends_at = old
                .end_local
                .map(|e| occurrence_instant(e, zone).naive_utc());
            new.tzdata_version = Some(tzdata_version().to_string());
        }
        moved.push(moved_of(&new, all_day));
        if new != old {
            plan.rezoned.push((old, new));
        }
    }
    if series.is_recurring() {
        let (earliest, latest) = series.span(&moved);
        row.earliest = Some(earliest);
        row.latest = Some(latest);
    }
    Ok(plan)
}

/// Carries out an occurrence plan inside the event's write, each change audited.
fn apply_occurrence_plan(
    conn: &mut Conn,
    ctx: &store::WriteContext,
    plan: OccurrencePlan,
) -> AppResult<()> {
    for old in &plan.stale {
        store::occurrences::delete(conn, ctx, old)?;
    }
    for (old, mut new) in plan.rezoned {
        new.version += 1;
        new.updated_at = ctx.at;
        if new.starts_at != old.starts_at || new.ends_at != old.ends_at {
            new.sequence += 1;
        }
        store::occurrences::write(conn, ctx, Some(&old), &new)?;
    }
    Ok(())
}

/// One occurrence of a series with its change, if it has one.
struct Expanded<'a> {
    occurrence: Occurrence,
    change: Option<&'a OccurrenceRow>,
}

/// The occurrences of an event taking a day of [from, to], with their changes.
fn expand<'a>(
    row: &EventRow,
    series: &Series,
    changes: &'a [OccurrenceRow],
    from: NaiveDate,
    to: NaiveDate,
    max: usize,
) -> (Vec<Expanded<'a>>, bool) {
    let all_day = is_all_day(row);
    let moved: Vec<Moved> = changes.iter().map(|c| moved_of(c, all_day)).collect();
    let by_id: BTreeMap<RecurrenceId, &OccurrenceRow> = changes
        .iter()
        .map(|c| (RecurrenceId::from_local(c.recurrence_local, all_day), c))
        .collect();
    let expansion = series.occurrences(from, to, max, &moved);
    let items = expansion
        .occurrences
        .into_iter()
        .map(|occurrence| Expanded {
            change: by_id.get(&occurrence.recurrence_id).copied(),
            occurrence,
        })
        .collect();
    (items, expansion.truncated)
}

fn view_with_conflicts(conn: &mut Conn, row: EventRow, lang: Language) -> AppResult<EventView> {
    let conflicts = conflicts(conn, &row, lang)?;
    let mut view = view_of(conn, row, lang)?;
    view.conflicts = Some(conflicts);
    Ok(view)
}

/// At most this many candidate events of each kind are compared (the
/// earliest first); clashes with later ones go unreported.
const CONFLICT_CANDIDATES: i64 = 100;
/// At most this many occurrences of each side are compared per candidate
/// (recurring events are expanded within the other event's dates only).
const CONFLICT_OCCURRENCES: usize = 200;

/// Venue and city names compared as people mean them: trimmed, case-folded
/// (Unicode: "Театр" and "ТЕАТР" are one venue).
fn folded(text: &str) -> String {
    text.trim().to_lowercase()
}

/// The occurrences of an event that can clash within [from, to]: not cancelled.
fn clashable(
    row: &EventRow,
    series: &Series,
    changes: &[OccurrenceRow],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<OccurrenceTime> {
    let cancelled = EventStatus::Cancelled.as_str();
    expand(row, series, changes, from, to, CONFLICT_OCCURRENCES)
        .0
        .into_iter()
        .filter(|e| e.change.is_none_or(|c| c.status != cancelled))
        .map(|e| e.occurrence.when)
        .collect()
}

/// Other events that overlap this one. The rules (warnings, never errors):
/// - a cancelled event never conflicts, on either side, nor does an
///   approximate one (a month, a quarter, a year) or a cancelled occurrence;
/// - organisation_busy: another event with a common organiser;
/// - venue_double_booked: another event at the same venue (trimmed,
///   case-folded) in the same city when both give a city;
/// - overlapping in time: two timed occurrences by their instants
///   [start, end), an hour when there is no end; otherwise by local days
///   (all-day: first to last; timed: the days of its start to its end);
/// - recurring events, on either side, are compared occurrence by
///   occurrence within the days both events take.
///
/// Candidates come from indexed queries restricted to the event's days: the
/// shared organisers (event_organisations) and the venue's city; each
/// conflict names the other event's first overlapping occurrence.
fn conflicts(conn: &mut Conn, row: &EventRow, lang: Language) -> AppResult<Vec<Conflict>> {
    let (Some(earliest), Some(latest)) = (row.earliest, row.latest) else {
        return Ok(vec![]);
    };
    if row.status == EventStatus::Cancelled.as_str() {
        return Ok(vec![]);
    }
    let Some(series) = series_of(row)? else {
        return Ok(vec![]);
    };
    // A day either side: a timed event late at night in one zone overlaps
    // one early the next day in a zone further east.
    let widen = |d: NaiveDate, days: i64| d.checked_add_signed(chrono::Duration::days(days));
    let from = widen(earliest, -1).unwrap_or(earliest);
    let to = widen(latest, 1).unwrap_or(latest);
    let organisers = store::events::organiser_ids(conn, &row.id)?;
    let mut busy: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut candidates: BTreeMap<String, EventRow> = BTreeMap::new();
    for (other, key) in
        store::events::busy_candidates(conn, &organisers, &row.id, from, to, CONFLICT_CANDIDATES)?
    {
        busy.entry(other.id.clone()).or_default().push(key);
        candidates.insert(other.id.clone(), other);
    }
    let mut same_venue = std::collections::BTreeSet::new();
    if let Some(venue) = row.venue.as_deref().map(folded) {
        let cities = match row.city.as_deref().map(folded) {
            None => None,
            Some(city) => Some(
                store::events::cities(conn)?
                    .into_iter()
                    .filter(|c| folded(c) == city)
                    .collect::<Vec<_>>(),
            ),
        };
        for other in store::events::venue_candidates(
            conn,
            cities.as_deref(),
            &row.id,
            from,
            to,
            CONFLICT_CANDIDATES,
        )? {
            if other.venue.as_deref().map(folded).as_deref() == Some(venue.as_str()) {
                same_venue.insert(other.id.clone());
                candidates.insert(other.id.clone(), other);
            }
        }
    }
    if candidates.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<String> = candidates.keys().cloned().collect();
    let mut changes: BTreeMap<String, Vec<OccurrenceRow>> = BTreeMap::new();
    for c in store::occurrences::of_events(conn, &ids)? {
        changes.entry(c.event_id.clone()).or_default().push(c);
    }
    let own_changes = store::occurrences::of_event(conn, &row.id)?;
    let mut found = Vec::new();
    for (id, other) in &candidates {
        let (Some(other_first), Some(other_last), Some(other_series)) =
            (other.earliest, other.latest, series_of(other)?)
        else {
            continue;
        };
        let window_from = widen(from.max(other_first), -1).unwrap_or(from);
        let window_to = widen(to.min(other_last), 1).unwrap_or(to);
        if window_from > window_to {
            continue;
        }
        let mine = clashable(row, &series, &own_changes, window_from, window_to);
        let other_changes = changes.get(id).map(Vec::as_slice).unwrap_or_default();
        let theirs = clashable(other, &other_series, other_changes, window_from, window_to);
        let Some(overlapping) = theirs.iter().find(|t| mine.iter().any(|m| m.overlaps(t))) else {
            continue;
        };
        let title =
            LocalizedText::from_json(&other.title).map_err(|e| corrupt("event title", e))?;
        let conflict = |kind, organisation| Conflict {
            kind,
            event_id: other.id.clone(),
            event_title: title.display(lang).to_string(),
            organisation,
            venue: other.venue.clone(),
            starts_at: overlapping.instants().map(|(s, _)| s),
            earliest: overlapping.days().0,
        };
        for key in busy.get(id).into_iter().flatten() {
            found.push(conflict(ConflictKind::OrganisationBusy, Some(key.clone())));
        }
        if same_venue.contains(id) {
            found.push(conflict(ConflictKind::VenueDoubleBooked, None));
        }
    }
    found.sort_by(|a, b| {
        (a.earliest, a.starts_at, &a.event_id, a.kind).cmp(&(
            b.earliest,
            b.starts_at,
            &b.event_id,
            b.kind,
        ))
    });
    Ok(found)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OccurrenceQuery {
    /// First day of the window (local dates). Default: 31 days before today.
    pub from: Option<NaiveDate>,
    /// Last day of the window, inclusive; at most 1098 days (3 x 366) after
    /// `from`. Default: 397 days after `from`.
    pub to: Option<NaiveDate>,
    /// At most this many occurrences, 1 to 1000 (default 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// One occurrence of an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct OccurrenceView {
    /// Which occurrence: its original local start (2025-07-08T10:00), or date
    /// for an all-day series; the form of `exdates` and of the PUT path.
    pub recurrence_id: String,
    /// Local start (wall time in `time_zone`), or first day for an all-day event.
    pub start: String,
    /// Local end, or last day (inclusive) for an all-day event.
    pub end: Option<String>,
    pub time_zone: Option<String>,
    /// The start as an instant, in UTC (timed events).
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// The occurrence's own status when it was changed, else the event's.
    pub status: EventStatus,
    /// Whether this occurrence was changed on its own (moved, cancelled, annotated).
    pub changed: bool,
    /// SEQUENCE of the change (rises on every change of its date, time or
    /// status); the event's SEQUENCE for an unchanged occurrence.
    pub sequence: i32,
    /// Note on this occurrence.
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OccurrencePage {
    pub items: Vec<OccurrenceView>,
    /// The window listed.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// More occurrences fall in the window than `limit` (or than could be
    /// computed): narrow the window.
    pub truncated: bool,
}

/// The widest window of one request, in days.
const MAX_WINDOW_DAYS: i64 = 366 * 3;

fn occurrence_view(row: &EventRow, e: &Expanded<'_>) -> AppResult<OccurrenceView> {
    let status = match e.change {
        Some(c) => &c.status,
        None => &row.status,
    };
    let (start, end, starts_at, ends_at) = match e.occurrence.when {
        OccurrenceTime::Timed {
            start,
            end,
            starts_at,
            ends_at,
        } => (
            wall_time(start),
            end.map(wall_time),
            Some(starts_at),
            ends_at,
        ),
        OccurrenceTime::AllDay { first, last } => {
            (first.to_string(), Some(last.to_string()), None, None)
        }
    };
    Ok(OccurrenceView {
        recurrence_id: e.occurrence.recurrence_id.to_string(),
        start,
        end,
        time_zone: if is_all_day(row) {
            None
        } else {
            row.time_zone.clone()
        },
        starts_at,
        ends_at,
        status: EventStatus::parse(status).ok_or_else(|| corrupt("occurrence status", status))?,
        changed: e.change.is_some(),
        sequence: e.change.map_or(row.sequence, |c| c.sequence),
        note: e.change.and_then(|c| c.note.clone()),
    })
}

#[utoipa::path(
    get, path = "/api/v1/events/{id}/occurrences", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)"), OccurrenceQuery),
    responses(
        (status = 200, description = "The occurrences that take a day of the window, in order (a single event: its one occurrence); moved ones where they now are", body = OccurrencePage),
        (status = 400, description = "Invalid window or limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn occurrences(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
    query: actix_web::Result<web::Query<OccurrenceQuery>>,
) -> actix_web::Result<HttpResponse> {
    who.may(Action::Read, Target::Event { body_id: None })?;
    let q = query?.into_inner();
    let today = state.clock.now().date_naive();
    let limit = q.limit.unwrap_or(1000);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::invalid("limit", "must be 1 to 1000").into());
    }
    let days = |d: NaiveDate, n: i64| d.checked_add_signed(chrono::Duration::days(n));
    let from = q.from.or_else(|| days(today, -31)).unwrap_or(today);
    let to = q.to.or_else(|| days(from, 397)).unwrap_or(from);
    for (field, date) in [("from", from), ("to", to)] {
        if !YEARS.contains(&date.year()) {
            return Err(AppError::invalid(
                field,
                format!("years are {} to {}", YEARS.start(), YEARS.end()),
            )
            .into());
        }
    }
    if to < from {
        return Err(AppError::invalid("to", "is before from").into());
    }
    if (to - from).num_days() > MAX_WINDOW_DAYS {
        return Err(AppError::invalid(
            "to",
            format!("the window is at most {MAX_WINDOW_DAYS} days: ask for later occurrences with a later `from`"),
        )
        .into());
    }
    let id = id.into_inner();
    let (version, page) = state
        .db(move |conn| {
            let scope = scope(conn, &id)?;
            who.may(Action::Read, scope.target())?;
            let row = scope.row;
            let Some(series) = series_of(&row)? else {
                // An approximate event has no occurrence to list.
                return Ok((
                    row.version,
                    OccurrencePage {
                        items: vec![],
                        from,
                        to,
                        truncated: false,
                    },
                ));
            };
            let changes = store::occurrences::of_event(conn, &row.id)?;
            let max = usize::try_from(limit).unwrap_or(MAX_OCCURRENCES);
            let (items, truncated) = expand(&row, &series, &changes, from, to, max);
            let items = items
                .iter()
                .map(|e| occurrence_view(&row, e))
                .collect::<AppResult<Vec<_>>>()?;
            Ok((
                row.version,
                OccurrencePage {
                    items,
                    from,
                    to,
                    truncated,
                },
            ))
        })
        .await?;
    Ok(ok_with_etag(version, &page))
}

/// A change of one occurrence of a recurring event. Times are local wall
/// times in the event's zone, under the same rules as the event's (a time in
/// a daylight-saving gap is refused; one that occurs twice is the earlier
/// unless an offset is given); dates for an all-day event.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OccurrenceInput {
    /// New start: a local wall time (2025-07-08T15:00), or a date for an all-day event.
    pub start: String,
    /// New end: a local wall time, or the last day (inclusive) for an
    /// all-day event. Default: the event's length.
    #[serde(default)]
    pub end: Option<String>,
    /// Default: the event's status. `cancelled` cancels this occurrence only.
    #[serde(default)]
    pub status: Option<EventStatus>,
    #[serde(default)]
    pub note: Option<String>,
}

/// The new times of one occurrence from its input.
fn occurrence_times(
    input: &OccurrenceInput,
    series: &Series,
    original: &OccurrenceTime,
    errors: &mut Vec<FieldError>,
) -> Option<OccurrenceTime> {
    match (series.start(), original) {
        (SeriesStart::AllDay { .. }, OccurrenceTime::AllDay { first, last }) => {
            let length = *last - *first;
            let date = |field: &str, text: &str, errors: &mut Vec<FieldError>| match text
                .trim()
                .parse::<NaiveDate>(
            ) {
                Ok(d) if YEARS.contains(&d.year()) => Some(d),
                Ok(_) => {
                    errors.push(FieldError::new(
                        field,
                        format!("years are {} to {}", YEARS.start(), YEARS.end()),
                    ));
                    None
                }
                Err(_) => {
                    errors.push(FieldError::new(
                            field,
                            format!("`{text}` is not a date: an all-day event's occurrence is moved to dates, e.g. 2025-07-08"),
                        ));
                    None
                }
            };
            let first = date("start", &input.start, errors);
            let last = match &input.end {
                Some(end) => date("end", end, errors),
                None => first.and_then(|f| f.checked_add_signed(length)),
            };
            let (first, last) = (first?, last?);
            if last < first {
                errors.push(FieldError::new(
                    "end",
                    "the occurrence ends before it starts",
                ));
                return None;
            }
            Some(OccurrenceTime::AllDay { first, last })
        }
        (
            SeriesStart::Timed { zone, .. },
            OccurrenceTime::Timed {
                starts_at, ends_at, ..
            },
        ) => {
            let zone = *zone;
            let local = |field: &str, text: &str, errors: &mut Vec<FieldError>| {
                let (local, offset) = parse_wall_time(text)
                    .map_err(|e| errors.push(FieldError::new(field, e)))
                    .ok()?;
                resolve_local(local, zone, offset)
                    .map(|at| (local, at))
                    .map_err(|e| errors.push(FieldError::new(field, e.to_string())))
                    .ok()
            };
            let (start, start_at) = local("start", &input.start, errors)?;
            let end = match &input.end {
                Some(end) => Some(local("end", end, errors)?),
                // The event's exact length (RFC 5545), when it has an end.
                None => ends_at.map(|e| {
                    let at = start_at + (e - *starts_at);
                    (at.with_timezone(&zone).naive_local(), at)
                }),
            };
            if let Some((end_local, end_at)) = end {
                if end_at < start_at || end_local < start {
                    errors.push(FieldError::new(
                        "end",
                        "the occurrence ends before it starts",
                    ));
                    return None;
                }
            }
            Some(OccurrenceTime::Timed {
                start,
                end: end.map(|(l, _)| l),
                starts_at: start_at,
                ends_at: end.map(|(_, u)| u),
            })
        }
        _ => None,
    }
}

#[utoipa::path(
    put, path = "/api/v1/events/{id}/occurrences/{recurrence_id}", tag = "events",
    params(
        ("id" = String, Path, description = "Event id (UUID)"),
        ("recurrence_id" = String, Path, description = "The occurrence's original local start (2025-07-08T10:00), or date for an all-day event"),
        ("If-Match" = String, Header, description = "ETag of the event's version being changed"),
    ),
    request_body = OccurrenceInput,
    responses(
        (status = 200, description = "The occurrence changed; ETag: the event's new version (its SEQUENCE does not change)", body = OccurrenceView),
        (status = 201, description = "The occurrence changed for the first time", body = OccurrenceView),
        (status = 400, description = "Invalid change, or the event does not recur", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or no such occurrence (not given by the rule, or removed)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The event changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_occurrence(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    path: web::Path<(String, String)>,
    body: AppResult<JsonBody>,
) -> AppResult<HttpResponse> {
    if who.principal().is_none() {
        who.may(Action::Update, Target::Event { body_id: None })?;
    }
    let body = body?.0;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let (id, recurrence_text) = path.into_inner();
    let st = state.clone();
    let (created, version, view) = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let scope = scope(conn, &id)?;
                who.may(Action::Update, scope.target())?;
                let input: OccurrenceInput = read(body)?;
                let row = scope.row;
                if row.version != expected {
                    return Err(stale());
                }
                let series = series_of(&row)?
                    .filter(Series::is_recurring)
                    .ok_or_else(|| {
                        AppError::invalid(
                            "recurrence_id",
                            format!("event {} does not recur: change the event itself", row.id),
                        )
                    })?;
                let all_day = is_all_day(&row);
                let recurrence_id = RecurrenceId::parse(&recurrence_text, all_day)
                    .map_err(|e| AppError::invalid("recurrence_id", e))?;
                let original = series
                    .occurrence(recurrence_id)
                    .ok_or_else(|| AppError::not_found("occurrence", recurrence_id))?;
                let mut errors = Vec::new();
                let when = occurrence_times(&input, &series, &original, &mut errors);
                let note = free_text("note", &input.note, 4000, &mut errors);
                let (Some(when), true) = (when, errors.is_empty()) else {
                    return Err(AppError::Validation(errors));
                };
                let status = input
                    .status
                    .map_or_else(|| row.status.clone(), |s| s.as_str().to_string());
                let stored = store::occurrences::get(conn, &row.id, recurrence_id.local())?;
                let (start_local, end_local, starts_at, ends_at) = match when {
                    OccurrenceTime::Timed {
                        start,
                        end,
                        starts_at,
                        ends_at,
                    } => (
                        start,
                        end,
                        Some(starts_at.naive_utc()),
                        ends_at.map(|e| e.naive_utc()),
                    ),
                    OccurrenceTime::AllDay { first, last } => (
                        first.and_time(chrono::NaiveTime::MIN),
                        Some(last.and_time(chrono::NaiveTime::MIN)),
                        None,
                        None,
                    ),
                };
                let mut new = OccurrenceRow {
                    event_id: row.id.clone(),
                    recurrence_local: recurrence_id.local(),
                    status,
                    start_local,
                    end_local,
                    starts_at,
                    ends_at,
                    tzdata_version: starts_at.map(|_| tzdata_version().to_string()),
                    note,
                    sequence: 0,
                    version: 1,
                    created_at: ctx.at,
                    updated_at: ctx.at,
                };
                if let Some(old) = &stored {
                    // Calendars take a changed occurrence only when its SEQUENCE rose.
                    let moved = old.start_local != new.start_local
                        || old.end_local != new.end_local
                        || old.starts_at != new.starts_at
                        || old.ends_at != new.ends_at
                        || old.status != new.status;
                    new.sequence = old.sequence + i32::from(moved);
                    new.version = old.version;
                    new.created_at = old.created_at;
                    new.tzdata_version = if new.starts_at == old.starts_at {
                        old.tzdata_version.clone()
                    } else {
                        new.tzdata_version
                    };
                    let unchanged = OccurrenceRow {
                        updated_at: old.updated_at,
                        ..new.clone()
                    } == *old;
                    if unchanged {
                        new.updated_at = old.updated_at;
                    } else {
                        new.version += 1;
                    }
                }
                let changed = stored.as_ref() != Some(&new);
                let rescheduled = stored.as_ref().map_or(
                    new.status != row.status || new.start_local != recurrence_id.local(),
                    |old| new.sequence > old.sequence,
                );
                let row = if changed {
                    store::occurrences::write(conn, &ctx, stored.as_ref(), &new)?;
                    // The event's days cover its occurrences where they now
                    // are; its version moves, its SEQUENCE does not.
                    let changes = store::occurrences::of_event(conn, &row.id)?;
                    let moved: Vec<Moved> = changes.iter().map(|c| moved_of(c, all_day)).collect();
                    let (earliest, latest) = series.span(&moved);
                    let spanned = EventRow {
                        earliest: Some(earliest),
                        latest: Some(latest),
                        ..row.clone()
                    };
                    if spanned != row {
                        match store::events::update(conn, &ctx, row, spanned, expected)? {
                            Versioned::Written(r) => r,
                            Versioned::Unchanged(_) | Versioned::Stale => return Err(stale()),
                        }
                    } else {
                        store::events::bump_version(conn, &row.id, expected, ctx.at)?
                            .ok_or_else(stale)?
                    }
                } else {
                    row
                };
                if changed {
                    let revision = format!("{recurrence_id}/{}", new.sequence);
                    let change = if rescheduled {
                        EventChange::OccurrenceChanged {
                            event: &row,
                            revision: &revision,
                        }
                    } else {
                        // A note changed: reminders only, nobody to tell.
                        EventChange::Changed {
                            old: &row,
                            new: &row,
                        }
                    };
                    super::reminder_policies::event_written(conn, &st, change)?;
                }
                let expanded = Expanded {
                    occurrence: Occurrence {
                        recurrence_id,
                        when: moved_of(&new, all_day).when,
                        moved: true,
                    },
                    change: Some(&new),
                };
                let view = occurrence_view(&row, &expanded)?;
                Ok((stored.is_none(), row.version, view))
            })
        })
        .await?;
    let status = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(with_etag(status, version).json(view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_times_parse_with_and_without_offset() {
        let (t, o) = parse_wall_time("2025-10-26T02:30+01:00").unwrap();
        assert_eq!(wall_time(t), "2025-10-26T02:30");
        assert_eq!(o, chrono::FixedOffset::east_opt(3600));
        let (t, o) = parse_wall_time(" 2025-06-10T10:00:15 ").unwrap();
        assert_eq!(wall_time(t), "2025-06-10T10:00:15");
        assert_eq!(o, None);
        assert!(parse_wall_time("10 June").is_err());
        assert!(parse_wall_time("0099-06-10T10:00")
            .unwrap_err()
            .contains("out of range"));
    }

    #[test]
    fn an_ambiguous_wall_time_keeps_its_offset_when_given_back() {
        let berlin = chrono_tz::Europe::Berlin;
        let local = NaiveDate::from_ymd_opt(2025, 10, 26)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        let later = NaiveDate::from_ymd_opt(2025, 10, 26)
            .unwrap()
            .and_hms_opt(1, 30, 0)
            .unwrap();
        assert_eq!(
            wall_time_input(local, berlin, Some(later)),
            "2025-10-26T02:30+01:00"
        );
        let summer = NaiveDate::from_ymd_opt(2025, 6, 1)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        assert_eq!(wall_time_input(summer, berlin, None), "2025-06-01T10:00");
    }
}
