//! Parties: the states (ISO 3166-1) and regions (ISO 3166-2) of agreements
//! and programmes. Anyone reads them; only admins change them.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::auth::{write_context, Authenticated};
use super::body::{merge_patch, read, JsonBody};
use super::etag::{expected_version, ok_with_etag, stale, with_etag};
use super::lang::Lang;
use super::pagination;
use super::programmes::text;
use super::AppState;
use crate::db::Conn;
use crate::domain::access::{Action, Target};
use crate::domain::keys::is_party_code;
use crate::domain::zone::parse_zone;
use crate::domain::{Language, LocalizedText};
use crate::error::{AppError, AppResult, FieldError};
use crate::store::parties::{PartyFilter, PartyRow};
use crate::store::{self, Versioned};

/// The routes of this module, under /api/v1.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/parties", web::get().to(list))
        .route("/parties", web::post().to(create))
        .route("/parties/{code}", web::get().to(one))
        .route("/parties/{code}", web::put().to(put))
        .route("/parties/{code}", web::patch().to(patch))
        .route("/parties/{code}", web::delete().to(delete));
}

/// The OpenAPI paths of this module.
#[derive(OpenApi)]
#[openapi(
    paths(list, one, create, put, patch, delete),
    tags((name = "parties", description = "States and their regions"))
)]
pub struct Doc;

/// A language code, one of those `domain::Language` knows.
pub struct LanguageCode;

impl utoipa::PartialSchema for LanguageCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Language::ALL.iter().map(|l| l.code())))
            .into()
    }
}

impl ToSchema for LanguageCode {}

/// A state, or a region of a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PartyKind {
    /// ISO 3166-1 alpha-2: KZ.
    State,
    /// ISO 3166-2: KZ-KUS; belongs to a state.
    Region,
}

