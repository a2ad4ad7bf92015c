//! Lead-time rules and the deadlines they derive ("the list of the delegation
//! 60 days before the start"): the rules as resources with ETags and writes
//! under `If-Match`, and the list of derived deadlines by due date. A due date
//! is computed on every read from the anchor's current dates, so it moves
//! when its event, obligation or meeting moves.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::header::LOCATION;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{write_context, Authenticated};
use super::body::{merge_patch, read, JsonBody};
use super::etag::{expected_version, ok_with_etag, stale, with_etag};
use super::pagination;
use super::AppState;
use crate::db::Conn;
use crate::domain::access::{Action, Target};
use crate::domain::deadlines::{AnchorKind, LeadTimeAnchor, MAX_DAYS_BEFORE};
use crate::domain::{Language, LocalizedText};
use crate::error::{AppError, AppResult, FieldError};
use crate::notify::planner::Item;
use crate::store::bodies::MeetingRow;
use crate::store::events::EventRow;
use crate::store::lead_times::{Anchor, Deadline, LeadTime, LeadTimeFilter, LeadTimeRow};
use crate::store::{self, Versioned};

/// The most rules the list of deadlines computes due dates for in one
/// request: the due date is derived, so the list is sorted in memory over the
/// rules matching the filters. Narrower filters are asked for beyond it.
pub const CANDIDATE_BOUND: i64 = 5_000;

/// Longest title, per language.
const MAX_TITLE: usize = 500;

fn corrupt(what: &str, value: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("stored {what} is not valid: {value}"))
}

fn text(json: &str) -> AppResult<LocalizedText> {
    LocalizedText::from_json(json).map_err(|e| corrupt("text", e))
}

// ---------------------------------------------------------------- views

/// A deadline as the views of its anchor list it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeadlineView {
    /// The lead time's id (/api/v1/lead-times/{id}).
    pub id: String,
    #[schema(value_type = BTreeMap<String, String>)]
    pub title: LocalizedText,
    /// The title in the reader's language.
    pub title_display: String,
    /// Which end of the anchor it counts back from.
    pub anchor: LeadTimeAnchor,
    pub days_before: i32,
    /// The anchor's day minus `days_before`; null while the anchor has no date.
    pub due_on: Option<NaiveDate>,
    /// For a yearly obligation: the year of the occurrence this due date belongs to.
    pub occurrence_year: Option<i32>,
    /// Code of the party responsible for it.
    pub party: Option<String>,
    /// ETag of the lead time, for `If-Match`.
    pub version: i32,
}

pub fn deadline_view(deadline: &Deadline, lang: Language) -> AppResult<DeadlineView> {
    let rule = &deadline.lead_time;
    let title = text(&rule.title)?;
    Ok(DeadlineView {
        id: rule.id.clone(),
        title_display: title.display(lang).to_string(),
        title,
        anchor: LeadTimeAnchor::parse(&rule.anchor)
            .ok_or_else(|| corrupt("lead time anchor", &rule.anchor))?,
        days_before: rule.days_before,
        due_on: deadline.due_on,
        occurrence_year: deadline.occurrence_year,
        party: deadline.party_code.clone(),
        version: rule.version,
    })
}

/// The order deadlines are shown in: by due date (undated last), then by
/// rule and occurrence, so that equal dates keep a stable order.
fn sort_key(d: &Deadline) -> (bool, Option<NaiveDate>, String, Option<i32>) {
    (
        d.due_on.is_none(),
        d.due_on,
        d.lead_time.id.clone(),
        d.occurrence_year,
    )
}

pub fn sort_deadlines(deadlines: &mut [Deadline]) {
    deadlines.sort_by_key(sort_key);
}

/// Deadline views per anchor id, each list by due date.
pub fn views_by_anchor(
    mut deadlines: Vec<Deadline>,
    lang: Language,
) -> AppResult<BTreeMap<String, Vec<DeadlineView>>> {
    sort_deadlines(&mut deadlines);
    let mut by_anchor: BTreeMap<String, Vec<DeadlineView>> = BTreeMap::new();
    for d in &deadlines {
        by_anchor
            .entry(d.anchor_id.clone())
            .or_default()
            .push(deadline_view(d, lang)?);
    }
    Ok(by_anchor)
}

