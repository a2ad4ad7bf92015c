//! Reminder policies: the global one (`/reminder-policy`, written by admins)
//! and a programme's own (`/programmes/{id}/reminder-policy`, written by the
//! secretariat of its body), which replaces the global one for its items.
//! A write re-plans the reminders it governs in the same transaction.

use actix_web::http::header::IF_MATCH;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{write_context, Authenticated};
use super::body::{read, JsonBody};
use super::etag::{expected_version, ok_with_etag, stale, with_etag};
use super::AppState;
use crate::db::Conn;
use crate::domain::access::{Action, Target};
use crate::domain::reminders::{check, Policy, PolicyDraft, ReminderField, GLOBAL_POLICY_ID};
use crate::error::{AppError, AppResult, FieldError};
use crate::notify::planner::{self, PlanSettings};
use crate::store::policies::PolicyRow;
use crate::store::programmes::ProgrammeRow;
use crate::store::{self, Versioned};

/// A reminder policy as it applies.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    /// `global`, or the id of a programme's own policy; null while the
    /// built-in defaults apply.
    pub id: Option<String>,
    /// The programme it is the policy of (null: the global policy).
    pub programme_id: Option<String>,
    /// That programme's key.
    pub programme: Option<String>,
    /// Whether it is stored: false for the built-in defaults, and for a
    /// programme without a policy of its own (the global one applies).
    pub stored: bool,
    /// For a programme without a policy of its own: `global`.
    pub inherited_from: Option<String>,
    /// Days before the due date a reminder goes out (0: on the day).
    pub offsets: Vec<i64>,
    /// Which dated fields are reminded of.
    pub fields: Vec<ReminderField>,
    /// Overdue items are reminded the day after and then every this many days (0: once).
    pub overdue_every_days: i64,
    /// Deputies are told too once an item is this many days overdue.
    pub deputies_after_days: i64,
    /// The secretariat is told once an item is this many days overdue.
    pub secretariat_after_days: i64,
    /// Local hour (0-23) in each recipient's zone.
    pub send_hour: u32,
    /// Reminders due on a weekend go on the Friday before (overdue ones on the Monday after).
    pub skip_weekends: bool,
    /// ETag of the stored policy, for `If-Match`; null when not stored.
    pub version: Option<i32>,
}

/// A reminder policy, all of it (PUT replaces the policy).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// Days before the due date, each 0 to 365, each once, e.g. [30, 7, 1, 0].
    pub offsets: Vec<i64>,
    /// Dated fields: obligation_due, obligation_earliest, event_start,
    /// lead_time, agreement_notice, meeting.
    pub fields: Vec<String>,
    /// 0 to 365.
    pub overdue_every_days: i64,
    /// 0 to 365.
    pub deputies_after_days: i64,
    /// 0 to 365.
    pub secretariat_after_days: i64,
    /// 0 to 23.
    pub send_hour: i64,
    pub skip_weekends: bool,
}

fn corrupt(e: String) -> AppError {
    AppError::Internal(anyhow::anyhow!(e))
}

fn view(
    policy: &Policy,
    row: Option<&PolicyRow>,
    programme: Option<&ProgrammeRow>,
    inherited: bool,
) -> PolicyView {
    PolicyView {
        id: match (row, inherited) {
            (Some(r), false) => Some(r.id.clone()),
            _ => None,
        },
        programme_id: programme.map(|p| p.id.clone()),
        programme: programme.map(|p| p.key.clone()),
        stored: row.is_some() && !inherited,
        inherited_from: inherited.then(|| GLOBAL_POLICY_ID.to_string()),
        offsets: policy.offsets.clone(),
        fields: policy.fields.clone(),
        overdue_every_days: policy.overdue_every_days,
        deputies_after_days: policy.deputies_after_days,
        secretariat_after_days: policy.secretariat_after_days,
        send_hour: policy.send_hour,
        skip_weekends: policy.skip_weekends,
        version: row.filter(|_| !inherited).map(|r| r.version),
    }
}

