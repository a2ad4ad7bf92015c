//! Obligations: the list with filters, one item, changes under `If-Match`,
//! and the status reports that parties post on them.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{write_context, Authenticated, Credentials};
use super::body::{merge_patch, read, JsonBody};
use super::etag::{expected_version, ok_with_etag, stale, with_etag};
use super::programmes::{
    assess_rows, corrupt, obligation_view, AssessedItem, ObligationView, PartyStatusView,
};
use super::AppState;
use crate::db::Conn;
use crate::domain::access::{Action, Target};
use crate::domain::kinds::{
    AssignmentRole, CostTerms, EvidenceKind, Firmness, ObligationKind, ObligationRecurrence,
    Quantities,
};
use crate::domain::status::{Completion, Lifecycle, Overall};
use crate::domain::timeframe::{Period, Timeframe};
use crate::domain::{Language, LocalizedText};
use crate::error::{AppError, AppResult, FieldError};
use crate::notify::planner::Item;
use crate::store::obligations::{AssignmentRow, ListPosition, ObligationFilter, ObligationRow};
use crate::store::{self, Versioned};

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 200;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Programme id or key.
    pub programme: Option<String>,
    /// Section code (with `programme`).
    pub section: Option<String>,
    /// Party code: items assigned to an organisation of this party.
    pub party: Option<String>,
    /// Organisation key: items assigned to it.
    pub organisation: Option<String>,
    /// Lifecycle of the item.
    pub lifecycle: Option<Lifecycle>,
    /// Overall completion (the least advanced party's).
    pub completion: Option<Completion>,
    /// Only overdue items (true) or only items not overdue (false), as of today.
    pub overdue: Option<bool>,
    /// Only items due soon (true) or not (false).
    pub due_soon: Option<bool>,
    /// Due on or after this date.
    pub due_from: Option<NaiveDate>,
    /// Due on or before this date.
    pub due_to: Option<NaiveDate>,
    /// Text to find in the number or the text, in any language, ignoring case.
    pub q: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Language of the display values (also from Accept-Language).
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObligationPage {
    pub items: Vec<ObligationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many items match, when it is cheap to count (no computed filter).
    pub total: Option<i64>,
}

fn encode_cursor(p: &ListPosition) -> String {
    hex::encode(format!("{}|{}|{}", p.programme_id, p.position, p.id))
}