fn views_of(
    conn: &mut Conn,
    kind: AnchorKind,
    anchors: Vec<Anchor>,
    lang: Language,
) -> AppResult<BTreeMap<String, Vec<DeadlineView>>> {
    let ids: Vec<String> = anchors.iter().map(|a| a.id.clone()).collect();
    let rules = store::lead_times::of_anchors(conn, kind, &ids)?;
    if rules.is_empty() {
        return Ok(BTreeMap::new());
    }
    let anchors: HashMap<_, _> = anchors
        .into_iter()
        .map(|a| ((a.kind, a.id.clone()), a))
        .collect();
    views_by_anchor(store::lead_times::derive(rules, &anchors), lang)
}

/// The deadlines of the given events, per event id, by due date: one batched
/// query (for the event views). A recurring event's deadlines count back from
/// its series' first occurrence.
pub fn deadlines_of_events(
    conn: &mut Conn,
    events: &[&EventRow],
    lang: Language,
) -> AppResult<BTreeMap<String, Vec<DeadlineView>>> {
    let anchors = events
        .iter()
        .map(|e| store::lead_times::event_anchor(e))
        .collect();
    views_of(conn, AnchorKind::Event, anchors, lang)
}

/// The deadlines of the given meetings, per meeting id, by due date: one batched query.
pub fn deadlines_of_meetings(
    conn: &mut Conn,
    meetings: &[&MeetingRow],
    lang: Language,
) -> AppResult<BTreeMap<String, Vec<DeadlineView>>> {
    let anchors = meetings
        .iter()
        .map(|m| Anchor {
            kind: AnchorKind::Meeting,
            id: m.id.clone(),
            title: m.title.clone(),
            dates: crate::domain::deadlines::AnchorDates::Span {
                first: Some(m.held_on),
                last: Some(m.held_on),
            },
        })
        .collect();
    views_of(conn, AnchorKind::Meeting, anchors, lang)
}

/// One due date of a lead time.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueDateView {
    /// Null while the anchor has no date.
    pub due_on: Option<NaiveDate>,
    /// For a yearly obligation: the occurrence's year.
    pub occurrence_year: Option<i32>,
}