/// The global policy as it applies: stored, or the defaults.
fn global_view(conn: &mut Conn) -> AppResult<PolicyView> {
    Ok(match store::policies::global(conn)? {
        Some(row) => view(&row.policy().map_err(corrupt)?, Some(&row), None, false),
        None => view(&Policy::default(), None, None, false),
    })
}

fn checked(input: &PolicyInput) -> AppResult<Policy> {
    check(&PolicyDraft {
        offsets: input.offsets.clone(),
        fields: input.fields.clone(),
        overdue_every_days: input.overdue_every_days,
        deputies_after_days: input.deputies_after_days,
        secretariat_after_days: input.secretariat_after_days,
        send_hour: input.send_hour,
        skip_weekends: input.skip_weekends,
    })
    .map_err(|errors| {
        AppError::Validation(
            errors
                .into_iter()
                .map(|e| FieldError::new(e.field, e.reason))
                .collect(),
        )
    })
}

/// The version in `If-Match`, when one is sent (a malformed one is refused).
fn if_match(req: &HttpRequest) -> AppResult<Option<i32>> {
    if req.headers().contains_key(IF_MATCH) {
        expected_version(req).map(Some)
    } else {
        Ok(None)
    }
}

/// The version a write is based on: required when a policy is stored; when
/// none is, there is no version to match (a PUT creates it).
fn wanted_version(given: Option<i32>, stored: Option<&PolicyRow>) -> AppResult<Option<i32>> {
    match (stored, given) {
        (Some(_), Some(v)) => Ok(Some(v)),
        (Some(_), None) => Err(AppError::PreconditionRequired(
            "send If-Match with the ETag of the version you are changing".into(),
        )),
        (None, Some(_)) => Err(AppError::PreconditionFailed(
            "no policy is stored here yet: send the PUT without If-Match to create it".into(),
        )),
        (None, None) => Ok(None),
    }
}

/// Stores `policy` over `stored` (or creates it), then re-plans what it governs.
fn write(
    conn: &mut Conn,
    state: &AppState,
    ctx: &store::WriteContext,
    stored: Option<PolicyRow>,
    expected: Option<i32>,
    policy: &Policy,
    programme_id: Option<String>,
) -> AppResult<(PolicyRow, bool)> {
    let (row, created) = match (stored, expected) {
        (Some(stored), Some(expected)) => {
            let mut row = stored.clone();
            row.set(policy);
            match store::policies::update(conn, ctx, stored, row, expected)? {
                Versioned::Stale => return Err(stale()),
                Versioned::Written(row) | Versioned::Unchanged(row) => (row, false),
            }
        }
        _ => (
            store::policies::insert(conn, ctx, PolicyRow::new(policy, programme_id, ctx.at))?,
            true,
        ),
    };
    replan(conn, state)?;
    Ok((row, created))
}

/// Re-plans the window around now: rows the old policy planned that the new
/// one does not want are cancelled, the new ones queued.
fn replan(conn: &mut Conn, state: &AppState) -> AppResult<()> {
    let settings = PlanSettings::from_settings(&state.settings);
    planner::plan_in(conn, state.clock.now(), &settings)?;
    Ok(())
}

fn respond(created: bool, version: i32, body: &PolicyView) -> HttpResponse {
    if created {
        with_etag(HttpResponse::Created(), version).json(body)
    } else {
        ok_with_etag(version, body)
    }
}