fn decode_cursor(text: &str) -> AppResult<ListPosition> {
    let bad = || AppError::invalid("cursor", "is not a cursor this API gave out");
    let raw = String::from_utf8(hex::decode(text).map_err(|_| bad())?).map_err(|_| bad())?;
    let mut parts = raw.splitn(3, '|');
    let (Some(p), Some(pos), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    Ok(ListPosition {
        programme_id: p.to_string(),
        position: pos.parse().map_err(|_| bad())?,
        id: id.to_string(),
    })
}

#[utoipa::path(
    get, path = "/api/v1/obligations", tag = "obligations",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of items in a stable order", body = ObligationPage),
        (status = 400, description = "Invalid filter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    credentials: Credentials,
    lang: super::lang::Lang,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("must be 1 to {MAX_PAGE}"),
        ));
    }
    if q.section.is_some() && q.programme.is_none() {
        return Err(AppError::invalid(
            "section",
            "needs `programme`: section codes are per programme",
        ));
    }
    for (field, date) in [("due_from", q.due_from), ("due_to", q.due_to)] {
        // Dates the databases can store and the domain speaks of.
        if date.is_some_and(|d| !(1900..=2200).contains(&chrono::Datelike::year(&d))) {
            return Err(AppError::invalid(field, "years are 1900 to 2200"));
        }
    }
    if let (Some(from), Some(to)) = (q.due_from, q.due_to) {
        if to < from {
            return Err(AppError::invalid("due_to", "is before due_from"));
        }
    }
    if q.q.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(AppError::invalid("q", "is longer than 200 characters"));
    }
    let after = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(decode_cursor)
        .transpose()?;
    let clock = state.clock.clone();
    let due_soon_days = state.settings.status.due_soon_days;
    let page = state
        .db(move |conn| {
            let public_only = credentials.resolve(conn)?.principal().is_none();
            let mut filter = ObligationFilter {
                lifecycle: q.lifecycle.map(|l| l.as_str().to_string()),
                due_from: q.due_from,
                due_to: q.due_to,
                text: q
                    .q
                    .as_ref()
                    .map(|t| t.trim().to_lowercase())
                    .filter(|t| !t.is_empty()),
                public_only,
                ..ObligationFilter::default()
            };
            let none = || {
                Ok(ObligationPage {
                    items: vec![],
                    next_cursor: None,
                    total: Some(0),
                })
            };
            if let Some(p) = &q.programme {
                let found = if uuid::Uuid::parse_str(p).is_ok() {
                    store::programmes::by_id(conn, p)?
                } else {
                    store::programmes::by_key(conn, p)?
                };
                let Some(programme) = found else {
                    return none();
                };
                if let Some(code) = &q.section {
                    match store::programmes::sections_of(conn, &programme.id)?
                        .into_iter()
                        .find(|s| &s.code == code)
                    {
                        Some(s) => filter.section_id = Some(s.id),
                        None => return none(),
                    }
                }
                filter.programme_id = Some(programme.id);
            }
            if let Some(code) = &q.party {
                match store::parties::by_code(conn, code)? {
                    Some(p) => filter.party_id = Some(p.id),
                    None => return none(),
                }
            }
            if let Some(key) = &q.organisation {
                match store::organisations::by_key(conn, key)? {
                    Some(o) => filter.organisation_id = Some(o.id),
                    None => return none(),
                }
            }
            let computed = q.overdue.is_some() || q.due_soon.is_some() || q.completion.is_some();
            let keep = |item: &AssessedItem| {
                q.overdue.is_none_or(|o| item.assessment.overdue == o)
                    && q.due_soon.is_none_or(|d| item.assessment.due_soon == d)
                    && q.completion.is_none_or(|c| item.overall.completion == c)
            };
            // Computed filters are applied after the query: read on in batches
            // until the page is full or the items run out.
            let mut items = Vec::new();
            let mut position = after;
            let mut exhausted = false;
            while items.len() < limit as usize + 1 {
                let batch_size = if computed { (limit + 1) * 4 } else { limit + 1 };
                let rows =
                    store::obligations::search(conn, &filter, position.as_ref(), batch_size)?;
                exhausted = (rows.len() as i64) < batch_size;
                let Some(last) = rows.last() else { break };
                let last_seen = ListPosition {
                    programme_id: last.programme_id.clone().unwrap_or_default(),
                    position: last.position,
                    id: last.id.clone(),
                };
                for item in assess_rows(conn, rows, clock.as_ref(), due_soon_days)? {
                    if keep(&item) {
                        items.push(item);
                    }
                }
                position = Some(last_seen);
                if exhausted {
                    break;
                }
            }
            let more = items.len() > limit as usize;
            items.truncate(limit as usize);
            let next_cursor = if more || (!exhausted && items.len() == limit as usize && computed) {
                items.last().map(|i| {
                    encode_cursor(&ListPosition {
                        programme_id: i.row.programme_id.clone().unwrap_or_default(),
                        position: i.row.position,
                        id: i.row.id.clone(),
                    })
                })
            } else {
                None
            };
            let total = if computed {
                None
            } else {
                Some(store::obligations::count(conn, &filter)?)
            };
            let items = items
                .iter()
                .map(|i| obligation_view(i, lang.0))
                .collect::<AppResult<Vec<_>>>()?;
            Ok(ObligationPage {
                items,
                next_cursor,
                total,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// What access to an item depends on.
struct ItemScope {
    row: ObligationRow,
    body_id: Option<String>,
    public: bool,
    assigned: Vec<String>,
    /// The assignments themselves, for assessing the item without reading them again.
    assignments: Vec<store::obligations::AssignmentView>,
    period: Option<Period>,
}

fn scope(conn: &mut Conn, id: &str) -> AppResult<ItemScope> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::invalid("id", format!("`{id}` is not a UUID")));
    }
    let (row, programme) = store::obligations::by_id_with_programme(conn, id)?
        .ok_or_else(|| AppError::not_found("obligation", id))?;
    let (body_id, public, period) = match (&row.programme_id, &row.meeting_id) {
        (Some(p), _) => {
            let programme = programme.ok_or_else(|| corrupt("programme", p))?;
            (
                programme.body_id,
                programme.public,
                Some(Period {
                    start: programme.period_start,
                    end: programme.period_end,
                }),
            )
        }
        (None, Some(m)) => (
            store::bodies::meeting_by_id(conn, m)?.map(|m| m.body_id),
            false,
            None,
        ),
        (None, None) => (None, false, None),
    };
    let assignments = store::obligations::assignments_of(conn, std::slice::from_ref(&row.id))?;
    let assigned = assignments
        .iter()
        .map(|a| a.organisation_id.clone())
        .collect();
    Ok(ItemScope {
        row,
        body_id,
        public,
        assigned,
        assignments,
        period,
    })
}

impl ItemScope {
    fn target(&self) -> Target<'_> {
        Target::Obligation {
            body_id: self.body_id.as_deref(),
            public: self.public,
            assigned: &self.assigned,
        }
    }
}