/// A lead-time rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeadTimeView {
    pub id: String,
    /// What it hangs on: event, obligation or meeting.
    pub anchor_kind: AnchorKind,
    /// The id of that event, obligation or meeting.
    pub anchor_id: String,
    /// The anchor's title (an obligation's text).
    #[schema(value_type = BTreeMap<String, String>)]
    pub anchor_title: LocalizedText,
    pub anchor_title_display: String,
    /// Which end of the anchor it counts back from.
    pub anchor: LeadTimeAnchor,
    pub days_before: i32,
    #[schema(value_type = BTreeMap<String, String>)]
    pub title: LocalizedText,
    pub title_display: String,
    /// Code of the responsible party.
    pub party: Option<String>,
    /// Its due dates from the anchor's current dates: one, or one per
    /// occurrence of a yearly obligation.
    pub due_dates: Vec<DueDateView>,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn view_of(conn: &mut Conn, rule: LeadTime, lang: Language) -> AppResult<LeadTimeView> {
    let (kind, anchor_id) = rule
        .row
        .anchor_of()
        .map(|(k, id)| (k, id.to_string()))
        .ok_or_else(|| corrupt("lead time", "without an anchor"))?;
    let (events, items, meetings) = store::lead_times::anchor_ids(std::slice::from_ref(&rule));
    let anchors = store::lead_times::anchors(conn, &events, &items, &meetings)?;
    let anchor = anchors
        .get(&(kind, anchor_id.clone()))
        .ok_or_else(|| corrupt("lead time's anchor", &anchor_id))?;
    let anchor_title = text(&anchor.title)?;
    let mut deadlines = store::lead_times::derive(vec![rule.clone()], &anchors);
    sort_deadlines(&mut deadlines);
    let row = rule.row;
    let title = text(&row.title)?;
    Ok(LeadTimeView {
        id: row.id,
        anchor_kind: kind,
        anchor_id,
        anchor_title_display: anchor_title.display(lang).to_string(),
        anchor_title,
        anchor: LeadTimeAnchor::parse(&row.anchor)
            .ok_or_else(|| corrupt("lead time anchor", &row.anchor))?,
        days_before: row.days_before,
        title_display: title.display(lang).to_string(),
        title,
        party: rule.party_code,
        due_dates: deadlines
            .into_iter()
            .map(|d| DueDateView {
                due_on: d.due_on,
                occurrence_year: d.occurrence_year,
            })
            .collect(),
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

// ---------------------------------------------------------------- access

/// An anchor and what access to it depends on.
struct AnchorScope {
    kind: AnchorKind,
    id: String,
    body_id: Option<String>,
    public: bool,
    assigned: Vec<String>,
}

impl AnchorScope {
    fn target(&self) -> Target<'_> {
        match self.kind {
            AnchorKind::Event => Target::Event {
                body_id: self.body_id.as_deref(),
            },
            AnchorKind::Obligation => Target::Obligation {
                body_id: self.body_id.as_deref(),
                public: self.public,
                assigned: &self.assigned,
            },
            AnchorKind::Meeting => Target::Body {
                body_id: self.body_id.as_deref(),
            },
        }
    }
}

/// The anchor named `id` of this kind, or None when there is none.
fn anchor_scope(conn: &mut Conn, kind: AnchorKind, id: &str) -> AppResult<Option<AnchorScope>> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Ok(None);
    }
    let scope = |body_id, public, assigned| AnchorScope {
        kind,
        id: id.to_string(),
        body_id,
        public,
        assigned,
    };
    Ok(match kind {
        AnchorKind::Event => match store::events::by_id(conn, id)? {
            Some(event) => {
                // An event belongs to the body of the obligations it fulfils (as in api::events).
                let fulfils: Vec<String> =
                    store::events::fulfils_of(conn, std::slice::from_ref(&event.id))?
                        .into_iter()
                        .map(|(_, o)| o)
                        .collect();
                let body_id = store::events::body_of(conn, &fulfils)?;
                Some(scope(body_id, false, Vec::new()))
            }
            None => None,
        },
        AnchorKind::Obligation => match store::obligations::by_id(conn, id)? {
            Some(item) => {
                let (body_id, public) = match (&item.programme_id, &item.meeting_id) {
                    (Some(p), _) => {
                        let programme = store::programmes::by_id(conn, p)?
                            .ok_or_else(|| corrupt("programme of an item", p))?;
                        (programme.body_id, programme.public)
                    }
                    (None, Some(m)) => (
                        store::bodies::meeting_by_id(conn, m)?.map(|m| m.body_id),
                        false,
                    ),
                    (None, None) => (None, false),
                };
                let assigned =
                    store::obligations::assignments_of(conn, std::slice::from_ref(&item.id))?
                        .into_iter()
                        .map(|a| a.organisation_id)
                        .collect();
                Some(scope(body_id, public, assigned))
            }
            None => None,
        },
        AnchorKind::Meeting => store::bodies::meeting_by_id(conn, id)?
            .map(|meeting| scope(Some(meeting.body_id), false, Vec::new())),
    })
}

// ---------------------------------------------------------------- writes

/// A lead-time rule: exactly one of `event`, `obligation`, `meeting`. PUT
/// sends all of it; PATCH a JSON merge patch of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadTimeInput {
    /// Event id (UUID): counts back from its first (start) or last (end) day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Obligation id (UUID): counts back from the earliest (start) or latest
    /// (end) date of its timeframe; per year for a yearly obligation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obligation: Option<String>,
    /// Meeting id (UUID): counts back from its date (start and end alike).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<String>,
    pub anchor: LeadTimeAnchor,
    /// Days before the anchor's day, 0 to 3660.
    #[schema(minimum = 0, maximum = 3660)]
    pub days_before: i64,
    /// What is due, e.g. {"en": "Delegation list", "ru": "Список делегации"}.
    #[schema(value_type = BTreeMap<String, String>)]
    pub title: LocalizedText,
    /// Code of the party responsible for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
}

