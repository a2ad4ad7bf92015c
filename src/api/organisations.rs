//! Organisations (ministries, theatres, libraries...) and their contacts.
//! Reading needs a token (contacts are personal data); admins and
//! secretariats change them.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::auth::{write_context, Authenticated};
use super::body::{merge_patch, read, JsonBody};
use super::etag::{expected_version, ok_with_etag, stale, with_etag};
use super::lang::Lang;
use super::pagination;
use super::parties::{describe, LanguageCode};
use super::programmes::{corrupt, text};
use super::AppState;
use crate::db::Conn;
use crate::domain::access::{Action, Target};
use crate::domain::keys::is_key;
use crate::domain::keys::is_party_code;
use crate::domain::kinds::{ContactRole, NotificationMode, OrganisationKind};
use crate::domain::zone::parse_zone;
use crate::domain::{Language, LocalizedText};
use crate::error::{AppError, AppResult, FieldError};
use crate::store::organisations::{ContactFilter, ContactRow, OrganisationFilter, OrganisationRow};
use crate::store::{self, Versioned};

/// The routes of this module, under /api/v1.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organisations", web::get().to(list))
        .route("/organisations", web::post().to(create))
        .route("/organisations/{id}", web::get().to(one))
        .route("/organisations/{id}", web::put().to(put))
        .route("/organisations/{id}", web::patch().to(patch))
        .route("/organisations/{id}", web::delete().to(delete))
        .route("/organisations/{id}/contacts", web::get().to(contacts))
        .route("/organisations/{id}/contacts", web::post().to(add_contact))
        .route("/contacts/{id}", web::get().to(contact))
        .route("/contacts/{id}", web::put().to(put_contact))
        .route("/contacts/{id}", web::patch().to(patch_contact))
        .route("/contacts/{id}", web::delete().to(delete_contact));
}

/// The OpenAPI paths of this module.
#[derive(OpenApi)]
#[openapi(
    paths(
        list,
        one,
        create,
        put,
        patch,
        delete,
        contacts,
        add_contact,
        contact,
        put_contact,
        patch_contact,
        delete_contact
    ),
    tags(
        (name = "organisations", description = "Ministries, agencies, theatres, libraries... and their contacts")
    )
)]
pub struct Doc;

/// A plausible address: one `@`, something before it, a dotted domain after,
/// no spaces or control characters. Delivery is the real test.
fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An absolute http(s) URL with a host.
fn is_website(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && host.contains('.')
    }) && url.len() <= 2000
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

// ---------------------------------------------------------------------------
// Organisations

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Party code: organisations of this party.
    #[param(pattern = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
    pub party: Option<String>,
    pub kind: Option<OrganisationKind>,
    /// Key of an organisation: its direct children.
    #[param(pattern = r"^[a-z0-9][a-z0-9-]*$", max_length = 100)]
    pub parent: Option<String>,
    /// Text to find in the key or the name in any language, ignoring case.
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
pub struct OrganisationView {
    pub id: String,
    pub key: String,
    /// Party code.
    pub party: String,
    pub kind: OrganisationKind,
    /// Key of the parent organisation (a ministry, for a department).
    pub parent: Option<String>,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub name: LocalizedText,
    /// The name in the reader's language (then Russian, then English).
    pub name_display: String,
    /// IANA time zone: deadlines fall due at the end of the day here.
    pub time_zone: String,
    pub email: Option<String>,
    pub website: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationPage {
    pub items: Vec<OrganisationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many organisations match.
    pub total: i64,
}

/// Views of rows, with their party codes and parent keys looked up at once.
fn views(
    conn: &mut Conn,
    rows: Vec<OrganisationRow>,
    lang: Language,
) -> AppResult<Vec<OrganisationView>> {
    let party_ids: Vec<String> = rows.iter().map(|r| r.party_id.clone()).collect();
    let parties: HashMap<String, String> = store::parties::codes_of(conn, &party_ids)?
        .into_iter()
        .collect();
    let parent_ids: Vec<String> = rows.iter().filter_map(|r| r.parent_id.clone()).collect();
    let parents: HashMap<String, String> = store::organisations::by_ids(conn, &parent_ids)?
        .into_iter()
        .map(|o| (o.id, o.key))
        .collect();
    rows.into_iter()
        .map(|row| {
            let name = text(&row.name)?;
            Ok(OrganisationView {
                party: parties
                    .get(&row.party_id)
                    .cloned()
                    .ok_or_else(|| corrupt("party", &row.party_id))?,
                kind: OrganisationKind::parse(&row.kind)
                    .ok_or_else(|| corrupt("organisation kind", &row.kind))?,
                parent: row.parent_id.as_ref().and_then(|p| parents.get(p).cloned()),
                name_display: name.display(lang).to_string(),
                name,
                id: row.id,
                key: row.key,
                time_zone: row.time_zone,
                email: row.email,
                website: row.website,
                version: row.version,
                created_at: row.created_at.and_utc(),
                updated_at: row.updated_at.and_utc(),
            })
        })
        .collect()
}

fn view_one(conn: &mut Conn, row: OrganisationRow, lang: Language) -> AppResult<OrganisationView> {
    views(conn, vec![row], lang)?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("organisation vanished")))
}