/// The item as the API shows it; `assignments` when already read (else read here).
fn view_of(
    conn: &mut Conn,
    row: ObligationRow,
    assignments: Option<Vec<store::obligations::AssignmentView>>,
    state: &AppState,
    lang: Language,
) -> AppResult<ObligationView> {
    let items = super::programmes::assess_rows_with(
        conn,
        vec![row],
        assignments,
        state.clock.as_ref(),
        state.settings.status.due_soon_days,
    )?;
    let item = items
        .first()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("item vanished")))?;
    obligation_view(item, lang)
}

#[utoipa::path(
    get, path = "/api/v1/obligations/{id}", tag = "obligations",
    params(("id" = String, Path, description = "Item id (UUID)")),
    responses(
        (status = 200, description = "The item, with its ETag", body = ObligationView),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not public: needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn one(
    state: web::Data<AppState>,
    credentials: Credentials,
    lang: super::lang::Lang,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let st = state.clone();
    let view = state
        .db(move |conn| {
            let who = credentials.resolve(conn)?;
            let scope = scope(conn, &id)?;
            who.may(Action::Read, scope.target())?;
            view_of(conn, scope.row, Some(scope.assignments), &st, lang.0)
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

/// The changeable fields of an item. PUT sends all; PATCH sends a JSON merge
/// patch of them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObligationInput {
    pub number: String,
    /// Section code within the programme.
    pub section: Option<String>,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub text: LocalizedText,
    pub kind: ObligationKind,
    pub firmness: Firmness,
    /// As the source writes it: "2025", "II quarter 2025", "to be agreed"...
    pub timeframe: String,
    pub recurrence: Option<ObligationRecurrence>,
    #[schema(value_type = Option<Object>)]
    pub quantities: Option<Quantities>,
    #[schema(value_type = Option<Object>)]
    pub cost_terms: Option<CostTerms>,
    pub lifecycle: Lifecycle,
    pub assignments: Vec<AssignmentInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentInput {
    /// Organisation key.
    pub organisation: String,
    pub role: AssignmentRole,
    /// Party code; defaults to the organisation's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
}

fn current_input(conn: &mut Conn, row: &ObligationRow) -> AppResult<ObligationInput> {
    let section = match &row.section_id {
        Some(id) => row
            .programme_id
            .as_ref()
            .map(|p| store::programmes::sections_of(conn, p))
            .transpose()?
            .and_then(|sections| sections.into_iter().find(|s| &s.id == id).map(|s| s.code)),
        None => None,
    };
    let assignments = store::obligations::assignments_of(conn, std::slice::from_ref(&row.id))?
        .into_iter()
        .map(|a| {
            Ok(AssignmentInput {
                organisation: a.organisation_key,
                role: AssignmentRole::parse(&a.role).ok_or_else(|| corrupt("role", &a.role))?,
                party: Some(a.party_code),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(ObligationInput {
        number: row.number.clone(),
        section,
        text: LocalizedText::from_json(&row.text).map_err(|e| corrupt("text", e))?,
        kind: ObligationKind::parse(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?,
        firmness: Firmness::parse(&row.firmness)
            .ok_or_else(|| corrupt("firmness", &row.firmness))?,
        timeframe: row.timeframe_text.clone(),
        recurrence: row
            .recurrence
            .as_deref()
            .and_then(ObligationRecurrence::parse),
        quantities: row
            .quantities
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| corrupt("quantities", e))?,
        cost_terms: row
            .cost_terms
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| corrupt("cost terms", e))?,
        lifecycle: Lifecycle::parse(&row.lifecycle)
            .ok_or_else(|| corrupt("lifecycle", &row.lifecycle))?,
        assignments,
    })
}

/// Checks an input against the item's programme and builds the new row and assignments.
fn apply_input(
    conn: &mut Conn,
    scope: &ItemScope,
    input: &ObligationInput,
) -> AppResult<(ObligationRow, Vec<AssignmentRow>)> {
    let mut errors = Vec::new();
    let number = input.number.trim().to_string();
    if number.is_empty() || number.chars().count() > 20 {
        errors.push(FieldError::new(
            "number",
            "an item number is 1 to 20 characters, e.g. 3.2",
        ));
    }
    let timeframe = match Timeframe::parse(&input.timeframe, scope.period) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(FieldError::new("timeframe", e.to_string()));
            None
        }
    };
    let old_lifecycle = Lifecycle::parse(&scope.row.lifecycle)
        .ok_or_else(|| corrupt("lifecycle", &scope.row.lifecycle))?;
    if let Err(e) = old_lifecycle.transition(input.lifecycle) {
        errors.push(FieldError::new("lifecycle", e.to_string()));
    }
    if input.recurrence.is_some() && scope.period.is_none() {
        errors.push(FieldError::new(
            "recurrence",
            "only a programme's items recur over its years",
        ));
    }
    let section_id = match (&input.section, &scope.row.programme_id) {
        (Some(code), Some(p)) => match store::programmes::sections_of(conn, p)?
            .into_iter()
            .find(|s| &s.code == code)
        {
            Some(s) => Some(s.id),
            None => {
                errors.push(FieldError::new(
                    "section",
                    format!("`{code}` is not a section of this programme"),
                ));
                None
            }
        },
        (Some(_), None) => {
            errors.push(FieldError::new("section", "a protocol item has no section"));
            None
        }
        (None, _) => None,
    };
    if number != scope.row.number {
        let owner = match (&scope.row.programme_id, &scope.row.meeting_id) {
            (Some(p), _) => Some(store::obligations::Owner::Programme(p)),
            (None, Some(m)) => Some(store::obligations::Owner::Meeting(m)),
            _ => None,
        };
        if let Some(owner) = owner {
            if store::obligations::by_number(conn, owner, &number)?.is_some() {
                errors.push(FieldError::new(
                    "number",
                    format!("item {number} already exists here"),
                ));
            }
        }
    }
    let mut assignments = Vec::new();
    for (i, a) in input.assignments.iter().enumerate() {
        let Some(org) = store::organisations::by_key(conn, &a.organisation)? else {
            errors.push(FieldError::new(
                format!("assignments[{i}].organisation"),
                format!("`{}` does not exist", a.organisation),
            ));
            continue;
        };
        let party_id = match &a.party {
            Some(code) => match store::parties::by_code(conn, code)? {
                Some(p) => p.id,
                None => {
                    errors.push(FieldError::new(
                        format!("assignments[{i}].party"),
                        format!("`{code}` does not exist"),
                    ));
                    continue;
                }
            },
            None => org.party_id.clone(),
        };
        if assignments
            .iter()
            .any(|x: &AssignmentRow| x.organisation_id == org.id && x.role == a.role.as_str())
        {
            errors.push(FieldError::new(
                format!("assignments[{i}]"),
                "the same organisation and role twice",
            ));
            continue;
        }
        assignments.push(AssignmentRow {
            id: store::new_id(),
            obligation_id: scope.row.id.clone(),
            organisation_id: org.id,
            party_id,
            role: a.role.as_str().to_string(),
        });
    }
    let Some(timeframe) = timeframe.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let text = input.text.to_json();
    let row = ObligationRow {
        section_id,
        search_text: store::obligations::search_text(&number, &text),
        number,
        text,
        kind: input.kind.as_str().to_string(),
        firmness: input.firmness.as_str().to_string(),
        quantities: input
            .quantities
            .as_ref()
            .map(|q| serde_json::to_string(q).unwrap_or_default()),
        cost_terms: input
            .cost_terms
            .as_ref()
            .map(|c| serde_json::to_string(c).unwrap_or_default()),
        timeframe_kind: timeframe.kind.as_str().to_string(),
        timeframe_text: timeframe.source.clone(),
        earliest: timeframe.earliest,
        latest: timeframe.latest,
        recurrence: input.recurrence.map(|r| r.as_str().to_string()),
        lifecycle: input.lifecycle.as_str().to_string(),
        ..scope.row.clone()
    };
    Ok((row, assignments))
}

async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: super::lang::Lang,
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
                let scope = scope(conn, &id)?;
                who.may(Action::Update, scope.target())?;
                let input: ObligationInput = if patch {
                    let mut doc = serde_json::to_value(current_input(conn, &scope.row)?)
                        .map_err(|e| AppError::Internal(e.into()))?;
                    merge_patch(&mut doc, &body);
                    read(doc)?
                } else {
                    read(body)?
                };
                let (row, assignments) = apply_input(conn, &scope, &input)?;
                let stored = scope.row.clone();
                // Through the store, which keeps a yearly item's occurrences in step.
                let written = store::obligations::update(conn, &ctx, stored, row, expected)?;
                let row = match written {
                    Versioned::Stale => return Err(stale()),
                    Versioned::Written(row) => row,
                    Versioned::Unchanged(row) => row,
                };
                let links_changed =
                    store::obligations::replace_assignments(conn, &ctx, &row.id, &assignments)?;
                // A change of assignments is a change of the item: its version moves too.
                let row = if links_changed && row.version == expected {
                    store::obligations::bump_version(conn, &row.id, expected, ctx.at)?
                        .ok_or_else(stale)?
                } else {
                    row
                };
                // New dates, lifecycle or assignments: its reminders follow, in this transaction.
                super::reminder_policies::replan_items(
                    conn,
                    &st,
                    &[Item::Obligation(row.id.clone())],
                )?;
                view_of(conn, row, None, &st, lang.0)
            })
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

#[utoipa::path(
    patch, path = "/api/v1/obligations/{id}", tag = "obligations",
    params(("id" = String, Path, description = "Item id (UUID)"), ("If-Match" = String, Header, description = "ETag of the version being changed")),
    request_body(content = Object, description = "JSON merge patch (RFC 7396) of ObligationInput", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = ObligationView),
        (status = 400, description = "Invalid change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item", body = crate::error::Problem, content_type = "application/problem+json"),
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
    change(state, req, who, lang, id.into_inner(), body.0, true).await
}

#[utoipa::path(
    put, path = "/api/v1/obligations/{id}", tag = "obligations",
    params(("id" = String, Path, description = "Item id (UUID)"), ("If-Match" = String, Header, description = "ETag of the version being replaced")),
    request_body = ObligationInput,
    responses(
        (status = 200, description = "Replaced", body = ObligationView),
        (status = 400, description = "Invalid", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item", body = crate::error::Problem, content_type = "application/problem+json"),
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
    change(state, req, who, lang, id.into_inner(), body.0, false).await
}

/// A status report of one party on one item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// Party code: whose side this reports.
    pub party: String,
    pub lifecycle: Lifecycle,
    pub completion: Completion,
    #[schema(value_type = Option<std::collections::BTreeMap<String, String>>)]
    pub narrative: Option<LocalizedText>,
    /// The date the report speaks for (not in the future).
    pub as_of: NaiveDate,
    /// For an item that recurs yearly: the year of the occurrence it reports
    /// on (one of the item's `occurrences`). Not allowed on other items.
    #[serde(default)]
    pub occurrence_year: Option<i32>,
    #[serde(default)]
    pub evidence: Vec<EvidenceInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceInput {
    pub kind: EvidenceKind,
    pub description: Option<String>,
    pub url: Option<String>,
    /// SHA-256 of a file, 64 hexadecimal digits.
    pub sha256: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub id: String,
    pub obligation_id: String,
    pub party: String,
    pub lifecycle: Lifecycle,
    pub completion: Completion,
    #[schema(value_type = Option<std::collections::BTreeMap<String, String>>)]
    pub narrative: Option<LocalizedText>,
    pub as_of: NaiveDate,
    /// For a yearly item: the year of the occurrence it reports on.
    pub occurrence_year: Option<i32>,
    pub reported_at: chrono::DateTime<chrono::Utc>,
    pub reporter: String,
    pub evidence: Vec<EvidenceView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceView {
    pub kind: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub sha256: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportList {
    pub items: Vec<ReportView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportCreated {
    pub report: ReportView,
    /// Each party's latest report, after this one.
    pub status: Vec<PartyStatusView>,
    #[schema(value_type = Object)]
    pub overall: Overall,
}

#[utoipa::path(
    post, path = "/api/v1/obligations/{id}/reports", tag = "obligations",
    params(("id" = String, Path, description = "Item id (UUID)")),
    request_body = ReportInput,
    responses(
        (status = 201, description = "Reported; the item's status per party and overall", body = ReportCreated),
        (status = 400, description = "Invalid report", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to report", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn report(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let input: ReportInput = read(body.0)?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    let st = state.clone();
    let created = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let scope = scope(conn, &id)?;
                let party = store::parties::by_code(conn, &input.party)?.ok_or_else(|| {
                    AppError::invalid("party", format!("`{}` is not a party", input.party))
                })?;
                let assigned = scope.assigned.clone();
                who.may(
                    Action::Create,
                    Target::StatusReport {
                        body_id: scope.body_id.as_deref(),
                        public: scope.public,
                        assigned: &assigned,
                        party_id: &party.id,
                    },
                )?;
                let mut errors = Vec::new();
                let today = st.clock.now().date_naive();
                if input.as_of > today + chrono::Duration::days(1) {
                    errors.push(FieldError::new(
                        "as_of",
                        format!(
                            "{} is in the future: a report states what has happened",
                            input.as_of
                        ),
                    ));
                }
                let before = assess_rows(
                    conn,
                    vec![scope.row.clone()],
                    st.clock.as_ref(),
                    st.settings.status.due_soon_days,
                )?;
                if let Some(previous) = before
                    .first()
                    .and_then(|i| i.latest.iter().find(|s| s.party == party.code))
                {
                    if let Err(e) = previous.lifecycle.transition(input.lifecycle) {
                        errors.push(FieldError::new("lifecycle", e.to_string()));
                    }
                }
                if let Some(year) = input.occurrence_year {
                    let years: Vec<i32> = store::obligations::occurrences_of(
                        conn,
                        std::slice::from_ref(&scope.row.id),
                    )?
                    .into_iter()
                    .map(|o| o.year)
                    .collect();
                    if scope.row.recurrence.is_none() {
                        errors.push(FieldError::new(
                            "occurrence_year",
                            "this item does not recur yearly: report on it without an occurrence year",
                        ));
                    } else if !years.contains(&year) {
                        let known = years
                            .iter()
                            .map(i32::to_string)
                            .collect::<Vec<_>>()
                            .join(", ");
                        errors.push(FieldError::new(
                            "occurrence_year",
                            if known.is_empty() {
                                format!("{year} is not a year of this item: it has no occurrences (its timeframe is to be agreed)")
                            } else {
                                format!("{year} is not a year of this item; its occurrences are in {known}")
                            },
                        ));
                    }
                }
                for (i, e) in input.evidence.iter().enumerate() {
                    if e.description.is_none() && e.url.is_none() && e.sha256.is_none() {
                        errors.push(FieldError::new(
                            format!("evidence[{i}]"),
                            "needs a description, a url or a sha256",
                        ));
                    }
                    if let Some(h) = &e.sha256 {
                        if h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
                            errors.push(FieldError::new(
                                format!("evidence[{i}].sha256"),
                                "a SHA-256 is 64 hexadecimal digits",
                            ));
                        }
                    }
                }
                if !errors.is_empty() {
                    return Err(AppError::Validation(errors));
                }
                let report = store::reports::StatusReportRow {
                    id: store::new_id(),
                    obligation_id: scope.row.id.clone(),
                    party_id: party.id.clone(),
                    lifecycle: input.lifecycle.as_str().to_string(),
                    completion: input.completion.as_str().to_string(),
                    narrative: input.narrative.as_ref().map(LocalizedText::to_json),
                    as_of: input.as_of,
                    reported_at: ctx.at,
                    reporter: ctx.actor.clone(),
                    decision_id: None,
                    occurrence_year: input.occurrence_year,
                };
                let evidence: Vec<_> = input
                    .evidence
                    .iter()
                    .map(|e| store::reports::EvidenceRow {
                        id: store::new_id(),
                        status_report_id: report.id.clone(),
                        kind: e.kind.as_str().to_string(),
                        description: e.description.clone(),
                        url: e.url.clone(),
                        sha256: e.sha256.as_ref().map(|h| h.to_lowercase()),
                        created_at: ctx.at,
                    })
                    .collect();
                store::reports::append(conn, &ctx, &report, &evidence)?;
                // A completion stops its reminders (and a reopening brings them back).
                super::reminder_policies::replan_items(
                    conn,
                    &st,
                    &[Item::Obligation(scope.row.id.clone())],
                )?;
                let after = assess_rows(
                    conn,
                    vec![scope.row.clone()],
                    st.clock.as_ref(),
                    st.settings.status.due_soon_days,
                )?;
                let item = after
                    .first()
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("item vanished")))?;
                Ok(ReportCreated {
                    report: report_view(report, &party.code, &evidence),
                    status: item
                        .latest
                        .iter()
                        .map(|s| PartyStatusView {
                            party: s.party.clone(),
                            lifecycle: s.lifecycle,
                            completion: s.completion,
                            as_of: s.as_of,
                        })
                        .collect(),
                    overall: item.overall,
                })
            })
        })
        .await?;
    Ok(with_etag(HttpResponse::Created(), 1).json(created))
}