#[utoipa::path(
    get, path = "/api/v1/reminder-policy", tag = "reminders",
    responses(
        (status = 200, description = "The global reminder policy (the built-in defaults until an admin stores one; ETag when stored)", body = PolicyView),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_global(state: web::Data<AppState>, who: Authenticated) -> AppResult<HttpResponse> {
    who.may(
        Action::Read,
        Target::ReminderPolicy {
            global: true,
            body_id: None,
        },
    )?;
    let view = state.db(|conn| global_view(conn)).await?;
    Ok(match view.version {
        Some(v) => ok_with_etag(v, &view),
        None => HttpResponse::Ok().json(&view),
    })
}

#[utoipa::path(
    put, path = "/api/v1/reminder-policy", tag = "reminders",
    params(("If-Match" = Option<String>, Header, description = "ETag of the stored policy; required once one is stored (428 without it)")),
    request_body = PolicyInput,
    responses(
        (status = 200, description = "Replaced; reminders re-planned", body = PolicyView),
        (status = 201, description = "Stored for the first time; reminders re-planned", body = PolicyView),
        (status = 400, description = "Invalid (naming the field)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins change the global policy", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_global(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.may(
        Action::Update,
        Target::ReminderPolicy {
            global: true,
            body_id: None,
        },
    )?;
    let input: PolicyInput = read(body.0)?;
    let policy = checked(&input)?;
    let given = if_match(&req)?;
    let ctx = write_context(&state, &who, &req);
    let st = state.clone();
    let (view, created) = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let stored = store::policies::global(conn)?;
                let expected = wanted_version(given, stored.as_ref())?;
                let (row, created) = write(conn, &st, &ctx, stored, expected, &policy, None)?;
                Ok((view(&policy, Some(&row), None, false), created))
            })
        })
        .await?;
    Ok(respond(created, view.version.unwrap_or(1), &view))
}

/// A programme by UUID or key.
fn find_programme(conn: &mut Conn, id: &str) -> AppResult<ProgrammeRow> {
    let found = if uuid::Uuid::parse_str(id).is_ok() {
        store::programmes::by_id(conn, id)?
    } else if crate::domain::keys::is_key(id) {
        store::programmes::by_key(conn, id)?
    } else {
        return Err(AppError::invalid(
            "id",
            format!("`{id}` is neither a UUID nor a programme key"),
        ));
    };
    found.ok_or_else(|| AppError::not_found("programme", id))
}

fn programme_target(programme: &ProgrammeRow) -> Target<'_> {
    Target::ReminderPolicy {
        global: false,
        body_id: programme.body_id.as_deref(),
    }
}

#[utoipa::path(
    get, path = "/api/v1/programmes/{id}/reminder-policy", tag = "reminders",
    params(("id" = String, Path, description = "Programme id (UUID) or key")),
    responses(
        (status = 200, description = "The programme's own policy (with its ETag), or the global one it inherits (`stored` false)", body = PolicyView),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_programme(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            let programme = find_programme(conn, &id)?;
            who.may(Action::Read, programme_target(&programme))?;
            Ok(match store::policies::of_programme(conn, &programme.id)? {
                Some(row) => view(
                    &row.policy().map_err(corrupt)?,
                    Some(&row),
                    Some(&programme),
                    false,
                ),
                None => {
                    let global = global_view(conn)?;
                    let policy = Policy {
                        offsets: global.offsets,
                        fields: global.fields,
                        overdue_every_days: global.overdue_every_days,
                        deputies_after_days: global.deputies_after_days,
                        secretariat_after_days: global.secretariat_after_days,
                        send_hour: global.send_hour,
                        skip_weekends: global.skip_weekends,
                    };
                    view(&policy, None, Some(&programme), true)
                }
            })
        })
        .await?;
    Ok(match view.version {
        Some(v) => ok_with_etag(v, &view),
        None => HttpResponse::Ok().json(&view),
    })
}

