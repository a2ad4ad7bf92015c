//! Commissions, sub-commissions and working groups; their meetings; and the
//! decisions those meetings adopt, which can postpone, cancel, supersede or
//! close obligations.

use std::collections::{BTreeMap, HashMap};

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::agreements::{check_length, key_cursor, party_by_code, refuse_nul, stored_text};
use super::auth::{write_context, Authenticated};
use super::body::{merge_patch, read, JsonBody};
use super::etag::{expected_version, ok_with_etag, stale, with_etag};
use super::lang::Lang;
use super::pagination;
use super::AppState;
use crate::db::Conn;
use crate::domain::access::{Action, Target};
use crate::domain::keys::is_key;
use crate::domain::kinds::{BodyKind, DecisionKind, MeetingStatus};
use crate::domain::status::Lifecycle;
use crate::domain::timeframe::{Period, Timeframe};
use crate::domain::zone::{parse_zone, resolve_local, tzdata_version};
use crate::domain::{Language, LocalizedText};
use crate::error::{AppError, AppResult, FieldError};
use crate::notify::planner::Item;
use crate::store::bodies::{
    BodyFilter, BodyPartyRow, BodyRow, DecisionEffectRow, DecisionRow, MeetingFilter, MeetingRow,
};
use crate::store::obligations::ObligationRow;
use crate::store::{self, Versioned};

fn corrupt(what: &str, value: &str) -> AppError {
    AppError::Internal(anyhow::anyhow!("stored {what} is not valid: {value}"))
}

fn uuid_or_400(field: &str, id: &str) -> AppResult<()> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::invalid(field, format!("`{id}` is not a UUID")));
    }
    Ok(())
}

fn created(location: String, version: i32, body: &impl Serialize) -> HttpResponse {
    with_etag(HttpResponse::Created(), version)
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(body)
}

// ---------------------------------------------------------------- bodies

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BodyListQuery {
    pub kind: Option<BodyKind>,
    /// Party code: bodies this party sits on.
    pub party: Option<String>,
    /// Key or id of the parent body: its sub-bodies.
    pub parent: Option<String>,
    /// Key or id of an agreement: the bodies it set up.
    pub agreement: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Language of the display values (also from Accept-Language).
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BodyView {
    pub id: String,
    pub key: String,
    pub kind: BodyKind,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub name: LocalizedText,
    /// The name in the reader's language.
    pub name_display: String,
    pub parent_id: Option<String>,
    /// Key of the parent body.
    pub parent: Option<String>,
    pub agreement_id: Option<String>,
    /// Key of the agreement it serves.
    pub agreement: Option<String>,
    /// Party codes.
    pub parties: Vec<String>,
    /// Co-chair per party code.
    pub co_chairs: BTreeMap<String, String>,
    /// Ids of the contacts who form its secretariat: reminders of its
    /// meetings and escalations of overdue items go to them.
    pub secretariat: Vec<String>,
    pub version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BodyPage {
    pub items: Vec<BodyView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    pub total: i64,
}

fn body_views(conn: &mut Conn, rows: Vec<BodyRow>, lang: Language) -> AppResult<Vec<BodyView>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut members: HashMap<String, Vec<(String, Option<String>)>> = HashMap::new();
    for (body_id, code, co_chair) in store::bodies::members_of(conn, &ids)? {
        members.entry(body_id).or_default().push((code, co_chair));
    }
    let mut secretariats: HashMap<String, Vec<String>> = HashMap::new();
    for (body_id, contact_id) in store::reminders::secretariat_links(conn, &ids)? {
        secretariats.entry(body_id).or_default().push(contact_id);
    }
    rows.into_iter()
        .map(|row| {
            let parent = match &row.parent_id {
                Some(p) => store::bodies::by_id(conn, p)?.map(|b| b.key),
                None => None,
            };
            let agreement = match &row.agreement_id {
                Some(a) => store::agreements::by_id(conn, a)?.map(|a| a.key),
                None => None,
            };
            let mine = members.remove(&row.id).unwrap_or_default();
            let name = stored_text(&row.name)?;
            Ok(BodyView {
                name_display: name.display(lang).to_string(),
                name,
                kind: BodyKind::parse(&row.kind).ok_or_else(|| corrupt("body kind", &row.kind))?,
                parent,
                agreement,
                parties: mine.iter().map(|(c, _)| c.clone()).collect(),
                co_chairs: mine
                    .into_iter()
                    .filter_map(|(c, chair)| chair.map(|chair| (c, chair)))
                    .collect(),
                secretariat: secretariats.remove(&row.id).unwrap_or_default(),
                id: row.id,
                key: row.key,
                parent_id: row.parent_id,
                agreement_id: row.agreement_id,
                version: row.version,
            })
        })
        .collect()
}

fn body_view(conn: &mut Conn, row: BodyRow, lang: Language) -> AppResult<BodyView> {
    body_views(conn, vec![row], lang)?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("body vanished")))
}

fn body_by_id_or_key(conn: &mut Conn, id_or_key: &str) -> AppResult<Option<BodyRow>> {
    Ok(if uuid::Uuid::parse_str(id_or_key).is_ok() {
        store::bodies::by_id(conn, id_or_key)?
    } else if is_key(id_or_key) {
        store::bodies::by_key(conn, id_or_key)?
    } else {
        None
    })
}

fn find_body(conn: &mut Conn, id_or_key: &str) -> AppResult<BodyRow> {
    body_by_id_or_key(conn, id_or_key)?.ok_or_else(|| AppError::not_found("body", id_or_key))
}

fn agreement_by_id_or_key(
    conn: &mut Conn,
    id_or_key: &str,
) -> AppResult<Option<store::agreements::AgreementRow>> {
    Ok(if uuid::Uuid::parse_str(id_or_key).is_ok() {
        store::agreements::by_id(conn, id_or_key)?
    } else if is_key(id_or_key) {
        store::agreements::by_key(conn, id_or_key)?
    } else {
        None
    })
}