fn current_input(rule: &LeadTime) -> AppResult<LeadTimeInput> {
    let row = &rule.row;
    Ok(LeadTimeInput {
        event: row.event_id.clone(),
        obligation: row.obligation_id.clone(),
        meeting: row.meeting_id.clone(),
        anchor: LeadTimeAnchor::parse(&row.anchor)
            .ok_or_else(|| corrupt("lead time anchor", &row.anchor))?,
        days_before: i64::from(row.days_before),
        title: text(&row.title)?,
        party: rule.party_code.clone(),
    })
}

/// The anchor the input names, checked to exist.
fn input_anchor(conn: &mut Conn, input: &LeadTimeInput) -> AppResult<AnchorScope> {
    let named: Vec<(AnchorKind, &str, &str)> = [
        (AnchorKind::Event, "event", &input.event),
        (AnchorKind::Obligation, "obligation", &input.obligation),
        (AnchorKind::Meeting, "meeting", &input.meeting),
    ]
    .into_iter()
    .filter_map(|(kind, field, id)| id.as_deref().map(|id| (kind, field, id)))
    .collect();
    let [(kind, field, id)] = named.as_slice() else {
        let field = named.get(1).map_or("event", |n| n.1);
        return Err(AppError::invalid(
            field,
            "a lead time hangs on exactly one of `event`, `obligation` or `meeting`",
        ));
    };
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::invalid(*field, format!("`{id}` is not a UUID")));
    }
    anchor_scope(conn, *kind, id)?
        .ok_or_else(|| AppError::invalid(*field, format!("{field} {id} does not exist")))
}

/// Checks the rest of an input and builds the row over `base`.
fn check(
    conn: &mut Conn,
    input: &LeadTimeInput,
    anchor: &AnchorScope,
    base: LeadTimeRow,
) -> AppResult<LeadTimeRow> {
    let mut errors = Vec::new();
    let days_before = match i32::try_from(input.days_before) {
        Ok(days) if (0..=MAX_DAYS_BEFORE).contains(&days) => days,
        _ => {
            errors.push(FieldError::new(
                "days_before",
                format!(
                    "{} is out of range: 0 to {MAX_DAYS_BEFORE} days",
                    input.days_before
                ),
            ));
            0
        }
    };
    for lang in input.title.languages() {
        let length = input.title.get(lang).unwrap_or_default().chars().count();
        if length > MAX_TITLE {
            errors.push(FieldError::new(
                format!("title.{lang}"),
                format!("is longer than {MAX_TITLE} characters"),
            ));
        }
    }
    let party_id = match &input.party {
        Some(code) => match store::parties::by_code(conn, code)? {
            Some(p) => Some(p.id),
            None => {
                errors.push(FieldError::new("party", format!("`{code}` is not a party")));
                None
            }
        },
        None => None,
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut row = LeadTimeRow {
        anchor: input.anchor.as_str().to_string(),
        days_before,
        title: input.title.to_json(),
        party_id,
        ..base
    };
    row.set_anchor(anchor.kind, anchor.id.clone());
    Ok(row)
}

fn find(conn: &mut Conn, id: &str) -> AppResult<LeadTime> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::invalid("id", format!("`{id}` is not a UUID")));
    }
    store::lead_times::by_id(conn, id)?.ok_or_else(|| AppError::not_found("lead time", id))
}

/// The stored rule's anchor and what access to it depends on.
fn stored_anchor(conn: &mut Conn, rule: &LeadTime) -> AppResult<AnchorScope> {
    let (kind, id) = rule
        .row
        .anchor_of()
        .ok_or_else(|| corrupt("lead time", "without an anchor"))?;
    anchor_scope(conn, kind, id)?.ok_or_else(|| corrupt("lead time's anchor", id))
}

fn location(id: &str) -> String {
    format!("/api/v1/lead-times/{id}")
}