#[utoipa::path(
    put, path = "/api/v1/programmes/{id}/reminder-policy", tag = "reminders",
    params(
        ("id" = String, Path, description = "Programme id (UUID) or key"),
        ("If-Match" = Option<String>, Header, description = "ETag of the programme's stored policy; required once it has one (428 without it)"),
    ),
    request_body = PolicyInput,
    responses(
        (status = 200, description = "Replaced; the programme's reminders re-planned", body = PolicyView),
        (status = 201, description = "The programme has a policy of its own now; its reminders re-planned", body = PolicyView),
        (status = 400, description = "Invalid (naming the field)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and the secretariat of the programme's body", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_programme(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let given = if_match(&req)?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    let st = state.clone();
    let (view, created) = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let programme = find_programme(conn, &id)?;
                who.may(Action::Update, programme_target(&programme))?;
                let input: PolicyInput = read(body.0)?;
                let policy = checked(&input)?;
                let stored = store::policies::of_programme(conn, &programme.id)?;
                let expected = wanted_version(given, stored.as_ref())?;
                let (row, created) = write(
                    conn,
                    &st,
                    &ctx,
                    stored,
                    expected,
                    &policy,
                    Some(programme.id.clone()),
                )?;
                Ok((view(&policy, Some(&row), Some(&programme), false), created))
            })
        })
        .await?;
    Ok(respond(created, view.version.unwrap_or(1), &view))
}

#[utoipa::path(
    delete, path = "/api/v1/programmes/{id}/reminder-policy", tag = "reminders",
    params(
        ("id" = String, Path, description = "Programme id (UUID) or key"),
        ("If-Match" = String, Header, description = "ETag of the programme's policy"),
    ),
    responses(
        (status = 204, description = "Deleted: the global policy applies to the programme again; its reminders re-planned"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and the secretariat of the programme's body", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme, or it has no policy of its own", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_programme(
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
                let programme = find_programme(conn, &id)?;
                who.may(Action::Delete, programme_target(&programme))?;
                let stored = store::policies::of_programme(conn, &programme.id)?
                    .ok_or_else(|| AppError::not_found("reminder policy of programme", &id))?;
                if !store::policies::delete(conn, &ctx, stored, expected)? {
                    return Err(stale());
                }
                replan(conn, &st)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- hooks

/// Re-plans the reminders of items inside the transaction of the write that
/// changed their dates, completion or status: what every such handler calls.
pub(crate) fn replan_items(
    conn: &mut Conn,
    state: &AppState,
    items: &[planner::Item],
) -> AppResult<()> {
    let settings = PlanSettings::from_settings(&state.settings);
    planner::replan_items(conn, state.clock.now(), &settings, items)?;
    Ok(())
}

/// Re-plans the whole window around now inside a write's transaction (a
/// body's secretariat changed: its meetings' and escalations' recipients).
pub(crate) fn replan_all(conn: &mut Conn, state: &AppState) -> AppResult<()> {
    replan(conn, state)
}

/// Cancels the unsent reminders of an item about to be deleted (and of its
/// lead times), inside the delete's transaction, before the delete.
pub(crate) fn forget_item(conn: &mut Conn, state: &AppState, item: planner::Item) -> AppResult<()> {
    planner::forget_item(conn, state.clock.now(), &item)?;
    Ok(())
}

/// Re-plans an event's reminders and queues the invitation, change or
/// cancellation the write calls for, inside its transaction.
pub(crate) fn event_written(
    conn: &mut Conn,
    state: &AppState,
    change: planner::EventChange<'_>,
) -> AppResult<()> {
    let settings = PlanSettings::from_settings(&state.settings);
    planner::event_written(conn, state.clock.now(), &settings, change)?;
    Ok(())
}

/// The routes of this module, under /api/v1.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/reminder-policy", web::get().to(get_global))
        .route("/reminder-policy", web::put().to(put_global))
        .route(
            "/programmes/{id}/reminder-policy",
            web::get().to(get_programme),
        )
        .route(
            "/programmes/{id}/reminder-policy",
            web::put().to(put_programme),
        )
        .route(
            "/programmes/{id}/reminder-policy",
            web::delete().to(delete_programme),
        );
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(get_global, put_global, get_programme, put_programme, delete_programme),
    components(schemas(PolicyView, PolicyInput)),
    tags((name = "reminders", description = "Reminder policies: offsets, escalation, send hour, weekends"))
)]
pub struct Doc;
