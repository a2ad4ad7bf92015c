//! Programme status at a glance: roll-ups (now or as of a date), what changed
//! since a date or the last meeting, and snapshots frozen for a meeting.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::auth::{write_context, Authenticated};
use super::body::{read, JsonBody};
use super::AppState;
use crate::db::Conn;
use crate::domain::access::{Action, Target};
use crate::error::{AppError, AppResult};
use crate::report::rollup::{ItemChange, Rollup};
use crate::store;
use crate::store::programmes::ProgrammeRow;
use crate::store::snapshots::{NewSnapshot, SnapshotInfo};

/// API routes of this module, under /api/v1.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/programmes/{id}/rollup", web::get().to(programme_rollup))
        .route("/meetings/{id}/rollup", web::get().to(meeting_rollup))
        .route("/programmes/{id}/changes", web::get().to(changes))
        .route("/programmes/{id}/snapshots", web::get().to(snapshots))
        .route("/programmes/{id}/snapshots", web::post().to(take_snapshot))
        .route("/snapshots/{id}", web::get().to(snapshot));
}

#[derive(OpenApi)]
#[openapi(
    paths(programme_rollup, meeting_rollup, changes, snapshots, take_snapshot, snapshot),
    components(schemas(Rollup, ItemChange, Changes, SnapshotInfo, SnapshotInput)),
    tags((name = "status", description = "Roll-ups, changes since a date, snapshots"))
)]
pub struct Doc;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// YYYY-MM-DD: the status as it stood that day (reports dated or filed
    /// after it are ignored; overdue assessed on it). Default: today.
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SinceQuery {
    /// YYYY-MM-DD, or `last_meeting`: the date of the last meeting of the
    /// programme's body held before today.
    pub since: Option<String>,
}

/// A date YYYY-MM-DD in the years the databases store, or a 400 naming `field`.
fn parse_date(field: &str, text: &str) -> AppResult<NaiveDate> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| AppError::invalid(field, format!("`{text}` is not a date (YYYY-MM-DD)")))?;
    if !(1900..=2200).contains(&date.year()) {
        return Err(AppError::invalid(field, "years are 1900 to 2200"));
    }
    Ok(date)
}

fn as_of_of(query: &AsOfQuery) -> AppResult<Option<NaiveDate>> {
    query
        .as_of
        .as_deref()
        .map(|t| parse_date("as_of", t))
        .transpose()
}

fn programme_target(row: &ProgrammeRow) -> Target<'_> {
    Target::Programme {
        body_id: row.body_id.as_deref(),
        public: row.public,
    }
}

/// The programme by UUID or key, if the caller may read it.
fn readable(conn: &mut Conn, who: &Authenticated, id: &str) -> AppResult<ProgrammeRow> {
    let row = store::rollups::find_programme(conn, id)?
        .ok_or_else(|| AppError::not_found("programme", id))?;
    who.may(Action::Read, programme_target(&row))?;
    Ok(row)
}