#[utoipa::path(
    post, path = "/api/v1/lead-times", tag = "lead-times",
    request_body = LeadTimeInput,
    responses(
        (status = 201, description = "Created; Location and ETag of the new lead time", body = LeadTimeView),
        (status = 400, description = "Invalid lead time (naming the field)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to change its anchor", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: super::lang::Lang,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let input: LeadTimeInput = read(body.0)?;
    let ctx = write_context(&state, &who, &req);
    let st = state.clone();
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let anchor = input_anchor(conn, &input)?;
                // Lead times are part of what their anchor asks for: who may change it may set them.
                who.may(Action::Update, anchor.target())?;
                let base = LeadTimeRow {
                    id: store::new_id(),
                    event_id: None,
                    obligation_id: None,
                    meeting_id: None,
                    anchor: String::new(),
                    days_before: 0,
                    title: String::new(),
                    party_id: None,
                    version: 1,
                    created_at: ctx.at,
                    updated_at: ctx.at,
                };
                let row = check(conn, &input, &anchor, base)?;
                let row = store::lead_times::insert(conn, &ctx, row)?;
                super::reminder_policies::replan_items(
                    conn,
                    &st,
                    &[Item::LeadTime(row.id.clone())],
                )?;
                let rule = store::lead_times::by_id(conn, &row.id)?
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("lead time vanished")))?;
                view_of(conn, rule, lang.0)
            })
        })
        .await?;
    Ok(with_etag(HttpResponse::Created(), view.version)
        .insert_header((LOCATION, location(&view.id)))
        .json(&view))
}

#[utoipa::path(
    get, path = "/api/v1/lead-times/{id}", tag = "lead-times",
    params(("id" = String, Path, description = "Lead time id (UUID)")),
    responses(
        (status = 200, description = "The lead time with its due dates, and its ETag", body = LeadTimeView),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Its anchor is not public: needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lead time", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn one(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: super::lang::Lang,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            let rule = find(conn, &id)?;
            let anchor = stored_anchor(conn, &rule)?;
            who.may(Action::Read, anchor.target())?;
            view_of(conn, rule, lang.0)
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Language,
    id: String,
    body: serde_json::Value,
    patch: bool,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let st = state.clone();
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let stored = find(conn, &id)?;
                let old_anchor = stored_anchor(conn, &stored)?;
                who.may(Action::Update, old_anchor.target())?;
                let input: LeadTimeInput = if patch {
                    let mut doc = serde_json::to_value(current_input(&stored)?)
                        .map_err(|e| AppError::Internal(e.into()))?;
                    merge_patch(&mut doc, &body);
                    read(doc)?
                } else {
                    read(body)?
                };
                let anchor = input_anchor(conn, &input)?;
                // Moving it to another anchor needs the right to change that one too.
                if (anchor.kind, &anchor.id) != (old_anchor.kind, &old_anchor.id) {
                    who.may(Action::Update, anchor.target())?;
                }
                if stored.row.version != expected {
                    return Err(stale());
                }
                let row = check(conn, &input, &anchor, stored.row.clone())?;
                let row = match store::lead_times::update(conn, &ctx, stored.row, row, expected)? {
                    Versioned::Stale => return Err(stale()),
                    Versioned::Written(row) | Versioned::Unchanged(row) => row,
                };
                super::reminder_policies::replan_items(
                    conn,
                    &st,
                    &[Item::LeadTime(row.id.clone())],
                )?;
                let rule = store::lead_times::by_id(conn, &row.id)?
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("lead time vanished")))?;
                view_of(conn, rule, lang)
            })
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