#[utoipa::path(
    get, path = "/api/v1/organisations", tag = "organisations",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of organisations by key", body = OrganisationPage),
        (status = 400, description = "Invalid filter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: Lang,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Organisation)?;
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    if q.q.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(AppError::invalid("q", "is longer than 200 characters"));
    }
    if let Some(party) = q.party.as_deref().filter(|p| !is_party_code(p)) {
        return Err(AppError::invalid(
            "party",
            format!("`{party}` is not an ISO 3166 code"),
        ));
    }
    if let Some(parent) = q.parent.as_deref().filter(|p| !is_key(p)) {
        return Err(AppError::invalid(
            "parent",
            format!("`{parent}` is not an organisation key"),
        ));
    }
    let after = match &q.cursor {
        Some(c) => pagination::decode(c, 1)?.pop(),
        None => None,
    };
    let page = state
        .db(move |conn| {
            let none = || {
                Ok(OrganisationPage {
                    items: vec![],
                    next_cursor: None,
                    total: 0,
                })
            };
            let mut filter = OrganisationFilter {
                kind: q.kind.map(|k| k.as_str().to_string()),
                text: q
                    .q
                    .as_ref()
                    .map(|t| t.trim().to_lowercase())
                    .filter(|t| !t.is_empty()),
                ..OrganisationFilter::default()
            };
            if let Some(code) = &q.party {
                match store::parties::by_code(conn, code)? {
                    Some(p) => filter.party_id = Some(p.id),
                    None => return none(),
                }
            }
            if let Some(key) = &q.parent {
                match store::organisations::by_key(conn, key)? {
                    Some(o) => filter.parent_id = Some(o.id),
                    None => return none(),
                }
            }
            let mut rows =
                store::organisations::search(conn, &filter, after.as_deref(), limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = if more {
                rows.last().map(|r| pagination::encode(&[&r.key]))
            } else {
                None
            };
            let total = store::organisations::count(conn, &filter)?;
            Ok(OrganisationPage {
                items: views(conn, rows, lang.0)?,
                next_cursor,
                total,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// An organisation by id (a UUID in lower case) or key; both have the shape of a key.
fn find(conn: &mut Conn, id: &str) -> AppResult<OrganisationRow> {
    if !is_key(id) {
        return Err(AppError::invalid(
            "id",
            format!("`{id}` is neither an organisation id (UUID) nor a key"),
        ));
    }
    let by_id = if uuid::Uuid::parse_str(id).is_ok() {
        store::organisations::by_id(conn, id)?
    } else {
        None
    };
    match by_id {
        Some(o) => Ok(o),
        None => store::organisations::by_key(conn, id)?
            .ok_or_else(|| AppError::not_found("organisation", id)),
    }
}

#[utoipa::path(
    get, path = "/api/v1/organisations/{id}", tag = "organisations",
    params(("id" = String, Path, description = "Organisation id (UUID) or key", pattern = r"^[a-z0-9][a-z0-9-]*$", max_length = 100)),
    responses(
        (status = 200, description = "The organisation, with its ETag", body = OrganisationView),
        (status = 400, description = "Neither an id nor a key", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn one(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: Lang,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Organisation)?;
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            let row = find(conn, &id)?;
            view_one(conn, row, lang.0)
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

/// An organisation as written. POST and PUT send all of it; PATCH sends a
/// JSON merge patch of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    /// Lowercase letters, digits and dashes.
    #[schema(
        pattern = r"^[a-z0-9][a-z0-9-]*$",
        max_length = 100,
        example = "kz-mci"
    )]
    pub key: String,
    /// Party code.
    #[schema(pattern = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$", example = "KZ")]
    pub party: String,
    pub kind: OrganisationKind,
    /// Key of the parent organisation.
    #[schema(pattern = r"^[a-z0-9][a-z0-9-]*$", max_length = 100)]
    pub parent: Option<String>,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub name: LocalizedText,
    /// IANA time zone; the party's when absent.
    pub time_zone: Option<String>,
    pub email: Option<String>,
    /// An http(s) URL.
    pub website: Option<String>,
}

/// Checks an input and builds the row (over `stored` when it changes one).
fn organisation_row(
    conn: &mut Conn,
    input: &OrganisationInput,
    stored: Option<&OrganisationRow>,
    at: chrono::NaiveDateTime,
) -> AppResult<OrganisationRow> {
    let mut errors = Vec::new();
    let key = input.key.clone();
    if !is_key(&key) {
        errors.push(FieldError::new(
            "key",
            format!("`{key}` is not a key: use lowercase letters, digits and dashes"),
        ));
    }
    let party = store::parties::by_code(conn, &input.party)?;
    if party.is_none() {
        errors.push(FieldError::new(
            "party",
            format!("party `{}` does not exist", input.party),
        ));
    }
    let parent_id = match &input.parent {
        None => None,
        Some(parent) => match store::organisations::by_key(conn, parent)? {
            None => {
                errors.push(FieldError::new(
                    "parent",
                    format!("organisation `{parent}` does not exist"),
                ));
                None
            }
            Some(p) => {
                let cycle = match stored {
                    Some(me) => store::organisations::is_self_or_descendant(conn, &p.id, &me.id)?,
                    None => false,
                };
                if cycle {
                    errors.push(FieldError::new(
                        "parent",
                        format!(
                            "`{parent}` is this organisation or lies below it: that would make a cycle"
                        ),
                    ));
                }
                Some(p.id)
            }
        },
    };
    let zone = match (&input.time_zone, &party) {
        (Some(z), _) => match parse_zone(z) {
            Ok(tz) => tz.name().to_string(),
            Err(e) => {
                errors.push(FieldError::new("time_zone", e));
                String::new()
            }
        },
        (None, Some(p)) => p.time_zone.clone(),
        (None, None) => String::new(),
    };
    let email = input.email.as_ref().map(|e| e.trim().to_string());
    if let Some(e) = &email {
        if !is_email(e) {
            errors.push(FieldError::new(
                "email",
                format!("`{e}` is not an email address"),
            ));
        }
    }
    let website = input.website.as_ref().map(|w| w.trim().to_string());
    if let Some(w) = &website {
        if !is_website(w) {
            errors.push(FieldError::new(
                "website",
                format!("`{w}` is not an http(s) URL such as https://example.kz"),
            ));
        }
    }
    let Some(party) = party.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let taken = store::organisations::by_key(conn, &key)?
        .is_some_and(|other| stored.is_none_or(|me| me.id != other.id));
    if taken {
        return Err(AppError::Conflict(format!(
            "organisation `{key}` exists already; choose another key or change that one"
        )));
    }
    Ok(match stored {
        Some(old) => OrganisationRow {
            key,
            party_id: party.id,
            parent_id,
            kind: input.kind.as_str().to_string(),
            name: input.name.to_json(),
            time_zone: zone,
            email,
            website,
            ..old.clone()
        },
        None => OrganisationRow {
            id: store::new_id(),
            key,
            party_id: party.id,
            parent_id,
            kind: input.kind.as_str().to_string(),
            name: input.name.to_json(),
            time_zone: zone,
            email,
            website,
            version: 1,
            created_at: at,
            updated_at: at,
        },
    })
}

#[utoipa::path(
    post, path = "/api/v1/organisations", tag = "organisations",
    request_body = OrganisationInput,
    responses(
        (status = 201, description = "Created; Location names it", body = OrganisationView),
        (status = 400, description = "Invalid organisation", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and secretariats only", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key is taken", body = crate::error::Problem, content_type = "application/problem+json"),
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
    who.may(Action::Create, Target::Organisation)?;
    let input: OrganisationInput = read(body.0)?;
    let ctx = write_context(&state, &who, &req);
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let row = organisation_row(conn, &input, None, ctx.at)?;
                let row = store::organisations::create(conn, &ctx, row)?;
                view_one(conn, row, lang.0)
            })
        })
        .await?;
    let mut res = with_etag(HttpResponse::Created(), view.version);
    res.insert_header((
        actix_web::http::header::LOCATION,
        format!("/api/v1/organisations/{}", view.id),
    ));
    Ok(res.json(view))
}