#[utoipa::path(
    get, path = "/api/v1/bodies", tag = "bodies",
    params(BodyListQuery),
    responses(
        (status = 200, description = "A page of bodies in key order", body = BodyPage),
        (status = 400, description = "Invalid filter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_bodies(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    query: Result<web::Query<BodyListQuery>, actix_web::Error>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    let lang = lang?;
    let query = query.map_err(|e| AppError::BadRequest(e.to_string()))?;
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after = key_cursor(q.cursor.as_deref())?;
    let page = state
        .db(move |conn| {
            let none = || {
                Ok(BodyPage {
                    items: vec![],
                    next_cursor: None,
                    total: 0,
                })
            };
            let mut filter = BodyFilter {
                kind: q.kind.map(|k| k.as_str().to_string()),
                ..BodyFilter::default()
            };
            if let Some(code) = &q.party {
                match party_by_code(conn, code)? {
                    Some(p) => filter.party_id = Some(p.id),
                    None => return none(),
                }
            }
            if let Some(parent) = &q.parent {
                match body_by_id_or_key(conn, parent)? {
                    Some(b) => filter.parent_id = Some(b.id),
                    None => return none(),
                }
            }
            if let Some(agreement) = &q.agreement {
                match agreement_by_id_or_key(conn, agreement)? {
                    Some(a) => filter.agreement_id = Some(a.id),
                    None => return none(),
                }
            }
            let (mut rows, total) =
                store::bodies::search(conn, &filter, after.as_deref(), limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = if more {
                rows.last().map(|r| pagination::encode(&[&r.key]))
            } else {
                None
            };
            Ok(BodyPage {
                items: body_views(conn, rows, lang.0)?,
                next_cursor,
                total,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(
    get, path = "/api/v1/bodies/{id}", tag = "bodies",
    params(("id" = String, Path, description = "Body id (UUID) or key")),
    responses(
        (status = 200, description = "The body, with its ETag", body = BodyView),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such body", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn one_body(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    let lang = lang?;
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            let row = find_body(conn, &id)?;
            who.may(
                Action::Read,
                Target::Body {
                    body_id: Some(&row.id),
                },
            )?;
            body_view(conn, row, lang.0)
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

/// A body as the import format writes it. PUT sends all; PATCH a JSON merge patch of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyInput {
    /// Lowercase letters, digits and dashes.
    pub key: String,
    pub kind: BodyKind,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub name: LocalizedText,
    /// Key of the parent body (a sub-commission's commission).
    pub parent: Option<String>,
    /// Key of the agreement it serves.
    pub agreement: Option<String>,
    /// Party codes.
    #[serde(default)]
    pub parties: Vec<String>,
    /// Co-chair per party code (each one of `parties`).
    #[serde(default)]
    pub co_chairs: BTreeMap<String, String>,
    /// Ids of the contacts who form its secretariat (meeting reminders and
    /// escalations of overdue items go to them).
    #[serde(default)]
    pub secretariat: Vec<String>,
}

fn current_body_input(conn: &mut Conn, row: &BodyRow) -> AppResult<BodyInput> {
    let view = body_view(conn, row.clone(), Language::En)?;
    Ok(BodyInput {
        key: view.key,
        kind: view.kind,
        name: view.name,
        parent: view.parent,
        agreement: view.agreement,
        parties: view.parties,
        co_chairs: view.co_chairs,
        secretariat: view.secretariat,
    })
}

/// The contacts named as a body's secretariat, checked to exist, each once.
fn check_secretariat(conn: &mut Conn, input: &BodyInput) -> AppResult<Vec<String>> {
    let mut errors = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for (i, id) in input.secretariat.iter().enumerate() {
        let field = format!("secretariat[{i}]");
        if uuid::Uuid::parse_str(id).is_err() {
            errors.push(FieldError::new(
                field,
                format!("`{id}` is not a contact id (UUID)"),
            ));
        } else if ids.contains(id) {
            errors.push(FieldError::new(field, format!("`{id}` is named twice")));
        } else if store::organisations::contact_by_id(conn, id)?.is_none() {
            errors.push(FieldError::new(
                field,
                format!("contact {id} does not exist"),
            ));
        } else {
            ids.push(id.clone());
        }
    }
    if errors.is_empty() {
        Ok(ids)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// A checked input: the row (over `base`) and its members.
fn check_body(
    conn: &mut Conn,
    input: &BodyInput,
    base: BodyRow,
) -> AppResult<(BodyRow, Vec<BodyPartyRow>)> {
    let mut errors = Vec::new();
    let key = input.key.trim().to_string();
    if !is_key(&key) {
        errors.push(FieldError::new(
            "key",
            format!("`{key}` is not a key: use lowercase letters, digits and dashes"),
        ));
    } else if key != base.key && store::bodies::by_key(conn, &key)?.is_some() {
        errors.push(FieldError::new(
            "key",
            format!("body `{key}` already exists"),
        ));
    }
    let parent_id = match &input.parent {
        Some(p) => match store::bodies::by_key(conn, p)? {
            Some(parent) => {
                // Walk up from the new parent: meeting this body again would make a cycle.
                let mut cursor = Some(parent.clone());
                let mut steps = 0;
                while let Some(b) = cursor {
                    if b.id == base.id {
                        errors.push(FieldError::new(
                            "parent",
                            format!("`{p}` is this body or one of its sub-bodies"),
                        ));
                        break;
                    }
                    steps += 1;
                    if steps > 100 {
                        break;
                    }
                    cursor = match &b.parent_id {
                        Some(id) => store::bodies::by_id(conn, id)?,
                        None => None,
                    };
                }
                Some(parent.id)
            }
            None => {
                errors.push(FieldError::new("parent", format!("`{p}` is not a body")));
                None
            }
        },
        None => None,
    };
    let agreement_id = match &input.agreement {
        Some(a) => match store::agreements::by_key(conn, a)? {
            Some(a) => Some(a.id),
            None => {
                errors.push(FieldError::new(
                    "agreement",
                    format!("`{a}` is not an agreement"),
                ));
                None
            }
        },
        None => None,
    };
    let mut members: Vec<BodyPartyRow> = Vec::new();
    for (i, code) in input.parties.iter().enumerate() {
        match store::parties::by_code(conn, code)? {
            Some(p) if members.iter().any(|m| m.party_id == p.id) => errors.push(FieldError::new(
                format!("parties[{i}]"),
                format!("`{code}` is named twice"),
            )),
            Some(p) => members.push(BodyPartyRow {
                body_id: base.id.clone(),
                party_id: p.id,
                co_chair: input.co_chairs.get(code).cloned(),
            }),
            None => errors.push(FieldError::new(
                format!("parties[{i}]"),
                format!("`{code}` is not a party"),
            )),
        }
    }
    for (code, chair) in &input.co_chairs {
        if !input.parties.contains(code) {
            errors.push(FieldError::new(
                format!("co_chairs.{code}"),
                format!("`{code}` is not one of the body's parties"),
            ));
        } else if chair.trim().is_empty() {
            errors.push(FieldError::new(format!("co_chairs.{code}"), "is blank"));
        }
        check_length(&mut errors, &format!("co_chairs.{code}"), Some(chair), 200);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let row = BodyRow {
        key,
        kind: input.kind.as_str().to_string(),
        name: input.name.to_json(),
        parent_id,
        agreement_id,
        ..base
    };
    Ok((row, members))
}

#[utoipa::path(
    post, path = "/api/v1/bodies", tag = "bodies",
    request_body = BodyInput,
    responses(
        (status = 201, description = "Created; Location names it", body = BodyView),
        (status = 400, description = "Invalid body", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins create bodies", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_body(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    body: Result<JsonBody, AppError>,
) -> AppResult<HttpResponse> {
    who.may(Action::Create, Target::Body { body_id: None })?;
    let lang = lang?;
    let body = body?;
    refuse_nul(&body.0)?;
    let input: BodyInput = read(body.0)?;
    let ctx = write_context(&state, &who, &req);
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let base = BodyRow {
                    id: store::new_id(),
                    key: String::new(),
                    kind: String::new(),
                    name: String::new(),
                    parent_id: None,
                    agreement_id: None,
                    version: 1,
                    created_at: ctx.at,
                    updated_at: ctx.at,
                };
                let (row, members) = check_body(conn, &input, base)?;
                let secretariat = check_secretariat(conn, &input)?;
                let row = store::bodies::insert(conn, &ctx, row, &members)?;
                store::reminders::replace_secretariat(conn, &ctx, &row.id, &secretariat)?;
                body_view(conn, row, lang.0)
            })
        })
        .await?;
    Ok(created(
        format!("/api/v1/bodies/{}", view.id),
        view.version,
        &view,
    ))
}

async fn change_body(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Lang,
    id: String,
    body: serde_json::Value,
    patch: bool,
) -> AppResult<HttpResponse> {
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let st = state.clone();
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let stored = find_body(conn, &id)?;
                who.may(
                    Action::Update,
                    Target::Body {
                        body_id: Some(&stored.id),
                    },
                )?;
                refuse_nul(&body)?;
                let input: BodyInput = if patch {
                    let mut doc = serde_json::to_value(current_body_input(conn, &stored)?)
                        .map_err(|e| AppError::Internal(e.into()))?;
                    merge_patch(&mut doc, &body);
                    read(doc)?
                } else {
                    read(body)?
                };
                if stored.version != expected {
                    return Err(stale());
                }
                let (row, members) = check_body(conn, &input, stored.clone())?;
                let secretariat = check_secretariat(conn, &input)?;
                let row = match store::bodies::update(conn, &ctx, stored, row, expected, &members)?
                {
                    Versioned::Stale => return Err(stale()),
                    Versioned::Written(row) | Versioned::Unchanged(row) => row,
                };
                let row =
                    if store::reminders::replace_secretariat(conn, &ctx, &row.id, &secretariat)? {
                        // A new secretariat is a change of the body; its meetings'
                        // reminders and its escalations go to the new one.
                        if row.version == expected
                            && !store::reminders::bump_body_version(
                                conn, &row.id, expected, ctx.at,
                            )?
                        {
                            return Err(stale());
                        }
                        super::reminder_policies::replan_all(conn, &st)?;
                        store::bodies::by_id(conn, &row.id)?
                            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("body vanished")))?
                    } else {
                        row
                    };
                body_view(conn, row, lang.0)
            })
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

#[utoipa::path(
    put, path = "/api/v1/bodies/{id}", tag = "bodies",
    params(("id" = String, Path, description = "Body id (UUID) or key"), ("If-Match" = String, Header, description = "ETag of the version being replaced")),
    request_body = BodyInput,
    responses(
        (status = 200, description = "Replaced", body = BodyView),
        (status = 400, description = "Invalid", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a body your secretariat serves", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such body", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_body(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
    body: Result<JsonBody, AppError>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    change_body(state, req, who, lang?, id.into_inner(), body?.0, false).await
}

#[utoipa::path(
    patch, path = "/api/v1/bodies/{id}", tag = "bodies",
    params(("id" = String, Path, description = "Body id (UUID) or key"), ("If-Match" = String, Header, description = "ETag of the version being changed")),
    request_body(content = Object, description = "JSON merge patch (RFC 7396) of BodyInput", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = BodyView),
        (status = 400, description = "Invalid change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a body your secretariat serves", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such body", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn patch_body(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
    body: Result<JsonBody, AppError>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    change_body(state, req, who, lang?, id.into_inner(), body?.0, true).await
}

#[utoipa::path(
    delete, path = "/api/v1/bodies/{id}", tag = "bodies",
    params(("id" = String, Path, description = "Body id (UUID) or key"), ("If-Match" = String, Header, description = "ETag of the version being deleted")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Invalid If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a body your secretariat serves", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such body", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Meetings, programmes, sub-bodies or users still refer to it", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_body(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let stored = find_body(conn, &id)?;
                who.may(
                    Action::Delete,
                    Target::Body {
                        body_id: Some(&stored.id),
                    },
                )?;
                let refs = store::bodies::references(conn, &stored.id)?;
                if refs.meetings + refs.programmes + refs.children + refs.users > 0 {
                    return Err(AppError::Conflict(format!(
                        "body {} still has {} meeting(s), {} programme(s), {} sub-body(ies) and {} \
                         secretariat user(s); a body with a history is kept: rename it or move its \
                         programmes and sub-bodies instead",
                        stored.key, refs.meetings, refs.programmes, refs.children, refs.users
                    )));
                }
                if stored.version != expected {
                    return Err(stale());
                }
                // Its secretariat links go first, each audited (not a silent cascade).
                store::reminders::replace_secretariat(conn, &ctx, &stored.id, &[])?;
                if !store::bodies::delete(conn, &ctx, stored, expected)? {
                    return Err(stale());
                }
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- meetings

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MeetingListQuery {
    pub status: Option<MeetingStatus>,
    /// Held on or after this date.
    pub held_from: Option<NaiveDate>,
    /// Held on or before this date.
    pub held_to: Option<NaiveDate>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Language of the display values (also from Accept-Language).
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: String,
    pub body_id: String,
    /// Key of the body.
    pub body: String,
    pub number: i32,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub title: LocalizedText,
    pub title_display: String,
    pub date: NaiveDate,
    /// Local start time (HH:MM) in `time_zone`, when known.
    pub time: Option<String>,
    pub time_zone: String,
    /// The start as an instant, when the time is known.
    pub starts_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The tz database release that computed `starts_at`.
    pub tzdata_version: Option<String>,
    pub city: Option<String>,
    pub status: MeetingStatus,
    pub source: Option<String>,
    pub note: Option<String>,
    /// The deadlines its lead times give ("report to the secretariat 30 days before"), by due date.
    pub deadlines: Vec<super::lead_times::DeadlineView>,
    pub version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingPage {
    pub items: Vec<MeetingView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    pub total: i64,
}

fn local_time_text(local: NaiveDateTime) -> String {
    if local.time().format("%S").to_string() == "00" {
        local.format("%H:%M").to_string()
    } else {
        local.format("%H:%M:%S").to_string()
    }
}

/// One meeting's view, with its deadlines.
fn meeting_view_of(
    conn: &mut Conn,
    row: MeetingRow,
    body_key: &str,
    lang: Language,
) -> AppResult<MeetingView> {
    let deadlines = super::lead_times::deadlines_of_meetings(conn, &[&row], lang)?
        .remove(&row.id)
        .unwrap_or_default();
    meeting_view(row, body_key, deadlines, lang)
}

fn meeting_view(
    row: MeetingRow,
    body_key: &str,
    deadlines: Vec<super::lead_times::DeadlineView>,
    lang: Language,
) -> AppResult<MeetingView> {
    let title = stored_text(&row.title)?;
    Ok(MeetingView {
        title_display: title.display(lang).to_string(),
        title,
        body: body_key.to_string(),
        date: row.held_on,
        time: row.start_local.map(local_time_text),
        starts_at: row.starts_at.map(|t| t.and_utc()),
        status: MeetingStatus::parse(&row.status)
            .ok_or_else(|| corrupt("meeting status", &row.status))?,
        id: row.id,
        body_id: row.body_id,
        number: row.number,
        time_zone: row.time_zone,
        tzdata_version: row.tzdata_version,
        city: row.city,
        source: row.source,
        note: row.note,
        deadlines,
        version: row.version,
    })
}

#[utoipa::path(
    get, path = "/api/v1/bodies/{id}/meetings", tag = "bodies",
    params(("id" = String, Path, description = "Body id (UUID) or key"), MeetingListQuery),
    responses(
        (status = 200, description = "A page of the body's meetings by number", body = MeetingPage),
        (status = 400, description = "Invalid filter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such body", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_meetings(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
    query: Result<web::Query<MeetingListQuery>, actix_web::Error>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    let lang = lang?;
    let query = query.map_err(|e| AppError::BadRequest(e.to_string()))?;
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    if let (Some(from), Some(to)) = (q.held_from, q.held_to) {
        if to < from {
            return Err(AppError::invalid("held_to", "is before held_from"));
        }
    }
    let after = match q.cursor.as_deref() {
        Some(c) => Some(
            pagination::decode(c, 1)?
                .pop()
                .and_then(|n| n.parse::<i32>().ok())
                .ok_or_else(|| AppError::invalid("cursor", "is not a cursor this API gave out"))?,
        ),
        None => None,
    };
    let id = id.into_inner();
    let page = state
        .db(move |conn| {
            let body = find_body(conn, &id)?;
            who.may(
                Action::Read,
                Target::Body {
                    body_id: Some(&body.id),
                },
            )?;
            let filter = MeetingFilter {
                status: q.status.map(|s| s.as_str().to_string()),
                held_from: q.held_from,
                held_to: q.held_to,
            };
            let (mut rows, total) =
                store::bodies::meetings_page(conn, &body.id, &filter, after, limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = if more {
                rows.last()
                    .map(|r| pagination::encode(&[&r.number.to_string()]))
            } else {
                None
            };
            let refs: Vec<&MeetingRow> = rows.iter().collect();
            let mut deadlines = super::lead_times::deadlines_of_meetings(conn, &refs, lang.0)?;
            Ok(MeetingPage {
                items: rows
                    .into_iter()
                    .map(|r| {
                        let of_meeting = deadlines.remove(&r.id).unwrap_or_default();
                        meeting_view(r, &body.key, of_meeting, lang.0)
                    })
                    .collect::<AppResult<Vec<_>>>()?,
                next_cursor,
                total,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

fn default_status() -> MeetingStatus {
    MeetingStatus::Planned
}

/// A meeting of a body. PUT sends all; PATCH a JSON merge patch of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingInput {
    /// The meeting's number in the body's series (1 or more), unique per body.
    pub number: i32,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub title: LocalizedText,
    pub date: NaiveDate,
    /// Optional local start time, "HH:MM", in `time_zone`.
    pub time: Option<String>,
    /// IANA zone ("Europe/Moscow"); required with `time`, otherwise defaults
    /// to the zone of the body's first party (by code).
    pub time_zone: Option<String>,
    /// UTC offset ("+01:00") that picks the later of two instants when the
    /// local time occurs twice (a daylight-saving overlap); the earlier is taken otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
    pub city: Option<String>,
    /// Default planned.
    #[serde(default = "default_status")]
    pub status: MeetingStatus,
    pub source: Option<String>,
    pub note: Option<String>,
}

fn current_meeting_input(row: &MeetingRow) -> AppResult<MeetingInput> {
    // Keep the later instant of an overlap across a PATCH that does not touch the time.
    let offset = match (row.start_local, row.starts_at, parse_zone(&row.time_zone)) {
        (Some(local), Some(at), Ok(tz)) => {
            let earlier = resolve_local(local, tz, None).ok().map(|t| t.naive_utc());
            if earlier != Some(at) {
                let seconds = (local - at).num_seconds();
                i32::try_from(seconds)
                    .ok()
                    .and_then(FixedOffset::east_opt)
                    .map(|o| o.to_string())
            } else {
                None
            }
        }
        _ => None,
    };
    Ok(MeetingInput {
        number: row.number,
        title: stored_text(&row.title)?,
        date: row.held_on,
        time: row.start_local.map(local_time_text),
        time_zone: Some(row.time_zone.clone()),
        offset,
        city: row.city.clone(),
        status: MeetingStatus::parse(&row.status)
            .ok_or_else(|| corrupt("meeting status", &row.status))?,
        source: row.source.clone(),
        note: row.note.clone(),
    })
}

/// A checked meeting input over `base` (which carries the id and body).
fn check_meeting(conn: &mut Conn, input: &MeetingInput, base: MeetingRow) -> AppResult<MeetingRow> {
    let mut errors = Vec::new();
    if input.number < 1 {
        errors.push(FieldError::new(
            "number",
            format!("{} is not a meeting number (1 or more)", input.number),
        ));
    } else if input.number != base.number {
        if let Some(other) = store::bodies::meeting_by_number(conn, &base.body_id, input.number)? {
            if other.id != base.id {
                errors.push(FieldError::new(
                    "number",
                    format!("meeting {} of this body already exists", input.number),
                ));
            }
        }
    }
    let time = match &input.time {
        Some(t) => match NaiveTime::parse_from_str(t.trim(), "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(t.trim(), "%H:%M:%S"))
        {
            Ok(t) => Some(t),
            Err(_) => {
                errors.push(FieldError::new(
                    "time",
                    format!("`{t}` is not a time; write HH:MM"),
                ));
                None
            }
        },
        None => None,
    };
    let offset = match &input.offset {
        Some(o) => match o.trim().parse::<FixedOffset>() {
            Ok(o) => Some(o),
            Err(_) => {
                errors.push(FieldError::new(
                    "offset",
                    format!("`{o}` is not a UTC offset; write e.g. +01:00"),
                ));
                None
            }
        },
        None => None,
    };
    if input.offset.is_some() && input.time.is_none() {
        errors.push(FieldError::new(
            "offset",
            "only a meeting with a time has an offset",
        ));
    }
    let zone = match &input.time_zone {
        Some(z) => match parse_zone(z) {
            Ok(tz) => Some(tz),
            Err(e) => {
                errors.push(FieldError::new("time_zone", e));
                None
            }
        },
        None if input.time.is_some() => {
            errors.push(FieldError::new(
                "time_zone",
                "a meeting with a time needs its IANA time zone, e.g. Europe/Moscow",
            ));
            None
        }
        None => {
            let first = store::bodies::members_of(conn, std::slice::from_ref(&base.body_id))?
                .into_iter()
                .next();
            let zone = match first {
                Some((_, code, _)) => store::parties::by_code(conn, &code)?.map(|p| p.time_zone),
                None => None,
            };
            Some(
                zone.and_then(|z| parse_zone(&z).ok())
                    .unwrap_or(chrono_tz::UTC),
            )
        }
    };
    let mut start_local = None;
    let mut starts_at = None;
    if let (Some(time), Some(tz)) = (time, zone) {
        let local = input.date.and_time(time);
        match resolve_local(local, tz, offset) {
            Ok(instant) => {
                start_local = Some(local);
                starts_at = Some(instant.naive_utc());
            }
            Err(e) => {
                let field = match e {
                    crate::domain::zone::LocalTimeError::OffsetMismatch { .. } => "offset",
                    crate::domain::zone::LocalTimeError::Gap { .. } => "time",
                };
                errors.push(FieldError::new(field, e.to_string()));
            }
        }
    }
    check_length(&mut errors, "city", input.city.as_deref(), 200);
    check_length(&mut errors, "source", input.source.as_deref(), 1000);
    check_length(&mut errors, "note", input.note.as_deref(), 10_000);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(MeetingRow {
        number: input.number,
        title: input.title.to_json(),
        held_on: input.date,
        start_local,
        time_zone: zone
            .map(|z| z.name().to_string())
            .unwrap_or_else(|| "UTC".into()),
        starts_at,
        tzdata_version: starts_at.map(|_| tzdata_version().to_string()),
        city: input.city.clone(),
        status: input.status.as_str().to_string(),
        source: input.source.clone(),
        note: input.note.clone(),
        ..base
    })
}

#[utoipa::path(
    post, path = "/api/v1/bodies/{id}/meetings", tag = "bodies",
    params(("id" = String, Path, description = "Body id (UUID) or key")),
    request_body = MeetingInput,
    responses(
        (status = 201, description = "Created; Location names it", body = MeetingView),
        (status = 400, description = "Invalid meeting (a time in a daylight-saving gap says so)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a body your secretariat serves", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such body", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_meeting(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
    body: Result<JsonBody, AppError>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    let lang = lang?;
    let body = body?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    let st = state.clone();
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let owner = find_body(conn, &id)?;
                who.may(
                    Action::Create,
                    Target::Body {
                        body_id: Some(&owner.id),
                    },
                )?;
                refuse_nul(&body.0)?;
                let input: MeetingInput = read(body.0)?;
                let base = MeetingRow {
                    id: store::new_id(),
                    body_id: owner.id.clone(),
                    number: 0,
                    title: String::new(),
                    held_on: input.date,
                    start_local: None,
                    time_zone: String::new(),
                    starts_at: None,
                    tzdata_version: None,
                    city: None,
                    status: String::new(),
                    source: None,
                    note: None,
                    version: 1,
                    created_at: ctx.at,
                    updated_at: ctx.at,
                };
                let row = check_meeting(conn, &input, base)?;
                let row = store::bodies::insert_meeting(conn, &ctx, row)?;
                super::reminder_policies::replan_items(
                    conn,
                    &st,
                    &[Item::Meeting(row.id.clone())],
                )?;
                meeting_view(row, &owner.key, Vec::new(), lang.0)
            })
        })
        .await?;
    Ok(created(
        format!("/api/v1/meetings/{}", view.id),
        view.version,
        &view,
    ))
}

/// A meeting and its body, by meeting id.
fn find_meeting(conn: &mut Conn, id: &str) -> AppResult<(MeetingRow, BodyRow)> {
    uuid_or_400("id", id)?;
    let meeting = store::bodies::meeting_by_id(conn, id)?
        .ok_or_else(|| AppError::not_found("meeting", id))?;
    let body = store::bodies::by_id(conn, &meeting.body_id)?
        .ok_or_else(|| corrupt("meeting's body", &meeting.body_id))?;
    Ok((meeting, body))
}

#[utoipa::path(
    get, path = "/api/v1/meetings/{id}", tag = "bodies",
    params(("id" = String, Path, description = "Meeting id (UUID)")),
    responses(
        (status = 200, description = "The meeting, with its ETag", body = MeetingView),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn one_meeting(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    let lang = lang?;
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            let (meeting, body) = find_meeting(conn, &id)?;
            who.may(
                Action::Read,
                Target::Body {
                    body_id: Some(&body.id),
                },
            )?;
            meeting_view_of(conn, meeting, &body.key, lang.0)
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

async fn change_meeting(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Lang,
    id: String,
    body: serde_json::Value,
    patch: bool,
) -> AppResult<HttpResponse> {
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let st = state.clone();
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let (stored, owner) = find_meeting(conn, &id)?;
                who.may(
                    Action::Update,
                    Target::Body {
                        body_id: Some(&owner.id),
                    },
                )?;
                refuse_nul(&body)?;
                let input: MeetingInput = if patch {
                    let mut doc = serde_json::to_value(current_meeting_input(&stored)?)
                        .map_err(|e| AppError::Internal(e.into()))?;
                    merge_patch(&mut doc, &body);
                    read(doc)?
                } else {
                    read(body)?
                };
                if stored.version != expected {
                    return Err(stale());
                }
                let row = check_meeting(conn, &input, stored.clone())?;
                let row = match store::bodies::update_meeting(conn, &ctx, stored, row, expected)? {
                    Versioned::Stale => return Err(stale()),
                    Versioned::Written(row) | Versioned::Unchanged(row) => row,
                };
                // Its date, time or status moves its reminders and its lead times'.
                super::reminder_policies::replan_items(
                    conn,
                    &st,
                    &[Item::Meeting(row.id.clone())],
                )?;
                meeting_view_of(conn, row, &owner.key, lang.0)
            })
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

#[utoipa::path(
    put, path = "/api/v1/meetings/{id}", tag = "bodies",
    params(("id" = String, Path, description = "Meeting id (UUID)"), ("If-Match" = String, Header, description = "ETag of the version being replaced")),
    request_body = MeetingInput,
    responses(
        (status = 200, description = "Replaced", body = MeetingView),
        (status = 400, description = "Invalid", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a body your secretariat serves", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_meeting(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
    body: Result<JsonBody, AppError>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    change_meeting(state, req, who, lang?, id.into_inner(), body?.0, false).await
}

#[utoipa::path(
    patch, path = "/api/v1/meetings/{id}", tag = "bodies",
    params(("id" = String, Path, description = "Meeting id (UUID)"), ("If-Match" = String, Header, description = "ETag of the version being changed")),
    request_body(content = Object, description = "JSON merge patch (RFC 7396) of MeetingInput", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = MeetingView),
        (status = 400, description = "Invalid change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a body your secretariat serves", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn patch_meeting(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
    body: Result<JsonBody, AppError>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    change_meeting(state, req, who, lang?, id.into_inner(), body?.0, true).await
}

#[utoipa::path(
    delete, path = "/api/v1/meetings/{id}", tag = "bodies",
    params(("id" = String, Path, description = "Meeting id (UUID)"), ("If-Match" = String, Header, description = "ETag of the version being deleted")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Invalid id or If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a body your secretariat serves", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "It has decisions or protocol items", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_meeting(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    let st = state.clone();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let (stored, owner) = find_meeting(conn, &id)?;
                who.may(
                    Action::Delete,
                    Target::Body {
                        body_id: Some(&owner.id),
                    },
                )?;
                let (decisions, items) = store::bodies::meeting_references(conn, &stored.id)?;
                if decisions + items > 0 {
                    return Err(AppError::Conflict(format!(
                        "meeting {} has {decisions} decision(s) and {items} protocol item(s): \
                         its record is kept; set its status to cancelled or postponed instead",
                        stored.number
                    )));
                }
                if stored.version != expected {
                    return Err(stale());
                }
                // Its reminders and its lead times' go before it.
                super::reminder_policies::forget_item(conn, &st, Item::Meeting(stored.id.clone()))?;
                // Its lead times go with it, each deletion audited.
                store::lead_times::delete_of_anchor(
                    conn,
                    &ctx,
                    crate::domain::deadlines::AnchorKind::Meeting,
                    &stored.id,
                )?;
                if !store::bodies::delete_meeting(conn, &ctx, stored, expected)? {
                    return Err(stale());
                }
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------- decisions

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DecisionListQuery {
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Language of the display values (also from Accept-Language).
    pub lang: Option<String>,
}

/// What a decision did to one item.
#[derive(Debug, Serialize, ToSchema)]
pub struct EffectView {
    pub obligation_id: String,
    /// The item's number in its programme or protocol.
    pub obligation_number: String,
    pub effect: DecisionKind,
    pub before_lifecycle: Lifecycle,
    pub after_lifecycle: Lifecycle,
    pub before_timeframe: String,
    pub after_timeframe: String,
    pub superseded_by: Option<String>,
    pub applied_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    pub id: String,
    pub meeting_id: String,
    pub number: String,
    pub kind: DecisionKind,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub text: LocalizedText,
    pub text_display: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The items it postponed, cancelled, superseded or closed.
    pub effects: Vec<EffectView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionPage {
    pub items: Vec<DecisionView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    pub total: i64,
}

fn effect_view(effect: DecisionEffectRow, number: String) -> AppResult<EffectView> {
    let lifecycle =
        |s: &str| Lifecycle::parse(s).ok_or_else(|| corrupt("lifecycle of an effect", s));
    Ok(EffectView {
        obligation_number: number,
        effect: DecisionKind::parse(&effect.effect)
            .ok_or_else(|| corrupt("effect", &effect.effect))?,
        before_lifecycle: lifecycle(&effect.before_lifecycle)?,
        after_lifecycle: lifecycle(&effect.after_lifecycle)?,
        applied_at: effect.applied_at.and_utc(),
        obligation_id: effect.obligation_id,
        before_timeframe: effect.before_timeframe,
        after_timeframe: effect.after_timeframe,
        superseded_by: effect.superseded_by,
    })
}

fn decision_view(conn: &mut Conn, row: DecisionRow, lang: Language) -> AppResult<DecisionView> {
    let effects = store::bodies::effects_of_decision(conn, &row.id)?
        .into_iter()
        .map(|(effect, number)| effect_view(effect, number))
        .collect::<AppResult<Vec<_>>>()?;
    let text = stored_text(&row.text)?;
    Ok(DecisionView {
        text_display: text.display(lang).to_string(),
        text,
        kind: DecisionKind::parse(&row.kind).ok_or_else(|| corrupt("decision kind", &row.kind))?,
        created_at: row.created_at.and_utc(),
        id: row.id,
        meeting_id: row.meeting_id,
        number: row.number,
        effects,
    })
}

#[utoipa::path(
    get, path = "/api/v1/meetings/{id}/decisions", tag = "bodies",
    params(("id" = String, Path, description = "Meeting id (UUID)"), DecisionListQuery),
    responses(
        (status = 200, description = "A page of the meeting's decisions by number", body = DecisionPage),
        (status = 400, description = "Invalid id or filter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_decisions(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
    query: Result<web::Query<DecisionListQuery>, actix_web::Error>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    let lang = lang?;
    let query = query.map_err(|e| AppError::BadRequest(e.to_string()))?;
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after = key_cursor(q.cursor.as_deref())?;
    let id = id.into_inner();
    let page = state
        .db(move |conn| {
            let (meeting, body) = find_meeting(conn, &id)?;
            who.may(
                Action::Read,
                Target::Body {
                    body_id: Some(&body.id),
                },
            )?;
            let (mut rows, total) =
                store::bodies::decisions_page(conn, &meeting.id, after.as_deref(), limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = if more {
                rows.last().map(|r| pagination::encode(&[&r.number]))
            } else {
                None
            };
            Ok(DecisionPage {
                items: rows
                    .into_iter()
                    .map(|r| decision_view(conn, r, lang.0))
                    .collect::<AppResult<Vec<_>>>()?,
                next_cursor,
                total,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A decision of a meeting. Postpone, cancel, supersede and close decisions
/// apply to the items named in `effects`, in the same transaction.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// Its number in the protocol ("1", "3.2"), unique per meeting.
    pub number: String,
    pub kind: DecisionKind,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub text: LocalizedText,
    /// The items it changes (postpone, cancel, supersede, close only).
    #[serde(default)]
    pub effects: Vec<EffectInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EffectInput {
    /// Item id (UUID): of a programme of the meeting's body, or of its protocol.
    pub obligation: String,
    /// The new timeframe of a postponed item ("II quarter 2026"); postpone only, and required there.
    pub timeframe: Option<String>,
    /// Item id (UUID) of the item that carries this one on; supersede only.
    pub superseded_by: Option<String>,
}

/// One effect, checked: the item as stored and as it becomes, and the record.
struct PlannedEffect {
    stored: ObligationRow,
    changed: ObligationRow,
    record: DecisionEffectRow,
}

/// Checks every effect against its item; all problems at once, naming `effects[i]`.
fn plan_effects(
    conn: &mut Conn,
    meeting: &MeetingRow,
    decision_id: &str,
    kind: DecisionKind,
    effects: &[EffectInput],
    at: NaiveDateTime,
    errors: &mut Vec<FieldError>,
) -> AppResult<Vec<PlannedEffect>> {
    let target = match kind {
        DecisionKind::Postpone => Some(Lifecycle::Postponed),
        DecisionKind::Cancel => Some(Lifecycle::Cancelled),
        DecisionKind::Supersede => Some(Lifecycle::Superseded),
        DecisionKind::Close => Some(Lifecycle::Completed),
        DecisionKind::Create | DecisionKind::Amend | DecisionKind::Note => None,
    };
    let Some(target) = target else {
        if !effects.is_empty() {
            errors.push(FieldError::new(
                "effects",
                format!(
                    "a {kind} decision changes no items by itself; only postpone, cancel, supersede \
                     and close decisions name effects (change items with PUT or PATCH /api/v1/obligations/{{id}})"
                ),
            ));
        }
        return Ok(vec![]);
    };
    let mut planned: Vec<PlannedEffect> = Vec::new();
    for (i, e) in effects.iter().enumerate() {
        let path = format!("effects[{i}]");
        if uuid::Uuid::parse_str(&e.obligation).is_err() {
            errors.push(FieldError::new(
                format!("{path}.obligation"),
                format!("`{}` is not a UUID", e.obligation),
            ));
            continue;
        }
        let Some(stored) = store::obligations::by_id(conn, &e.obligation)? else {
            errors.push(FieldError::new(
                format!("{path}.obligation"),
                format!("item {} does not exist", e.obligation),
            ));
            continue;
        };
        let programme = match &stored.programme_id {
            Some(p) => store::programmes::by_id(conn, p)?,
            None => None,
        };
        let of_this_body = programme
            .as_ref()
            .is_some_and(|p| p.body_id.as_deref() == Some(meeting.body_id.as_str()));
        let of_this_protocol = stored.meeting_id.as_deref() == Some(meeting.id.as_str());
        if !of_this_body && !of_this_protocol {
            errors.push(FieldError::new(
                format!("{path}.obligation"),
                format!(
                    "item {} belongs neither to a programme of this meeting's body nor to this meeting's protocol",
                    stored.number
                ),
            ));
            continue;
        }
        if planned.iter().any(|p| p.stored.id == stored.id) {
            errors.push(FieldError::new(
                format!("{path}.obligation"),
                format!("item {} is named twice", stored.number),
            ));
            continue;
        }
        let current = Lifecycle::parse(&stored.lifecycle)
            .ok_or_else(|| corrupt("lifecycle", &stored.lifecycle))?;
        let mut ok = true;
        if let Err(e) = current.transition(target) {
            errors.push(FieldError::new(
                path.clone(),
                format!("item {}: {e}", stored.number),
            ));
            ok = false;
        }
        let mut changed = ObligationRow {
            lifecycle: target.as_str().to_string(),
            ..stored.clone()
        };
        match (&e.timeframe, kind) {
            (Some(text), DecisionKind::Postpone) => {
                let period = programme.as_ref().map(|p| Period {
                    start: p.period_start,
                    end: p.period_end,
                });
                match Timeframe::parse(text, period) {
                    Ok(t) => {
                        changed.timeframe_kind = t.kind.as_str().to_string();
                        changed.timeframe_text = t.source;
                        changed.earliest = t.earliest;
                        changed.latest = t.latest;
                    }
                    Err(err) => {
                        errors.push(FieldError::new(
                            format!("{path}.timeframe"),
                            err.to_string(),
                        ));
                        ok = false;
                    }
                }
            }
            (None, DecisionKind::Postpone) => {
                errors.push(FieldError::new(
                    format!("{path}.timeframe"),
                    "a postponed item needs its new timeframe, e.g. II quarter 2026",
                ));
                ok = false;
            }
            (Some(_), _) => {
                errors.push(FieldError::new(
                    format!("{path}.timeframe"),
                    "only a postpone decision sets a new timeframe",
                ));
                ok = false;
            }
            (None, _) => {}
        }
        let superseded_by = match (&e.superseded_by, kind) {
            (Some(other), DecisionKind::Supersede) => {
                if uuid::Uuid::parse_str(other).is_err() {
                    errors.push(FieldError::new(
                        format!("{path}.superseded_by"),
                        format!("`{other}` is not a UUID"),
                    ));
                    ok = false;
                    None
                } else if other == &stored.id {
                    errors.push(FieldError::new(
                        format!("{path}.superseded_by"),
                        "an item cannot supersede itself",
                    ));
                    ok = false;
                    None
                } else if store::obligations::by_id(conn, other)?.is_none() {
                    errors.push(FieldError::new(
                        format!("{path}.superseded_by"),
                        format!("item {other} does not exist"),
                    ));
                    ok = false;
                    None
                } else {
                    Some(other.clone())
                }
            }
            (Some(_), _) => {
                errors.push(FieldError::new(
                    format!("{path}.superseded_by"),
                    "only a supersede decision names the item that carries this one on",
                ));
                ok = false;
                None
            }
            (None, _) => None,
        };
        if !ok {
            continue;
        }
        let same = changed.lifecycle == stored.lifecycle
            && changed.timeframe_text == stored.timeframe_text
            && changed.earliest == stored.earliest
            && changed.latest == stored.latest;
        if same {
            errors.push(FieldError::new(
                path.clone(),
                format!(
                    "item {} is already {}{}: this decision would change nothing",
                    stored.number,
                    stored.lifecycle,
                    if kind == DecisionKind::Postpone {
                        format!(" to {}", stored.timeframe_text)
                    } else {
                        String::new()
                    }
                ),
            ));
            continue;
        }
        let record = DecisionEffectRow {
            decision_id: decision_id.to_string(),
            obligation_id: stored.id.clone(),
            effect: kind.as_str().to_string(),
            before_lifecycle: stored.lifecycle.clone(),
            after_lifecycle: changed.lifecycle.clone(),
            before_timeframe: stored.timeframe_text.clone(),
            after_timeframe: changed.timeframe_text.clone(),
            superseded_by,
            applied_at: at,
        };
        planned.push(PlannedEffect {
            stored,
            changed,
            record,
        });
    }
    Ok(planned)
}

#[utoipa::path(
    post, path = "/api/v1/meetings/{id}/decisions", tag = "bodies",
    params(("id" = String, Path, description = "Meeting id (UUID)")),
    request_body = DecisionInput,
    responses(
        (status = 201, description = "Recorded, and applied to the items it names; Location names it", body = DecisionView),
        (status = 400, description = "Invalid decision or effect (naming effects[i])", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a body your secretariat serves", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "An item changed while the decision was applied; try again", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_decision(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
    body: Result<JsonBody, AppError>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    let lang = lang?;
    let body = body?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    let st = state.clone();
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let (meeting, owner) = find_meeting(conn, &id)?;
                who.may(
                    Action::Create,
                    Target::Body {
                        body_id: Some(&owner.id),
                    },
                )?;
                refuse_nul(&body.0)?;
                let input: DecisionInput = read(body.0)?;
                let mut errors = Vec::new();
                let number = input.number.trim().to_string();
                if number.is_empty() || number.chars().count() > 20 {
                    errors.push(FieldError::new(
                        "number",
                        "a decision number is 1 to 20 characters, e.g. 3 or 2.1",
                    ));
                } else if store::bodies::decision_by_number(conn, &meeting.id, &number)?.is_some() {
                    errors.push(FieldError::new(
                        "number",
                        format!("decision {number} of this meeting already exists"),
                    ));
                }
                let decision_id = store::new_id();
                let planned = plan_effects(
                    conn,
                    &meeting,
                    &decision_id,
                    input.kind,
                    &input.effects,
                    ctx.at,
                    &mut errors,
                )?;
                if !errors.is_empty() {
                    return Err(AppError::Validation(errors));
                }
                let row = store::bodies::insert_decision(
                    conn,
                    &ctx,
                    DecisionRow {
                        id: decision_id,
                        meeting_id: meeting.id.clone(),
                        number,
                        kind: input.kind.as_str().to_string(),
                        text: input.text.to_json(),
                        created_at: ctx.at,
                    },
                )?;
                let affected: Vec<Item> = planned
                    .iter()
                    .map(|p| Item::Obligation(p.stored.id.clone()))
                    .collect();
                for p in planned {
                    let number = p.stored.number.clone();
                    match store::bodies::apply_effect(conn, &ctx, p.stored, p.changed, &p.record)? {
                        Versioned::Stale => {
                            return Err(AppError::Conflict(format!(
                                "item {number} changed while this decision was applied; nothing was \
                                 recorded: send the decision again"
                            )));
                        }
                        // A postponed yearly item recurs on its new dates.
                        Versioned::Written(row) => store::obligations::sync_occurrences(conn, &row)?,
                        Versioned::Unchanged(_) => {}
                    }
                }
                // Postponed, cancelled, closed: the items' reminders follow the decision.
                super::reminder_policies::replan_items(conn, &st, &affected)?;
                decision_view(conn, row, lang.0)
            })
        })
        .await?;
    Ok(created(format!("/api/v1/decisions/{}", view.id), 1, &view))
}

#[utoipa::path(
    get, path = "/api/v1/decisions/{id}", tag = "bodies",
    params(("id" = String, Path, description = "Decision id (UUID)")),
    responses(
        (status = 200, description = "The decision and what it did to each item (decisions are not versioned: the ETag is always 1)", body = DecisionView),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such decision", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn one_decision(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Body { body_id: None })?;
    let lang = lang?;
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            uuid_or_400("id", &id)?;
            let row = store::bodies::decision_by_id(conn, &id)?
                .ok_or_else(|| AppError::not_found("decision", &id))?;
            let (_, body) = find_meeting(conn, &row.meeting_id)?;
            who.may(
                Action::Read,
                Target::Body {
                    body_id: Some(&body.id),
                },
            )?;
            decision_view(conn, row, lang.0)
        })
        .await?;
    Ok(ok_with_etag(1, &view))
}

/// A decision that changed an item, and what it did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDecisionView {
    pub decision_id: String,
    pub decision_number: String,
    pub kind: DecisionKind,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub text: LocalizedText,
    pub text_display: String,
    pub meeting_id: String,
    pub meeting_number: i32,
    pub meeting_date: NaiveDate,
    pub body_id: String,
    pub effect: EffectView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDecisions {
    /// Oldest first.
    pub items: Vec<ItemDecisionView>,
}

#[utoipa::path(
    get, path = "/api/v1/obligations/{id}/decisions", tag = "obligations",
    params(("id" = String, Path, description = "Item id (UUID)")),
    responses(
        (status = 200, description = "The decisions that changed the item, oldest first", body = ItemDecisions),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not public: needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn obligation_decisions(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let lang = lang?;
    let id = id.into_inner();
    let page = state
        .db(move |conn| {
            uuid_or_400("id", &id)?;
            let item = store::obligations::by_id(conn, &id)?
                .ok_or_else(|| AppError::not_found("obligation", &id))?;
            let (body_id, public) = match (&item.programme_id, &item.meeting_id) {
                (Some(p), _) => match store::programmes::by_id(conn, p)? {
                    Some(p) => (p.body_id, p.public),
                    None => return Err(corrupt("programme of an item", p)),
                },
                (None, Some(m)) => (
                    store::bodies::meeting_by_id(conn, m)?.map(|m| m.body_id),
                    false,
                ),
                (None, None) => (None, false),
            };
            let assigned: Vec<String> =
                store::obligations::assignments_of(conn, std::slice::from_ref(&item.id))?
                    .into_iter()
                    .map(|a| a.organisation_id)
                    .collect();
            who.may(
                Action::Read,
                Target::Obligation {
                    body_id: body_id.as_deref(),
                    public,
                    assigned: &assigned,
                },
            )?;
            let items = store::bodies::effects_on_obligation(conn, &item.id)?
                .into_iter()
                .map(|(effect, decision, meeting)| {
                    let text = stored_text(&decision.text)?;
                    Ok(ItemDecisionView {
                        text_display: text.display(lang.0).to_string(),
                        text,
                        kind: DecisionKind::parse(&decision.kind)
                            .ok_or_else(|| corrupt("decision kind", &decision.kind))?,
                        decision_id: decision.id,
                        decision_number: decision.number,
                        meeting_id: meeting.id,
                        meeting_number: meeting.number,
                        meeting_date: meeting.held_on,
                        body_id: meeting.body_id,
                        effect: effect_view(effect, item.number.clone())?,
                    })
                })
                .collect::<AppResult<Vec<_>>>()?;
            Ok(ItemDecisions { items })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The routes of this module, under /api/v1.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/bodies", web::get().to(list_bodies))
        .route("/bodies", web::post().to(create_body))
        .route("/bodies/{id}", web::get().to(one_body))
        .route("/bodies/{id}", web::put().to(put_body))
        .route("/bodies/{id}", web::patch().to(patch_body))
        .route("/bodies/{id}", web::delete().to(delete_body))
        .route("/bodies/{id}/meetings", web::get().to(list_meetings))
        .route("/bodies/{id}/meetings", web::post().to(create_meeting))
        .route("/meetings/{id}", web::get().to(one_meeting))
        .route("/meetings/{id}", web::put().to(put_meeting))
        .route("/meetings/{id}", web::patch().to(patch_meeting))
        .route("/meetings/{id}", web::delete().to(delete_meeting))
        .route("/meetings/{id}/decisions", web::get().to(list_decisions))
        .route("/meetings/{id}/decisions", web::post().to(create_decision))
        .route("/decisions/{id}", web::get().to(one_decision))
        .route(
            "/obligations/{id}/decisions",
            web::get().to(obligation_decisions),
        );
}

/// The OpenAPI paths of this module.
#[derive(OpenApi)]
#[openapi(
    paths(
        list_bodies,
        one_body,
        create_body,
        put_body,
        patch_body,
        delete_body,
        list_meetings,
        create_meeting,
        one_meeting,
        put_meeting,
        patch_meeting,
        delete_meeting,
        list_decisions,
        create_decision,
        one_decision,
        obligation_decisions,
    ),
    tags((name = "bodies", description = "Commissions and sub-commissions, their meetings and decisions"))
)]
pub struct Doc;