#[utoipa::path(
    put, path = "/api/v1/lead-times/{id}", tag = "lead-times",
    params(("id" = String, Path, description = "Lead time id (UUID)"), ("If-Match" = String, Header, description = "ETag of the version being replaced")),
    request_body = LeadTimeInput,
    responses(
        (status = 200, description = "Replaced", body = LeadTimeView),
        (status = 400, description = "Invalid (naming the field)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to change its anchor", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lead time", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: super::lang::Lang,
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    change(state, req, who, lang.0, id.into_inner(), body.0, false).await
}

#[utoipa::path(
    patch, path = "/api/v1/lead-times/{id}", tag = "lead-times",
    params(("id" = String, Path, description = "Lead time id (UUID)"), ("If-Match" = String, Header, description = "ETag of the version being changed")),
    request_body(content = Object, description = "JSON merge patch (RFC 7396) of LeadTimeInput", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = LeadTimeView),
        (status = 400, description = "Invalid change (naming the field)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to change its anchor", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lead time", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: super::lang::Lang,
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    change(state, req, who, lang.0, id.into_inner(), body.0, true).await
}

#[utoipa::path(
    delete, path = "/api/v1/lead-times/{id}", tag = "lead-times",
    params(("id" = String, Path, description = "Lead time id (UUID)"), ("If-Match" = String, Header, description = "ETag of the version being deleted")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Invalid id or If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to change its anchor", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lead time", body = crate::error::Problem, content_type = "application/problem+json"),
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
    who.signed_in()?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    let st = state.clone();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let stored = find(conn, &id)?;
                let anchor = stored_anchor(conn, &stored)?;
                who.may(Action::Update, anchor.target())?;
                super::reminder_policies::forget_item(
                    conn,
                    &st,
                    Item::LeadTime(stored.row.id.clone()),
                )?;
                if store::lead_times::delete(conn, &ctx, stored.row, expected)? {
                    Ok(())
                } else {
                    Err(stale())
                }
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- the list

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Event id (UUID): its deadlines.
    pub event: Option<String>,
    /// Obligation id (UUID): its deadlines.
    pub obligation: Option<String>,
    /// Meeting id (UUID): its deadlines.
    pub meeting: Option<String>,
    /// Programme id (UUID) or key: the deadlines of its items and of the events that fulfil them.
    pub programme: Option<String>,
    /// Due on or after this date. Undated deadlines are left out when `from` or `to` is given.
    pub from: Option<NaiveDate>,
    /// Due on or before this date.
    pub to: Option<NaiveDate>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Language of the display values (also from Accept-Language).
    pub lang: Option<String>,
}

/// A derived deadline with what it hangs on.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedDeadline {
    #[serde(flatten)]
    pub deadline: DeadlineView,
    /// event, obligation or meeting.
    pub anchor_kind: AnchorKind,
    pub anchor_id: String,
    #[schema(value_type = BTreeMap<String, String>)]
    pub anchor_title: LocalizedText,
    pub anchor_title_display: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlinePage {
    pub items: Vec<ListedDeadline>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many deadlines match the filters.
    pub total: i64,
}

/// The position after which a page starts: (due date or undated, rule id, occurrence year).
type Position = (bool, Option<NaiveDate>, String, Option<i32>);

fn encode_cursor(key: &Position) -> String {
    let due = key.1.map(|d| d.to_string()).unwrap_or_default();
    let year = key.3.map(|y| y.to_string()).unwrap_or_default();
    pagination::encode(&[&due, &key.2, &year])
}

fn decode_cursor(text: &str) -> AppResult<Position> {
    let parts = pagination::decode(text, 3)?;
    let bad = || AppError::invalid("cursor", "is not a cursor this API gave out");
    let due = match parts[0].as_str() {
        "" => None,
        d => Some(d.parse::<NaiveDate>().map_err(|_| bad())?),
    };
    let year = match parts[2].as_str() {
        "" => None,
        y => Some(y.parse::<i32>().map_err(|_| bad())?),
    };
    Ok((due.is_none(), due, parts[1].clone(), year))
}

/// Checks an anchor filter: a UUID, an anchor that exists (None when not)
/// and may be read.
fn filter_anchor(
    conn: &mut Conn,
    who: &Authenticated,
    kind: AnchorKind,
    field: &str,
    id: &str,
) -> AppResult<Option<String>> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::invalid(field, format!("`{id}` is not a UUID")));
    }
    match anchor_scope(conn, kind, id)? {
        Some(scope) => {
            who.may(Action::Read, scope.target())?;
            Ok(Some(scope.id))
        }
        None => Ok(None),
    }
}