fn report_view(
    r: store::reports::StatusReportRow,
    party: &str,
    evidence: &[store::reports::EvidenceRow],
) -> ReportView {
    ReportView {
        obligation_id: r.obligation_id,
        party: party.to_string(),
        lifecycle: Lifecycle::parse(&r.lifecycle).unwrap_or(Lifecycle::Planned),
        completion: Completion::parse(&r.completion).unwrap_or(Completion::NoEvidence),
        narrative: r
            .narrative
            .as_deref()
            .and_then(|n| LocalizedText::from_json(n).ok()),
        as_of: r.as_of,
        occurrence_year: r.occurrence_year,
        reported_at: r.reported_at.and_utc(),
        reporter: r.reporter,
        evidence: evidence
            .iter()
            .filter(|e| e.status_report_id == r.id)
            .map(|e| EvidenceView {
                kind: e.kind.clone(),
                description: e.description.clone(),
                url: e.url.clone(),
                sha256: e.sha256.clone(),
            })
            .collect(),
        id: r.id,
    }
}

#[utoipa::path(
    get, path = "/api/v1/obligations/{id}/reports", tag = "obligations",
    params(("id" = String, Path, description = "Item id (UUID)")),
    responses(
        (status = 200, description = "Every report on the item, oldest first", body = ReportList),
        (status = 401, description = "Not public: needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn reports(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let items = state
        .db(move |conn| {
            let scope = scope(conn, &id)?;
            who.may(Action::Read, scope.target())?;
            let reports =
                store::reports::of_obligations(conn, std::slice::from_ref(&scope.row.id))?;
            let ids: Vec<String> = reports.iter().map(|r| r.report.id.clone()).collect();
            let evidence = store::reports::evidence_of(conn, &ids)?;
            Ok(reports
                .into_iter()
                .map(|r| report_view(r.report, &r.party_code, &evidence))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(ReportList { items }))
}