fn code_error(code: &str) -> FieldError {
    FieldError::new(
        "code",
        format!("`{code}` is not an ISO 3166 code such as KZ (a state) or KZ-KUS (a region)"),
    )
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// States or regions only.
    pub kind: Option<PartyKind>,
    /// Code of a state: its regions.
    #[param(pattern = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
    pub parent: Option<String>,
    /// Text to find in the code or the name in any language, ignoring case.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Language of the display values (also from Accept-Language).
    #[param(value_type = Option<LanguageCode>)]
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartyView {
    pub id: String,
    /// ISO 3166 code.
    pub code: String,
    pub kind: PartyKind,
    /// The state of a region.
    pub parent: Option<String>,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub name: LocalizedText,
    /// The name in the reader's language (then Russian, then English).
    pub name_display: String,
    /// Default IANA time zone.
    pub time_zone: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartyPage {
    pub items: Vec<PartyView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many parties match.
    pub total: i64,
}

fn view(row: PartyRow, parent: Option<String>, lang: Language) -> AppResult<PartyView> {
    let name = text(&row.name)?;
    Ok(PartyView {
        id: row.id,
        code: row.code,
        kind: if row.parent_id.is_some() {
            PartyKind::Region
        } else {
            PartyKind::State
        },
        parent,
        name_display: name.display(lang).to_string(),
        name,
        time_zone: row.time_zone,
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn view_one(conn: &mut Conn, row: PartyRow, lang: Language) -> AppResult<PartyView> {
    let parent = match &row.parent_id {
        Some(id) => store::parties::by_id(conn, id)?.map(|p| p.code),
        None => None,
    };
    view(row, parent, lang)
}

#[utoipa::path(
    get, path = "/api/v1/parties", tag = "parties",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of parties by code", body = PartyPage),
        (status = 400, description = "Invalid filter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: Lang,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Party)?;
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    if q.q.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(AppError::invalid("q", "is longer than 200 characters"));
    }
    if let Some(parent) = q.parent.as_deref().filter(|p| !is_party_code(p)) {
        return Err(AppError::invalid(
            "parent",
            format!("`{parent}` is not an ISO 3166 code"),
        ));
    }
    let after = match &q.cursor {
        Some(c) => pagination::decode(c, 1)?.pop(),
        None => None,
    };
    let page = state
        .db(move |conn| {
            let mut filter = PartyFilter {
                states: q.kind.map(|k| k == PartyKind::State),
                text: q
                    .q
                    .as_ref()
                    .map(|t| t.trim().to_lowercase())
                    .filter(|t| !t.is_empty()),
                ..PartyFilter::default()
            };
            if let Some(code) = &q.parent {
                match store::parties::by_code(conn, code)? {
                    Some(p) => filter.parent_id = Some(p.id),
                    None => {
                        return Ok(PartyPage {
                            items: vec![],
                            next_cursor: None,
                            total: 0,
                        })
                    }
                }
            }
            let mut rows = store::parties::search(conn, &filter, after.as_deref(), limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = if more {
                rows.last().map(|r| pagination::encode(&[&r.code]))
            } else {
                None
            };
            let parent_ids: Vec<String> = rows.iter().filter_map(|r| r.parent_id.clone()).collect();
            let parents: std::collections::HashMap<String, String> =
                store::parties::codes_of(conn, &parent_ids)?
                    .into_iter()
                    .collect();
            let total = store::parties::count(conn, &filter)?;
            let items = rows
                .into_iter()
                .map(|r| {
                    let parent = r.parent_id.as_ref().and_then(|p| parents.get(p).cloned());
                    view(r, parent, lang.0)
                })
                .collect::<AppResult<Vec<_>>>()?;
            Ok(PartyPage {
                items,
                next_cursor,
                total,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

fn find(conn: &mut Conn, code: &str) -> AppResult<PartyRow> {
    if !is_party_code(code) {
        return Err(AppError::Validation(vec![code_error(code)]));
    }
    store::parties::by_code(conn, code)?.ok_or_else(|| AppError::not_found("party", code))
}

#[utoipa::path(
    get, path = "/api/v1/parties/{code}", tag = "parties",
    params(("code" = String, Path, description = "ISO 3166 code: KZ, RU-SVE", pattern = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")),
    responses(
        (status = 200, description = "The party, with its ETag", body = PartyView),
        (status = 400, description = "Not an ISO 3166 code", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such party", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn one(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: Lang,
    code: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Party)?;
    let code = code.into_inner();
    let view = state
        .db(move |conn| {
            let row = find(conn, &code)?;
            view_one(conn, row, lang.0)
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

/// A new party.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewParty {
    /// ISO 3166-1 alpha-2 (KZ) for a state, ISO 3166-2 (KZ-KUS) for a region.
    #[schema(pattern = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$", example = "KZ-KUS")]
    pub code: String,
    /// A region's state (the code it starts with); none for a state.
    #[schema(pattern = r"^[A-Z]{2}$", example = "KZ")]
    pub parent: Option<String>,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub name: LocalizedText,
    /// IANA time zone name.
    #[schema(example = "Asia/Almaty")]
    pub time_zone: String,
}

/// The changeable fields of a party (its code is its identity). PUT sends
/// all; PATCH sends a JSON merge patch of them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyInput {
    /// A region's state (the code it starts with); none for a state.
    #[schema(pattern = r"^[A-Z]{2}$", example = "KZ")]
    pub parent: Option<String>,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub name: LocalizedText,
    /// IANA time zone name.
    #[schema(example = "Asia/Almaty")]
    pub time_zone: String,
}

/// Checks a party's fields; returns its parent's id and the zone's canonical name.
fn check(
    conn: &mut Conn,
    code: &str,
    input: &PartyInput,
    mut errors: Vec<FieldError>,
) -> AppResult<(Option<String>, String)> {
    let zone = match parse_zone(&input.time_zone) {
        Ok(tz) => Some(tz.name().to_string()),
        Err(e) => {
            errors.push(FieldError::new("time_zone", e));
            None
        }
    };
    let parent_id = match &input.parent {
        Some(parent) => {
            let mut id = None;
            if !code.starts_with(&format!("{parent}-")) {
                errors.push(FieldError::new(
                    "parent",
                    format!("region `{code}` does not belong to `{parent}`: its code starts with its state's"),
                ));
            } else {
                match store::parties::by_code(conn, parent)? {
                    Some(p) if p.parent_id.is_none() => id = Some(p.id),
                    Some(_) => errors.push(FieldError::new(
                        "parent",
                        format!("`{parent}` is a region; a region's parent is a state"),
                    )),
                    None => errors.push(FieldError::new(
                        "parent",
                        format!("party `{parent}` does not exist"),
                    )),
                }
            }
            id
        }
        None => {
            if code.contains('-') {
                errors.push(FieldError::new(
                    "parent",
                    format!("region `{code}` needs its state as parent"),
                ));
            }
            None
        }
    };
    match zone {
        Some(zone) if errors.is_empty() => Ok((parent_id, zone)),
        _ => Err(AppError::Validation(errors)),
    }
}

fn created(view: &PartyView) -> HttpResponse {
    let mut builder = with_etag(HttpResponse::Created(), view.version);
    builder.insert_header((
        actix_web::http::header::LOCATION,
        format!("/api/v1/parties/{}", view.code),
    ));
    builder.json(view)
}

#[utoipa::path(
    post, path = "/api/v1/parties", tag = "parties",
    request_body = NewParty,
    responses(
        (status = 201, description = "Created; Location names it", body = PartyView),
        (status = 400, description = "Invalid party", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins change parties", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code exists already", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Lang,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.may(Action::Create, Target::Party)?;
    let input: NewParty = read(body.0)?;
    let ctx = write_context(&state, &who, &req);
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let code = input.code.clone();
                let errors = if is_party_code(&code) {
                    vec![]
                } else {
                    vec![code_error(&code)]
                };
                let fields = PartyInput {
                    parent: input.parent,
                    name: input.name,
                    time_zone: input.time_zone,
                };
                let (parent_id, zone) = check(conn, &code, &fields, errors)?;
                if store::parties::by_code(conn, &code)?.is_some() {
                    return Err(AppError::Conflict(format!(
                        "party `{code}` exists already; change it with PUT /api/v1/parties/{code}"
                    )));
                }
                let row = store::parties::create(
                    conn,
                    &ctx,
                    PartyRow {
                        id: store::new_id(),
                        code,
                        parent_id,
                        name: fields.name.to_json(),
                        time_zone: zone,
                        version: 1,
                        created_at: ctx.at,
                        updated_at: ctx.at,
                    },
                )?;
                view_one(conn, row, lang.0)
            })
        })
        .await?;
    Ok(created(&view))
}

fn current_input(conn: &mut Conn, row: &PartyRow) -> AppResult<PartyInput> {
    Ok(PartyInput {
        parent: match &row.parent_id {
            Some(id) => store::parties::by_id(conn, id)?.map(|p| p.code),
            None => None,
        },
        name: text(&row.name)?,
        time_zone: row.time_zone.clone(),
    })
}

async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Lang,
    code: String,
    body: serde_json::Value,
    patch: bool,
) -> AppResult<HttpResponse> {
    who.may(Action::Update, Target::Party)?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let stored = find(conn, &code)?;
                let input: PartyInput = if patch {
                    let mut doc = serde_json::to_value(current_input(conn, &stored)?)
                        .map_err(|e| AppError::Internal(e.into()))?;
                    merge_patch(&mut doc, &body);
                    read(doc)?
                } else {
                    read(body)?
                };
                if stored.version != expected {
                    return Err(stale());
                }
                let (parent_id, zone) = check(conn, &stored.code, &input, vec![])?;
                let new = PartyRow {
                    parent_id,
                    name: input.name.to_json(),
                    time_zone: zone,
                    ..stored.clone()
                };
                let row = match store::parties::update(conn, &ctx, stored, new, expected)? {
                    Versioned::Stale => return Err(stale()),
                    Versioned::Written(row) | Versioned::Unchanged(row) => row,
                };
                view_one(conn, row, lang.0)
            })
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

#[utoipa::path(
    put, path = "/api/v1/parties/{code}", tag = "parties",
    params(("code" = String, Path, description = "ISO 3166 code", pattern = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"), ("If-Match" = String, Header, description = "ETag of the version being replaced")),
    request_body = PartyInput,
    responses(
        (status = 200, description = "Replaced", body = PartyView),
        (status = 400, description = "Invalid", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins change parties", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such party", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Lang,
    code: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    change(state, req, who, lang, code.into_inner(), body.0, false).await
}

#[utoipa::path(
    patch, path = "/api/v1/parties/{code}", tag = "parties",
    params(("code" = String, Path, description = "ISO 3166 code", pattern = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"), ("If-Match" = String, Header, description = "ETag of the version being changed")),
    request_body(content = Object, description = "JSON merge patch (RFC 7396) of PartyInput", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = PartyView),
        (status = 400, description = "Invalid change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins change parties", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such party", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Lang,
    code: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    change(state, req, who, lang, code.into_inner(), body.0, true).await
}

#[utoipa::path(
    delete, path = "/api/v1/parties/{code}", tag = "parties",
    params(("code" = String, Path, description = "ISO 3166 code", pattern = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"), ("If-Match" = String, Header, description = "ETag of the version being deleted")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Not an ISO 3166 code", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins change parties", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such party", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Still referenced", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    code: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Delete, Target::Party)?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let code = code.into_inner();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let stored = find(conn, &code)?;
                if stored.version != expected {
                    return Err(stale());
                }
                let refs = store::parties::references(conn, &stored.id)?;
                if !refs.is_empty() {
                    return Err(AppError::Conflict(format!(
                        "party `{code}` is still referenced by {}; a party in use is kept (change its name or zone instead)",
                        describe(&refs)
                    )));
                }
                if store::parties::delete(conn, &ctx, stored, expected)? {
                    Ok(())
                } else {
                    Err(stale())
                }
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// "2 organisations, 1 programmes" for a conflict message.
pub(crate) fn describe(refs: &[(&str, i64)]) -> String {
    refs.iter()
        .map(|(what, n)| format!("{n} {what}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_codes_are_iso_3166() {
        for good in ["KZ", "RU", "RU-SVE", "KZ-KUS", "KZ-10", "AM-ER"] {
            assert!(is_party_code(good), "{good}");
        }
        for bad in [
            "", "kz", "KAZ", "K", "KZ-", "KZ-ABCD", "KZ-kus", "KZ KUS", "1Z",
        ] {
            assert!(!is_party_code(bad), "{bad}");
        }
    }
}