#[utoipa::path(
    get, path = "/api/v1/programmes/{id}/rollup", tag = "status",
    description = "The programme's roll-up: counts and shares by lifecycle and completion, per section, organisation and party, the weighted completion percent, and the overdue and due-soon items with their responsible organisations and contacts. Lifecycle is counted per obligation (its overall lifecycle across the parties); completion per (obligation, responsible party) pair, a party that has not reported counting as no_evidence; the weighted completion percent is the mean score (not_started 0, limited 1, substantial 2, complete 3) of the scored pairs / 3 * 100, with no_evidence pairs counted apart and left out of the mean (null when nothing is scored). Overdue and due soon are assessed on `as_of` with the service's due-soon window. As of a past date, reports dated or filed after it are ignored and each item's own lifecycle and timeframe are taken as they were then (from the audit log).",
    params(("id" = String, Path, description = "Programme id (UUID) or key"), AsOfQuery),
    responses(
        (status = 200, description = "The roll-up", body = Rollup),
        (status = 400, description = "Invalid as_of", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not public: needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn programme_rollup(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
    query: web::Query<AsOfQuery>,
) -> AppResult<HttpResponse> {
    let as_of = as_of_of(&query)?;
    let id = id.into_inner();
    let today = state.clock.now().date_naive();
    let window = state.settings.status.due_soon_days;
    let rollup = state
        .db(move |conn| {
            let programme = readable(conn, &who, &id)?;
            store::rollups::programme_rollup(conn, &programme.id, as_of, today, window)?
                .ok_or_else(|| AppError::not_found("programme", &id))
        })
        .await?;
    Ok(HttpResponse::Ok().json(rollup))
}

#[utoipa::path(
    get, path = "/api/v1/meetings/{id}/rollup", tag = "status",
    description = "The roll-up of a meeting's protocol (the obligations its decisions created), counted as the programme roll-up is.",
    params(("id" = String, Path, description = "Meeting id"), AsOfQuery),
    responses(
        (status = 200, description = "The roll-up", body = Rollup),
        (status = 400, description = "Invalid as_of", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn meeting_rollup(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
    query: web::Query<AsOfQuery>,
) -> AppResult<HttpResponse> {
    let as_of = as_of_of(&query)?;
    let id = id.into_inner();
    let today = state.clock.now().date_naive();
    let window = state.settings.status.due_soon_days;
    let rollup = state
        .db(move |conn| {
            let meeting = store::bodies::meeting_by_id(conn, &id)?
                .ok_or_else(|| AppError::not_found("meeting", &id))?;
            who.may(
                Action::Read,
                Target::Body {
                    body_id: Some(&meeting.body_id),
                },
            )?;
            store::rollups::meeting_rollup(conn, &meeting.id, as_of, today, window)?
                .ok_or_else(|| AppError::not_found("meeting", &id))
        })
        .await?;
    Ok(HttpResponse::Ok().json(rollup))
}

/// What changed since a date.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Changes {
    pub since: NaiveDate,
    /// The meeting `since=last_meeting` resolved to.
    pub meeting_id: Option<String>,
    pub items: Vec<ItemChange>,
}

#[utoipa::path(
    get, path = "/api/v1/programmes/{id}/changes", tag = "status",
    description = "Every item whose overall lifecycle, completion (of any responsible party) or dates (timeframe) changed between `since` and now, with its state before and after. Before: reports dated or filed after `since` ignored, the item's own lifecycle and timeframe as the audit log's before-image of its first later update gives them. A party that had not reported counts as no_evidence.",
    params(("id" = String, Path, description = "Programme id (UUID) or key"), SinceQuery),
    responses(
        (status = 200, description = "The changed items", body = Changes),
        (status = 400, description = "Missing or invalid since, or no meeting held yet", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not public: needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn changes(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
    query: web::Query<SinceQuery>,
) -> AppResult<HttpResponse> {
    let since = query
        .into_inner()
        .since
        .ok_or_else(|| AppError::invalid("since", "give a date (YYYY-MM-DD) or `last_meeting`"))?;
    let fixed = match since.as_str() {
        "last_meeting" => None,
        text => Some(parse_date("since", text)?),
    };
    let id = id.into_inner();
    let today = state.clock.now().date_naive();
    let out = state
        .db(move |conn| {
            let programme = readable(conn, &who, &id)?;
            let (since, meeting_id) = match fixed {
                Some(day) => (day, None),
                None => {
                    let meeting = store::rollups::last_meeting(conn, &programme, today)?
                        .ok_or_else(|| {
                            AppError::invalid(
                                "since",
                                "no meeting of the programme's body was held before today",
                            )
                        })?;
                    (meeting.held_on, Some(meeting.id))
                }
            };
            let items = store::rollups::changes(conn, &programme.id, since)?
                .ok_or_else(|| AppError::not_found("programme", &id))?;
            Ok(Changes {
                since,
                meeting_id,
                items,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// A snapshot to take.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotInput {
    /// The meeting of the programme's body it is for.
    pub meeting_id: Option<String>,
    /// A name for people (up to 200 characters).
    pub label: Option<String>,
    /// YYYY-MM-DD (default today): freeze the status as it stood that day.
    #[schema(value_type = Option<String>, format = Date)]
    pub as_of: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/programmes/{id}/snapshots", tag = "status",
    description = "Freezes the programme's roll-up and implementation table (as of today or `as_of`). Snapshots are immutable: there is no update or delete. Taken by an admin or the secretariat of the programme's body; audited.",
    params(("id" = String, Path, description = "Programme id (UUID) or key")),
    request_body(content = Option<SnapshotInput>, content_type = "application/json", description = "Optional: with no body at all, today's snapshot is taken"),
    responses(
        (status = 201, description = "Taken; Location names it", body = SnapshotInfo),
        (status = 400, description = "Invalid field", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin or the programme's secretariat", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn take_snapshot(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
    body: Result<JsonBody, AppError>,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    // Everything in the body is optional: no body at all takes today's snapshot.
    let input: SnapshotInput = if req
        .headers()
        .contains_key(actix_web::http::header::CONTENT_TYPE)
    {
        read(body?.0)?
    } else {
        SnapshotInput::default()
    };
    let as_of = input
        .as_of
        .as_deref()
        .map(|t| parse_date("as_of", t))
        .transpose()?;
    let label = input
        .label
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty());
    if label.as_ref().is_some_and(|l| l.chars().count() > 200) {
        return Err(AppError::invalid("label", "at most 200 characters"));
    }
    let ctx = write_context(&state, &who, &req);
    let today = state.clock.now().date_naive();
    let window = state.settings.status.due_soon_days;
    let id = id.into_inner();
    let info = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let programme = readable(conn, &who, &id)?;
                who.may(Action::Create, programme_target(&programme))?;
                if let Some(meeting_id) = &input.meeting_id {
                    let meeting = store::bodies::meeting_by_id(conn, meeting_id)?;
                    if meeting.is_none_or(|m| Some(&m.body_id) != programme.body_id.as_ref()) {
                        return Err(AppError::invalid(
                            "meeting_id",
                            format!("`{meeting_id}` is not a meeting of the programme's body"),
                        ));
                    }
                }
                let not_found = || AppError::not_found("programme", &id);
                let rollup =
                    store::rollups::programme_rollup(conn, &programme.id, as_of, today, window)?
                        .ok_or_else(not_found)?;
                let table = store::rollups::implementation_table(
                    conn,
                    &programme.id,
                    as_of,
                    today,
                    window,
                )?
                .ok_or_else(not_found)?;
                let info = store::snapshots::create(
                    conn,
                    &ctx,
                    NewSnapshot {
                        programme_id: &programme.id,
                        meeting_id: input.meeting_id.as_deref(),
                        label: label.as_deref(),
                        rollup: &rollup,
                        table: &table,
                    },
                )?;
                Ok::<_, AppError>(info)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/snapshots/{}", info.id)))
        .json(info))
}

#[utoipa::path(
    get, path = "/api/v1/programmes/{id}/snapshots", tag = "status",
    params(("id" = String, Path, description = "Programme id (UUID) or key")),
    responses(
        (status = 200, description = "The programme's snapshots, oldest first (without their contents)", body = Vec<SnapshotInfo>),
        (status = 401, description = "Not public: needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn snapshots(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let list = state
        .db(move |conn| {
            let programme = readable(conn, &who, &id)?;
            Ok(store::snapshots::of_programme(conn, &programme.id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(
    get, path = "/api/v1/snapshots/{id}", tag = "status",
    params(("id" = String, Path, description = "Snapshot id")),
    responses(
        (status = 200, description = "The snapshot with its frozen `rollup` and `implementation_table`", body = Object),
        (status = 401, description = "Not public: needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such snapshot", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn snapshot(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let found = state
        .db(move |conn| {
            let snapshot = store::snapshots::get(conn, &id)?
                .ok_or_else(|| AppError::not_found("snapshot", &id))?;
            let programme = store::programmes::by_id(conn, &snapshot.info.programme_id)?
                .ok_or_else(|| AppError::not_found("snapshot", &id))?;
            who.may(Action::Read, programme_target(&programme))?;
            Ok(snapshot)
        })
        .await?;
    Ok(HttpResponse::Ok().json(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_name_their_field() {
        assert!(parse_date("as_of", "2025-07-01").is_ok());
        for bad in ["2025-02-30", "01.07.2025", "", "3000-01-01", "yesterday"] {
            match parse_date("since", bad) {
                Err(AppError::Validation(errors)) => assert_eq!(errors[0].field, "since"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