#[utoipa::path(
    get, path = "/api/v1/lead-times", tag = "lead-times",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of derived deadlines by due date (undated last)", body = DeadlinePage),
        (status = 400, description = "Invalid filter, or more than 5000 lead times match: narrow the filters", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Events and meetings need a token", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: super::lang::Lang,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    for (field, date) in [("from", q.from), ("to", q.to)] {
        if date.is_some_and(|d| !(1900..=2200).contains(&chrono::Datelike::year(&d))) {
            return Err(AppError::invalid(field, "years are 1900 to 2200"));
        }
    }
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if to < from {
            return Err(AppError::invalid("to", "is before from"));
        }
    }
    let after = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(decode_cursor)
        .transpose()?;
    // Anonymous callers read the deadlines of public programmes' items only.
    if who.principal().is_none() {
        if q.event.is_some() {
            who.may(Action::Read, Target::Event { body_id: None })?;
        }
        if q.meeting.is_some() {
            who.may(Action::Read, Target::Body { body_id: None })?;
        }
    }
    let public_only = who.principal().is_none();
    let page = state
        .db(move |conn| {
            let empty = || DeadlinePage {
                items: vec![],
                next_cursor: None,
                total: 0,
            };
            let mut filter = LeadTimeFilter {
                public_only,
                ..LeadTimeFilter::default()
            };
            let anchors = [
                (AnchorKind::Event, "event", &q.event),
                (AnchorKind::Obligation, "obligation", &q.obligation),
                (AnchorKind::Meeting, "meeting", &q.meeting),
            ];
            for (kind, field, id) in anchors {
                let Some(id) = id else { continue };
                let Some(found) = filter_anchor(conn, &who, kind, field, id)? else {
                    return Ok(empty());
                };
                match kind {
                    AnchorKind::Event => filter.event_id = Some(found),
                    AnchorKind::Obligation => filter.obligation_id = Some(found),
                    AnchorKind::Meeting => filter.meeting_id = Some(found),
                }
            }
            if let Some(p) = &q.programme {
                let found = if uuid::Uuid::parse_str(p).is_ok() {
                    store::programmes::by_id(conn, p)?
                } else {
                    store::programmes::by_key(conn, p)?
                };
                let Some(programme) = found else {
                    return Ok(empty());
                };
                who.may(
                    Action::Read,
                    Target::Programme {
                        body_id: programme.body_id.as_deref(),
                        public: programme.public,
                    },
                )?;
                filter.programme_id = Some(programme.id);
            }
            let rules = store::lead_times::search(conn, &filter, CANDIDATE_BOUND + 1)?;
            if rules.len() as i64 > CANDIDATE_BOUND {
                return Err(AppError::invalid(
                    "programme",
                    format!(
                        "more than {CANDIDATE_BOUND} lead times match: narrow the list with \
                         `event`, `obligation`, `meeting` or `programme`"
                    ),
                ));
            }
            let (events, items, meetings) = store::lead_times::anchor_ids(&rules);
            let anchors = store::lead_times::anchors(conn, &events, &items, &meetings)?;
            let mut deadlines: Vec<Deadline> = store::lead_times::derive(rules, &anchors)
                .into_iter()
                .filter(|d| {
                    let dated = q.from.is_none() && q.to.is_none() || d.due_on.is_some();
                    dated
                        && q.from
                            .is_none_or(|from| d.due_on.is_some_and(|due| due >= from))
                        && q.to.is_none_or(|to| d.due_on.is_some_and(|due| due <= to))
                })
                .collect();
            sort_deadlines(&mut deadlines);
            let total = deadlines.len() as i64;
            let mut page: Vec<Deadline> = deadlines
                .into_iter()
                .filter(|d| after.as_ref().is_none_or(|a| &sort_key(d) > a))
                .take(limit as usize + 1)
                .collect();
            let more = page.len() as i64 > limit;
            page.truncate(limit as usize);
            let next_cursor = if more {
                page.last().map(|d| encode_cursor(&sort_key(d)))
            } else {
                None
            };
            let items = page
                .iter()
                .map(|d| {
                    let anchor_title = text(&d.anchor_title)?;
                    Ok(ListedDeadline {
                        deadline: deadline_view(d, lang.0)?,
                        anchor_kind: d.anchor_kind,
                        anchor_id: d.anchor_id.clone(),
                        anchor_title_display: anchor_title.display(lang.0).to_string(),
                        anchor_title,
                    })
                })
                .collect::<AppResult<Vec<_>>>()?;
            Ok(DeadlinePage {
                items,
                next_cursor,
                total,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The routes of this module, under /api/v1.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/lead-times", web::get().to(list))
        .route("/lead-times", web::post().to(create))
        .route("/lead-times/{id}", web::get().to(one))
        .route("/lead-times/{id}", web::put().to(put))
        .route("/lead-times/{id}", web::patch().to(patch))
        .route("/lead-times/{id}", web::delete().to(delete));
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list, create, one, put, patch, delete),
    tags((name = "lead-times", description = "Lead-time rules and the deadlines they derive from events, obligations and meetings"))
)]
pub struct Doc;
