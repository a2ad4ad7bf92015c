//! The outbox of notifications, read-only, for admins and secretariats: what
//! was or will be sent to whom, its state, attempts and last error.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Authenticated;
use super::pagination;
use super::AppState;
use crate::domain::access::{Action, Target};
use crate::error::{AppError, AppResult};
use crate::notify::payload::KINDS;
use crate::store;
use crate::store::notifications::NotificationRow;
use crate::store::outbox::{NotificationFilter, STATES};

/// What a notification can be about (notifications.item_kind).
pub const ITEM_KINDS: [&str; 5] = ["obligation", "event", "lead_time", "agreement", "meeting"];

const CURSOR_TIME: &str = "%Y-%m-%dT%H:%M:%S%.f";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// pending, sending, sent, retry, failed, dead or cancelled.
    pub state: Option<String>,
    /// reminder, overdue, escalation, digest, event_invitation, event_change or event_cancellation.
    pub kind: Option<String>,
    /// What it is about: obligation, event, lead_time, agreement or meeting.
    pub item_kind: Option<String>,
    /// The id (UUID) of what it is about.
    pub item_id: Option<String>,
    /// The recipient's contact id (UUID).
    pub contact: Option<String>,
    /// Due to be sent at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Due to be sent at or before this instant (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// What a notification is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemRef {
    /// obligation, event, lead_time, agreement or meeting.
    pub kind: String,
    pub id: String,
}

/// One email to one recipient, as the outbox holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    /// reminder, overdue, escalation, digest, event_invitation, event_change or event_cancellation.
    pub kind: String,
    /// pending, sending (claimed by a worker), sent, retry (due again at
    /// `send_after`), failed (refused for good), dead (out of attempts) or
    /// cancelled (its item changed before it went out).
    pub state: String,
    /// Attempts so far (a claim counts as one).
    pub attempts: i32,
    /// The error of the latest failed attempt, kept after a later success.
    pub last_error: Option<String>,
    /// Fixed when queued, the same on every attempt: `<id@domain>`.
    pub message_id: String,
    /// The address it goes to.
    pub recipient: String,
    pub language: String,
    pub time_zone: String,
    pub contact_id: Option<String>,
    pub programme_id: Option<String>,
    /// Null for a digest.
    pub item: Option<ItemRef>,
    /// A year of a yearly item, an occurrence of a series, or "".
    pub occurrence: String,
    pub due_on: Option<NaiveDate>,
    /// Days before the due date it was planned for (negative: overdue by).
    pub offset_days: Option<i32>,
    /// Not sent before this instant (after a failure: the next attempt).
    pub send_after: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// While `sending`: the worker holding it, and until when.
    pub claimed_by: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    /// The digest it was gathered into.
    pub digest_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<NotificationRow> for NotificationView {
    fn from(r: NotificationRow) -> Self {
        let item = match (r.item_kind, r.item_id) {
            (Some(kind), Some(id)) => Some(ItemRef { kind, id }),
            _ => None,
        };
        NotificationView {
            id: r.id,
            kind: r.kind,
            state: r.state,
            attempts: r.attempts,
            last_error: r.last_error,
            message_id: r.message_id,
            recipient: r.recipient,
            language: r.language,
            time_zone: r.time_zone,
            contact_id: r.contact_id,
            programme_id: r.programme_id,
            item,
            occurrence: r.occurrence,
            due_on: r.due_on,
            offset_days: r.offset_days,
            send_after: r.send_after.and_utc(),
            sent_at: r.sent_at.map(|t| t.and_utc()),
            claimed_by: r.claimed_by,
            lease_until: r.lease_until.map(|t| t.and_utc()),
            digest_id: r.digest_id,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// One notification with what it says (the payload its templates render).
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationDetail {
    #[serde(flatten)]
    pub notification: NotificationView,
    /// The JSON fixed when it was queued (recipient name, programme, items, .ics).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn one_of(field: &str, value: Option<String>, allowed: &[&str]) -> AppResult<Option<String>> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => Err(AppError::invalid(
            field,
            format!("`{v}` is not one of {}", allowed.join(", ")),
        )),
        v => Ok(v),
    }
}

fn uuid(field: &str, value: Option<String>) -> AppResult<Option<String>> {
    match value {
        Some(v) if uuid::Uuid::parse_str(&v).is_err() => {
            Err(AppError::invalid(field, format!("`{v}` is not a UUID")))
        }
        v => Ok(v),
    }
}

fn decode_cursor(cursor: &str) -> AppResult<(NaiveDateTime, String)> {
    let parts = pagination::decode(cursor, 2)?;
    let at = NaiveDateTime::parse_from_str(&parts[0], CURSOR_TIME)
        .map_err(|_| AppError::invalid("cursor", "is not a cursor this API gave out"))?;
    Ok((at, parts[1].clone()))
}

#[utoipa::path(
    get, path = "/api/v1/notifications", tag = "notifications",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of notifications, latest send_after first", body = NotificationPage),
        (status = 400, description = "Invalid filter (naming it)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and secretariats only", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    who: Authenticated,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Notifications)?;
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if to < from {
            return Err(AppError::invalid("to", "is before from"));
        }
    }
    let filter = NotificationFilter {
        state: one_of("state", q.state, &STATES)?,
        kind: one_of("kind", q.kind, &KINDS)?,
        item_kind: one_of("item_kind", q.item_kind, &ITEM_KINDS)?,
        item_id: uuid("item_id", q.item_id)?,
        contact_id: uuid("contact", q.contact)?,
        from: q.from.map(|t| t.naive_utc()),
        to: q.to.map(|t| t.naive_utc()),
    };
    let after = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(decode_cursor)
        .transpose()?;
    let page = state
        .db(move |conn| {
            let mut rows = store::outbox::search(conn, &filter, after, limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = if more {
                rows.last().map(|r| {
                    pagination::encode(&[&r.send_after.format(CURSOR_TIME).to_string(), &r.id])
                })
            } else {
                None
            };
            Ok(NotificationPage {
                items: rows.into_iter().map(NotificationView::from).collect(),
                next_cursor,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(
    get, path = "/api/v1/notifications/{id}", tag = "notifications",
    params(("id" = String, Path, description = "Notification id (UUID)")),
    responses(
        (status = 200, description = "The notification and its payload", body = NotificationDetail),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and secretariats only", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notification", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn one(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Notifications)?;
    let id = id.into_inner();
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(AppError::invalid("id", format!("`{id}` is not a UUID")));
    }
    let detail = state
        .db(move |conn| {
            let row = store::notifications::by_id(conn, &id)?
                .ok_or_else(|| AppError::not_found("notification", &id))?;
            // Written by the planner as JSON; shown as text if it ever is not.
            let payload = serde_json::from_str(&row.payload)
                .unwrap_or_else(|_| serde_json::Value::String(row.payload.clone()));
            Ok(NotificationDetail {
                notification: NotificationView::from(row),
                payload,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/notifications", web::get().to(list))
        .route("/notifications/{id}", web::get().to(one));
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list, one),
    tags((name = "notifications", description = "The outbox of reminder emails: state, attempts, errors (admins and secretariats)"))
)]
pub struct Doc;
