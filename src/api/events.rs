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
use crate::domain::timeframe::{Timeframe, TimeframeKind};
use crate::domain::zone::parse_wall_time;
use crate::domain::zone::{parse_zone, resolve_local, tzdata_version};
use crate::domain::{Language, LocalizedText};
use crate::error::{AppError, AppResult, FieldError};
use crate::store::events::{EventFilter, EventPosition, EventRow};
use crate::store::{self, Versioned};

/// The routes of this module, under /api/v1.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/events", web::get().to(list))
        .route("/events", web::post().to(create))
        .route("/events/{id}", web::get().to(one))
        .route("/events/{id}", web::put().to(put))
        .route("/events/{id}", web::patch().to(patch))
        .route("/events/{id}", web::delete().to(delete));
}

/// The OpenAPI paths of this module.
#[derive(OpenApi)]
#[openapi(
    paths(list, one, create, put, patch, delete),
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
    /// First day (local date); absent when not yet known.
    pub earliest: Option<NaiveDate>,
    /// Last day (local date), inclusive.
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
    /// Calendar SEQUENCE (RFC 5545): rises on every change of date, time, zone or status.
    pub sequence: i32,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
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
    rows.into_iter()
        .map(|row| {
            let organisers = organisers.remove(&row.id).unwrap_or_default();
            let fulfils = fulfils.remove(&row.id).unwrap_or_default();
            view(row, &codes, organisers, fulfils, lang)
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
    lang: Language,
) -> AppResult<EventView> {
    let title = LocalizedText::from_json(&row.title).map_err(|e| corrupt("event title", e))?;
    let zone = row.time_zone.as_deref().and_then(|z| parse_zone(z).ok());
    let code = |id: &Option<String>| id.as_ref().and_then(|id| codes.get(id).cloned());
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
        sequence: row.sequence,
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
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
            view_of(conn, scope.row, lang.0)
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
    })
}

/// An input checked against the database: the row to store and its links.
struct Checked {
    row: EventRow,
    organiser_ids: Vec<String>,
    fulfils: Vec<String>,
    body_id: Option<String>,
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
                view_of(conn, row, lang.0)
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
                let row = match store::events::update(conn, &ctx, scope.row, row, expected)
                    .map_err(key_taken)?
                {
                    Versioned::Stale => return Err(stale()),
                    Versioned::Written(row) | Versioned::Unchanged(row) => row,
                };
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
                view_of(conn, row, lang.0)
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
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let scope = scope(conn, &id)?;
                who.may(Action::Delete, scope.target())?;
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