fn current_input(conn: &mut Conn, row: &OrganisationRow) -> AppResult<OrganisationInput> {
    let party = store::parties::by_id(conn, &row.party_id)?
        .ok_or_else(|| corrupt("party", &row.party_id))?;
    let parent = match &row.parent_id {
        Some(id) => store::organisations::by_id(conn, id)?.map(|p| p.key),
        None => None,
    };
    Ok(OrganisationInput {
        key: row.key.clone(),
        party: party.code,
        kind: OrganisationKind::parse(&row.kind)
            .ok_or_else(|| corrupt("organisation kind", &row.kind))?,
        parent,
        name: text(&row.name)?,
        time_zone: Some(row.time_zone.clone()),
        email: row.email.clone(),
        website: row.website.clone(),
    })
}

async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Lang,
    id: String,
    body: serde_json::Value,
    patch: bool,
) -> AppResult<HttpResponse> {
    who.may(Action::Update, Target::Organisation)?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let stored = find(conn, &id)?;
                let input: OrganisationInput = if patch {
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
                let new = organisation_row(conn, &input, Some(&stored), ctx.at)?;
                let row = match store::organisations::update(conn, &ctx, stored, new, expected)? {
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
    put, path = "/api/v1/organisations/{id}", tag = "organisations",
    params(("id" = String, Path, description = "Organisation id (UUID) or key", pattern = r"^[a-z0-9][a-z0-9-]*$", max_length = 100), ("If-Match" = String, Header, description = "ETag of the version being replaced")),
    request_body = OrganisationInput,
    responses(
        (status = 200, description = "Replaced", body = OrganisationView),
        (status = 400, description = "Invalid", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and secretariats only", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new key is taken", body = crate::error::Problem, content_type = "application/problem+json"),
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
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    change(state, req, who, lang, id.into_inner(), body.0, false).await
}

#[utoipa::path(
    patch, path = "/api/v1/organisations/{id}", tag = "organisations",
    params(("id" = String, Path, description = "Organisation id (UUID) or key", pattern = r"^[a-z0-9][a-z0-9-]*$", max_length = 100), ("If-Match" = String, Header, description = "ETag of the version being changed")),
    request_body(content = Object, description = "JSON merge patch (RFC 7396) of OrganisationInput", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = OrganisationView),
        (status = 400, description = "Invalid change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and secretariats only", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new key is taken", body = crate::error::Problem, content_type = "application/problem+json"),
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
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    change(state, req, who, lang, id.into_inner(), body.0, true).await
}

#[utoipa::path(
    delete, path = "/api/v1/organisations/{id}", tag = "organisations",
    params(("id" = String, Path, description = "Organisation id (UUID) or key", pattern = r"^[a-z0-9][a-z0-9-]*$", max_length = 100), ("If-Match" = String, Header, description = "ETag of the version being deleted")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Neither an id nor a key", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and secretariats only", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = crate::error::Problem, content_type = "application/problem+json"),
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
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Delete, Target::Organisation)?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let stored = find(conn, &id)?;
                if stored.version != expected {
                    return Err(stale());
                }
                let refs = store::organisations::references(conn, &stored.id)?;
                if !refs.is_empty() {
                    return Err(AppError::Conflict(format!(
                        "organisation `{}` is still referenced by {}; reassign or remove those first, or keep it",
                        stored.key,
                        describe(&refs)
                    )));
                }
                if store::organisations::delete(conn, &ctx, stored, expected)? {
                    Ok(())
                } else {
                    Err(stale())
                }
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------
// Contacts

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    pub role: Option<ContactRole>,
    /// Only active (true) or inactive (false) contacts.
    pub active: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub id: String,
    pub organisation_id: String,
    /// Key of the organisation.
    pub organisation: String,
    pub name: String,
    /// Lower-cased; unique within the organisation.
    pub email: String,
    /// Language of the mail this person receives.
    #[schema(value_type = LanguageCode)]
    pub language: Language,
    /// IANA time zone: reminders go out at the configured hour here.
    pub time_zone: String,
    pub role: ContactRole,
    pub notifications: NotificationMode,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactPage {
    pub items: Vec<ContactView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many contacts match.
    pub total: i64,
}

fn contact_view(row: ContactRow, organisation_key: &str) -> AppResult<ContactView> {
    Ok(ContactView {
        organisation: organisation_key.to_string(),
        language: Language::parse(&row.language)
            .ok_or_else(|| corrupt("language", &row.language))?,
        role: ContactRole::parse(&row.role).ok_or_else(|| corrupt("contact role", &row.role))?,
        notifications: NotificationMode::parse(&row.notifications)
            .ok_or_else(|| corrupt("notification mode", &row.notifications))?,
        id: row.id,
        organisation_id: row.organisation_id,
        name: row.name,
        email: row.email,
        time_zone: row.time_zone,
        active: row.active,
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

#[utoipa::path(
    get, path = "/api/v1/organisations/{id}/contacts", tag = "organisations",
    params(("id" = String, Path, description = "Organisation id (UUID) or key", pattern = r"^[a-z0-9][a-z0-9-]*$", max_length = 100), ContactQuery),
    responses(
        (status = 200, description = "A page of the organisation's contacts by email", body = ContactPage),
        (status = 400, description = "Invalid filter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn contacts(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
    query: web::Query<ContactQuery>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Organisation)?;
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after = match &q.cursor {
        Some(c) => pagination::decode(c, 1)?.pop(),
        None => None,
    };
    let id = id.into_inner();
    let page = state
        .db(move |conn| {
            let organisation = find(conn, &id)?;
            let filter = ContactFilter {
                role: q.role.map(|r| r.as_str().to_string()),
                active: q.active,
            };
            let mut rows = store::organisations::search_contacts(
                conn,
                &organisation.id,
                &filter,
                after.as_deref(),
                limit + 1,
            )?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = if more {
                rows.last().map(|r| pagination::encode(&[&r.email]))
            } else {
                None
            };
            let total = store::organisations::count_contacts(conn, &organisation.id, &filter)?;
            Ok(ContactPage {
                items: rows
                    .into_iter()
                    .map(|r| contact_view(r, &organisation.key))
                    .collect::<AppResult<Vec<_>>>()?,
                next_cursor,
                total,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A contact as written. POST and PUT send all of it; PATCH sends a JSON
/// merge patch of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub name: String,
    /// Stored lower-cased; unique within the organisation.
    pub email: String,
    #[schema(value_type = LanguageCode)]
    pub language: Language,
    /// IANA time zone; the organisation's when absent.
    pub time_zone: Option<String>,
    pub role: ContactRole,
    /// Immediate when absent.
    pub notifications: Option<NotificationMode>,
    /// True when absent.
    pub active: Option<bool>,
}

/// Checks an input and builds the contact row (over `stored` when it changes one).
fn contact_row(
    conn: &mut Conn,
    input: &ContactInput,
    organisation: &OrganisationRow,
    stored: Option<&ContactRow>,
    at: chrono::NaiveDateTime,
) -> AppResult<ContactRow> {
    let mut errors = Vec::new();
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new("name", "a name is 1 to 200 characters"));
    }
    let email = input.email.trim().to_lowercase();
    if !is_email(&email) {
        errors.push(FieldError::new(
            "email",
            format!("`{}` is not an email address", input.email),
        ));
    }
    let zone = match &input.time_zone {
        Some(z) => match parse_zone(z) {
            Ok(tz) => tz.name().to_string(),
            Err(e) => {
                errors.push(FieldError::new("time_zone", e));
                String::new()
            }
        },
        None => organisation.time_zone.clone(),
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let taken = store::organisations::contact_by_email(conn, &organisation.id, &email)?
        .is_some_and(|other| stored.is_none_or(|me| me.id != other.id));
    if taken {
        return Err(AppError::Conflict(format!(
            "`{email}` is already a contact of `{}`; change that contact instead",
            organisation.key
        )));
    }
    let fields = |id: String, version: i32, created_at, updated_at| ContactRow {
        id,
        organisation_id: organisation.id.clone(),
        name: name.clone(),
        email: email.clone(),
        language: input.language.code().to_string(),
        time_zone: zone.clone(),
        role: input.role.as_str().to_string(),
        notifications: input
            .notifications
            .unwrap_or(NotificationMode::Immediate)
            .as_str()
            .to_string(),
        active: input.active.unwrap_or(true),
        version,
        created_at,
        updated_at,
    };
    Ok(match stored {
        Some(old) => fields(old.id.clone(), old.version, old.created_at, old.updated_at),
        None => fields(store::new_id(), 1, at, at),
    })
}

#[utoipa::path(
    post, path = "/api/v1/organisations/{id}/contacts", tag = "organisations",
    params(("id" = String, Path, description = "Organisation id (UUID) or key", pattern = r"^[a-z0-9][a-z0-9-]*$", max_length = 100)),
    request_body = ContactInput,
    responses(
        (status = 201, description = "Created; Location names it", body = ContactView),
        (status = 400, description = "Invalid contact", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and secretariats only", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is already a contact here", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn add_contact(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.may(Action::Create, Target::Organisation)?;
    let input: ContactInput = read(body.0)?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let organisation = find(conn, &id)?;
                let row = contact_row(conn, &input, &organisation, None, ctx.at)?;
                let row = store::organisations::create_contact(conn, &ctx, row)?;
                contact_view(row, &organisation.key)
            })
        })
        .await?;
    let mut res = with_etag(HttpResponse::Created(), view.version);
    res.insert_header((
        actix_web::http::header::LOCATION,
        format!("/api/v1/contacts/{}", view.id),
    ));
    Ok(res.json(view))
}

/// A contact and its organisation.
fn find_contact(conn: &mut Conn, id: &str) -> AppResult<(ContactRow, OrganisationRow)> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::invalid("id", format!("`{id}` is not a UUID")));
    }
    let contact = store::organisations::contact_by_id(conn, id)?
        .ok_or_else(|| AppError::not_found("contact", id))?;
    let organisation = store::organisations::by_id(conn, &contact.organisation_id)?
        .ok_or_else(|| corrupt("organisation", &contact.organisation_id))?;
    Ok((contact, organisation))
}

#[utoipa::path(
    get, path = "/api/v1/contacts/{id}", tag = "organisations",
    params(("id" = uuid::Uuid, Path, description = "Contact id")),
    responses(
        (status = 200, description = "The contact, with its ETag", body = ContactView),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contact", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn contact(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Organisation)?;
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            let (contact, organisation) = find_contact(conn, &id)?;
            contact_view(contact, &organisation.key)
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

fn current_contact_input(row: &ContactRow) -> AppResult<ContactInput> {
    Ok(ContactInput {
        name: row.name.clone(),
        email: row.email.clone(),
        language: Language::parse(&row.language)
            .ok_or_else(|| corrupt("language", &row.language))?,
        time_zone: Some(row.time_zone.clone()),
        role: ContactRole::parse(&row.role).ok_or_else(|| corrupt("contact role", &row.role))?,
        notifications: Some(
            NotificationMode::parse(&row.notifications)
                .ok_or_else(|| corrupt("notification mode", &row.notifications))?,
        ),
        active: Some(row.active),
    })
}

async fn change_contact(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: String,
    body: serde_json::Value,
    patch: bool,
) -> AppResult<HttpResponse> {
    who.may(Action::Update, Target::Organisation)?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let (stored, organisation) = find_contact(conn, &id)?;
                let input: ContactInput = if patch {
                    let mut doc = serde_json::to_value(current_contact_input(&stored)?)
                        .map_err(|e| AppError::Internal(e.into()))?;
                    merge_patch(&mut doc, &body);
                    read(doc)?
                } else {
                    read(body)?
                };
                if stored.version != expected {
                    return Err(stale());
                }
                let new = contact_row(conn, &input, &organisation, Some(&stored), ctx.at)?;
                let row = match store::organisations::update_contact(
                    conn, &ctx, stored, new, expected,
                )? {
                    Versioned::Stale => return Err(stale()),
                    Versioned::Written(row) | Versioned::Unchanged(row) => row,
                };
                contact_view(row, &organisation.key)
            })
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

#[utoipa::path(
    put, path = "/api/v1/contacts/{id}", tag = "organisations",
    params(("id" = uuid::Uuid, Path, description = "Contact id"), ("If-Match" = String, Header, description = "ETag of the version being replaced")),
    request_body = ContactInput,
    responses(
        (status = 200, description = "Replaced", body = ContactView),
        (status = 400, description = "Invalid", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and secretariats only", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contact", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new email is already a contact here", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_contact(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    change_contact(state, req, who, id.into_inner(), body.0, false).await
}

#[utoipa::path(
    patch, path = "/api/v1/contacts/{id}", tag = "organisations",
    params(("id" = uuid::Uuid, Path, description = "Contact id"), ("If-Match" = String, Header, description = "ETag of the version being changed")),
    request_body(content = Object, description = "JSON merge patch (RFC 7396) of ContactInput", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = ContactView),
        (status = 400, description = "Invalid change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and secretariats only", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contact", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new email is already a contact here", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn patch_contact(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    change_contact(state, req, who, id.into_inner(), body.0, true).await
}

#[utoipa::path(
    delete, path = "/api/v1/contacts/{id}", tag = "organisations",
    params(("id" = uuid::Uuid, Path, description = "Contact id"), ("If-Match" = String, Header, description = "ETag of the version being deleted")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and secretariats only", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contact", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_contact(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Delete, Target::Organisation)?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let (stored, _) = find_contact(conn, &id)?;
                if store::organisations::delete_contact(conn, &ctx, stored, expected)? {
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
    fn shapes_of_keys_emails_and_websites() {
        assert!(is_key("kz-mci-arts"));
        for bad in ["", "KZ-MCI", "-x", "a b", "kz_mci", "ключ"] {
            assert!(!is_key(bad), "{bad}");
        }
        assert!(is_email("focal@example.kz"));
        for bad in [
            "",
            "focal",
            "@example.kz",
            "focal@",
            "focal@kz",
            "a b@example.kz",
            "a@b@c.kz",
            "a@.kz",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(is_website("https://www.gov.kz/memleket/entities/mam"));
        assert!(is_website("http://mkrf.ru"));
        for bad in [
            "",
            "www.gov.kz",
            "ftp://gov.kz",
            "https://",
            "https://a b.kz",
            "javascript:alert(1)",
        ] {
            assert!(!is_website(bad), "{bad}");
        }
    }
}
