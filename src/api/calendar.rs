//! Calendar feeds (RFC 5545) behind secret, revocable URLs, and single
//! events as .ics for "add to calendar".
//!
//! A feed URL is a read capability: whoever holds it sees the feed, so the
//! token is long, random, shown once and stored only as its SHA-256.

use actix_web::http::header::{
    HeaderValue, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED, LOCATION,
};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::auth::{write_context, Authenticated};
use super::body::{read, JsonBody};
use super::AppState;
use crate::calendar::{feed, ics, Calendar};
use crate::db::Conn;
use crate::domain::access::{Action, Target};
use crate::domain::credentials::{hash_token, new_token};
use crate::domain::{Language, LocalizedText};
use crate::error::{AppError, AppResult, FieldError};
use crate::store::feeds::{FeedRow, Scope};
use crate::store::{self};

/// API routes of this module, under /api/v1.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/calendar-feeds", web::get().to(list))
        .route("/calendar-feeds", web::post().to(create))
        .route("/calendar-feeds/{id}", web::get().to(one))
        .route("/calendar-feeds/{id}", web::delete().to(revoke))
        .route("/events/{id}/event.ics", web::get().to(event_ics));
}

/// The feeds themselves, outside /api/v1: calendar clients subscribe to them.
pub fn feed_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/calendar/{token}.ics", web::get().to(feed))
        .route("/calendar/{token}.ics", web::head().to(feed));
}

#[derive(OpenApi)]
#[openapi(
    paths(list, create, one, revoke, feed, event_ics),
    tags((name = "calendar", description = "Calendar feeds (iCalendar) behind secret URLs, and events as .ics"))
)]
pub struct Doc;

/// What a new feed shows: exactly one of organisation, contact, programme or party.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedInput {
    /// Organisation key: its events, its items' deadlines, derived deadlines, its bodies' meetings.
    #[serde(default)]
    pub organisation: Option<String>,
    /// Contact id (UUID): the feed of the contact's organisation, in the contact's language.
    #[serde(default)]
    pub contact: Option<String>,
    /// Programme key: its events, items' deadlines, derived deadlines, its body's meetings.
    #[serde(default)]
    pub programme: Option<String>,
    /// Party code: events it hosts, visits or organises, its items, its bodies, its agreements' notice deadlines.
    #[serde(default)]
    pub party: Option<String>,
    /// Language of titles (ru, kk, en, ...); a `lang` parameter on the feed URL overrides it.
    #[serde(default)]
    pub lang: Option<String>,
    /// A note for the maker ("my Outlook").
    #[serde(default)]
    pub label: Option<String>,
}

/// A calendar feed (its token is shown only once, when it is made).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedView {
    pub id: String,
    /// organisation, contact, programme or party.
    pub scope: String,
    /// Key, id or code of what the feed shows.
    pub of: String,
    pub lang: Option<String>,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it was revoked; its URL answers 404 since.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The secret URL to subscribe to: only in the answer to POST.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedList {
    pub items: Vec<FeedView>,
}

/// Base of the URLs accord gives out: configured, or from the request.
fn base_url(state: &AppState, req: &HttpRequest) -> String {
    let configured = state.settings.server.public_url.trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_string();
    }
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// The scope of a stored feed, and what it shows about itself.
fn scope_of(conn: &mut Conn, row: &FeedRow) -> AppResult<(Scope, &'static str, String)> {
    let gone = || AppError::Internal(anyhow::anyhow!("feed {} has no scope", row.id));
    if let Some(id) = &row.organisation_id {
        let org = store::organisations::by_id(conn, id)?.ok_or_else(gone)?;
        return Ok((Scope::Organisation(org.id), "organisation", org.key));
    }
    if let Some(id) = &row.contact_id {
        let contact = store::organisations::contact_by_id(conn, id)?.ok_or_else(gone)?;
        return Ok((
            Scope::Organisation(contact.organisation_id),
            "contact",
            contact.id,
        ));
    }
    if let Some(id) = &row.programme_id {
        let p = store::programmes::by_id(conn, id)?.ok_or_else(gone)?;
        return Ok((Scope::Programme(p.id), "programme", p.key));
    }
    if let Some(id) = &row.party_id {
        let p = store::parties::by_id(conn, id)?.ok_or_else(gone)?;
        return Ok((Scope::Party(p.id), "party", p.code));
    }
    Err(gone())
}

fn view(conn: &mut Conn, row: &FeedRow, url: Option<String>) -> AppResult<FeedView> {
    let (_, scope, of) = scope_of(conn, row)?;
    Ok(FeedView {
        id: row.id.clone(),
        scope: scope.to_string(),
        of,
        lang: row.language.clone(),
        label: row.label.clone(),
        created_at: row.created_at.and_utc(),
        revoked_at: row.revoked_at.map(|t| t.and_utc()),
        url,
    })
}

fn parse_lang(field: &str, code: &str) -> Result<Language, FieldError> {
    Language::parse(code).ok_or_else(|| {
        FieldError::new(
            field,
            format!(
                "`{code}` is not a language of accord ({})",
                Language::codes()
            ),
        )
    })
}

#[utoipa::path(
    post, path = "/api/v1/calendar-feeds", tag = "calendar",
    request_body = FeedInput,
    responses(
        (status = 201, description = "Made; `url` is the secret feed URL, shown only now", body = FeedView),
        (status = 400, description = "Invalid scope", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    body: AppResult<JsonBody>,
) -> AppResult<HttpResponse> {
    who.may(Action::Create, Target::CalendarFeed { created_by: None })?;
    let input: FeedInput = read(body?.0)?;
    let ctx = write_context(&state, &who, &req);
    let base = base_url(&state, &req);
    let user_id = who.signed_in()?.user_id.clone();
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let mut errors = Vec::new();
                let named = [
                    input.organisation.is_some(),
                    input.contact.is_some(),
                    input.programme.is_some(),
                    input.party.is_some(),
                ]
                .iter()
                .filter(|b| **b)
                .count();
                if named != 1 {
                    errors.push(FieldError::new(
                        "organisation",
                        "name exactly one of organisation, contact, programme or party",
                    ));
                }
                let (token, token_hash) = new_token();
                let mut row = FeedRow {
                    id: store::new_id(),
                    token_hash,
                    organisation_id: None,
                    contact_id: None,
                    programme_id: None,
                    party_id: None,
                    language: None,
                    label: input.label.as_ref().map(|l| l.trim().to_string()),
                    created_by: Some(user_id),
                    created_at: ctx.at,
                    revoked_at: None,
                };
                if let Some(key) = &input.organisation {
                    match store::organisations::by_key(conn, key)? {
                        Some(o) => row.organisation_id = Some(o.id),
                        None => errors.push(FieldError::new(
                            "organisation",
                            format!("organisation `{key}` does not exist"),
                        )),
                    }
                }
                if let Some(id) = &input.contact {
                    let found = if uuid::Uuid::parse_str(id).is_ok() {
                        store::organisations::contact_by_id(conn, id)?
                    } else {
                        None
                    };
                    match found {
                        Some(c) => {
                            row.language = Some(c.language.clone());
                            row.contact_id = Some(c.id);
                        }
                        None => errors.push(FieldError::new(
                            "contact",
                            format!("contact `{id}` does not exist"),
                        )),
                    }
                }
                if let Some(key) = &input.programme {
                    match store::programmes::by_key(conn, key)? {
                        Some(p) => row.programme_id = Some(p.id),
                        None => errors.push(FieldError::new(
                            "programme",
                            format!("programme `{key}` does not exist"),
                        )),
                    }
                }
                if let Some(code) = &input.party {
                    match store::parties::by_code(conn, code)? {
                        Some(p) => row.party_id = Some(p.id),
                        None => errors.push(FieldError::new(
                            "party",
                            format!("party `{code}` does not exist"),
                        )),
                    }
                }
                if let Some(code) = &input.lang {
                    match parse_lang("lang", code) {
                        Ok(l) => row.language = Some(l.code().to_string()),
                        Err(e) => errors.push(e),
                    }
                }
                if row.label.as_ref().is_some_and(|l| l.chars().count() > 200) {
                    errors.push(FieldError::new("label", "is longer than 200 characters"));
                }
                if !errors.is_empty() {
                    return Err(AppError::Validation(errors));
                }
                let row = store::feeds::insert(conn, &ctx, row)?;
                let url = format!("{base}/calendar/{token}.ics");
                view(conn, &row, Some(url))
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/calendar-feeds/{}", view.id)))
        .json(view))
}

#[utoipa::path(
    get, path = "/api/v1/calendar-feeds", tag = "calendar",
    responses(
        (status = 200, description = "Your feeds (an admin's: all), newest first, without their URLs", body = FeedList),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(state: web::Data<AppState>, who: Authenticated) -> AppResult<HttpResponse> {
    let me = who.signed_in()?.clone();
    let all = who.may(Action::Read, Target::CalendarFeed { created_by: None });
    let items = state
        .db(move |conn| {
            let rows = store::feeds::list(conn, all.is_err().then_some(me.user_id.as_str()))?;
            rows.iter()
                .map(|r| view(conn, r, None))
                .collect::<AppResult<Vec<_>>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(FeedList { items }))
}

fn feed_row(conn: &mut Conn, who: &Authenticated, id: &str, action: Action) -> AppResult<FeedRow> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::invalid("id", format!("`{id}` is not a UUID")));
    }
    // A revoked feed is gone, as DELETE said: its record stays in the audit log.
    let row = store::feeds::by_id(conn, id)?
        .filter(|row| row.revoked_at.is_none())
        .ok_or_else(|| AppError::not_found("calendar feed", id))?;
    who.may(
        action,
        Target::CalendarFeed {
            created_by: row.created_by.as_deref(),
        },
    )?;
    Ok(row)
}

#[utoipa::path(
    get, path = "/api/v1/calendar-feeds/{id}", tag = "calendar",
    params(("id" = String, Path, description = "Feed id (UUID)")),
    responses(
        (status = 200, description = "The feed, without its URL", body = FeedView),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's feed", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such feed", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn one(
    state: web::Data<AppState>,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let id = id.into_inner();
    let view = state
        .db(move |conn| {
            let row = feed_row(conn, &who, &id, Action::Read)?;
            view(conn, &row, None)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(
    delete, path = "/api/v1/calendar-feeds/{id}", tag = "calendar",
    params(("id" = String, Path, description = "Feed id (UUID)")),
    responses(
        (status = 204, description = "Revoked: its URL answers 404 from now on"),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's feed", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such feed", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let row = feed_row(conn, &who, &id, Action::Delete)?;
                // Revoking twice is no error: the URL is dead either way.
                store::feeds::revoke(conn, &ctx, &row)?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Language of titles (ru, kk, en, ...); default: the feed's.
    pub lang: Option<String>,
}

/// A calendar as an HTTP answer: a strong ETag of its bytes, Last-Modified
/// from its last change, and 304 when the client has it already.
fn calendar_response(
    req: &HttpRequest,
    calendar: &Calendar,
    last_change: Option<DateTime<Utc>>,
    filename: &str,
) -> HttpResponse {
    let text = ics::render(calendar);
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(text.as_bytes()))[..32]
    );
    let not_modified = match req.headers().get(IF_NONE_MATCH) {
        // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
        Some(value) => value.to_str().is_ok_and(|v| tag_matches(v, &etag)),
        None => modified_since(req, last_change),
    };
    let mut res = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    feed_headers(&mut res, &etag, last_change);
    if not_modified {
        return res.finish();
    }
    res.insert_header((CONTENT_TYPE, "text/calendar; charset=utf-8"))
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{filename}\""),
        ))
        .body(text)
}

/// The title of a feed: what it shows, in its language.
fn feed_name(conn: &mut Conn, scope: &Scope, row: &FeedRow, lang: Language) -> AppResult<String> {
    let display = |json: &str| feed::text(json, lang);
    let what = match scope {
        Scope::Organisation(id) => store::organisations::by_id(conn, id)?
            .map(|o| display(&o.name))
            .unwrap_or_default(),
        Scope::Programme(id) => store::programmes::by_id(conn, id)?
            .map(|p| display(&p.title))
            .unwrap_or_default(),
        Scope::Party(id) => store::parties::by_id(conn, id)?
            .map(|p| display(&p.name))
            .unwrap_or_default(),
    };
    Ok(match &row.label {
        Some(label) if !label.is_empty() => format!("accord: {what} ({label})"),
        _ => format!("accord: {what}"),
    })
}

#[utoipa::path(
    get, path = "/calendar/{token}.ics", tag = "calendar",
    params(
        ("token" = String, Path, description = "The feed's secret token"),
        FeedQuery,
        ("If-None-Match" = Option<String>, Header, description = "ETag of the copy the client has"),
        ("If-Modified-Since" = Option<String>, Header, description = "Last-Modified of the copy the client has"),
    ),
    responses(
        (status = 200, description = "The feed (text/calendar), with ETag and Last-Modified", content_type = "text/calendar", body = String),
        (status = 304, description = "Unchanged since the client's copy"),
        (status = 400, description = "Unknown language", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such feed, or revoked", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    query: actix_web::Result<web::Query<FeedQuery>>,
) -> AppResult<HttpResponse> {
    let query = query.map_err(|e| AppError::BadRequest(format!("query string: {e}")))?;
    let lang = query
        .lang
        .as_deref()
        .map(|code| parse_lang("lang", code))
        .transpose()
        .map_err(|e| AppError::Validation(vec![e]))?;
    let hash = hash_token(&token.into_inner());
    let base = base_url(&state, &req);
    let today = state.clock.now().date_naive();
    let client_tags = req
        .headers()
        .get(IF_NONE_MATCH)
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let answer = state
        .db(move |conn| {
            // Unknown and revoked look the same: the URL is simply not there.
            let row = store::feeds::by_token_hash(conn, &hash)?
                .ok_or_else(|| AppError::not_found("calendar feed", "this URL"))?;
            let lang = lang
                .or_else(|| row.language.as_deref().and_then(Language::parse))
                .unwrap_or(Language::Ru);
            // Read before the content: a change landing in between gives a
            // newer body under an older tag, never an older body under a newer one.
            let changes = store::feeds::changes(conn)?;
            let etag = feed_etag(&row, lang, today, &base, changes);
            if client_tags
                .as_deref()
                .is_some_and(|v| tag_matches(v, &etag))
            {
                let known = feed_cache::get(&etag).and_then(|r| r.last_change);
                return Ok(FeedAnswer::NotModified(etag, known));
            }
            if let Some(rendered) = feed_cache::get(&etag) {
                return Ok(FeedAnswer::Full(etag, rendered));
            }
            let (scope, _, _) = scope_of(conn, &row)?;
            let name = feed_name(conn, &scope, &row, lang)?;
            let content = store::feeds::content(conn, &scope)?;
            let (calendar, last_change) = feed::build(name, &content, lang, today, &base);
            // The feed's own making counts as a change (an empty feed has no other).
            let made = row.created_at.and_utc();
            let rendered = std::sync::Arc::new(feed_cache::Rendered {
                body: web::Bytes::from(ics::render(&calendar)),
                last_change: Some(last_change.map_or(made, |t| t.max(made))),
            });
            feed_cache::put(&etag, rendered.clone());
            Ok(FeedAnswer::Full(etag, rendered))
        })
        .await?;
    Ok(match answer {
        FeedAnswer::NotModified(etag, last_change) => {
            let mut res = HttpResponse::NotModified();
            feed_headers(&mut res, &etag, last_change);
            res.finish()
        }
        FeedAnswer::Full(etag, rendered) => {
            let not_modified = req.headers().get(IF_NONE_MATCH).is_none()
                && modified_since(&req, rendered.last_change);
            let mut res = if not_modified {
                HttpResponse::NotModified()
            } else {
                HttpResponse::Ok()
            };
            feed_headers(&mut res, &etag, rendered.last_change);
            if not_modified {
                res.finish()
            } else {
                res.insert_header((CONTENT_TYPE, "text/calendar; charset=utf-8"))
                    .insert_header((
                        actix_web::http::header::CONTENT_DISPOSITION,
                        "inline; filename=\"accord.ics\"",
                    ))
                    .body(rendered.body.clone())
            }
        }
    })
}

/// What a feed request gets: 304, or the rendered feed.
enum FeedAnswer {
    NotModified(String, Option<DateTime<Utc>>),
    Full(String, std::sync::Arc<feed_cache::Rendered>),
}

/// A feed's strong ETag, from everything its bytes depend on and nothing
/// that needs its events: the feed (its scope, label and language are fixed
/// when it is made), the language asked for, the base of its URLs, today
/// (agreements' notice deadlines move with it), accord's and tzdata's
/// versions, and where the change log of the tables it shows stands.
fn feed_etag(
    row: &FeedRow,
    lang: Language,
    today: chrono::NaiveDate,
    base: &str,
    changes: (i64, i64),
) -> String {
    let mut h = Sha256::new();
    for part in [
        row.id.as_str(),
        lang.code(),
        &today.to_string(),
        base,
        env!("CARGO_PKG_VERSION"),
        crate::domain::zone::tzdata_version(),
        &changes.0.to_string(),
        &changes.1.to_string(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    format!("\"{}\"", &hex::encode(h.finalize())[..32])
}

/// Whether an If-None-Match value names `etag` (or is `*`).
fn tag_matches(value: &str, etag: &str) -> bool {
    value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// Whether If-Modified-Since says the client's copy is as new as `last_change`.
fn modified_since(req: &HttpRequest, last_change: Option<DateTime<Utc>>) -> bool {
    match (req.headers().get(IF_MODIFIED_SINCE), last_change) {
        (Some(since), Some(changed)) => since
            .to_str()
            .ok()
            .and_then(|s| DateTime::parse_from_rfc2822(&s.replace("GMT", "+0000")).ok())
            .is_some_and(|since| changed.timestamp() <= since.timestamp()),
        _ => false,
    }
}

fn feed_headers(
    res: &mut actix_web::HttpResponseBuilder,
    etag: &str,
    last_change: Option<DateTime<Utc>>,
) {
    res.insert_header((ETAG, etag.to_string()))
        // The URL is a secret: shared caches must not keep it.
        .insert_header((CACHE_CONTROL, "private, no-cache"));
    let last_modified = last_change.map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
    if let Some(lm) = last_modified.and_then(|lm| HeaderValue::from_str(&lm).ok()) {
        res.insert_header((LAST_MODIFIED, lm));
    }
}

/// Rendered feeds by ETag, bounded in bytes: a client polling a large feed
/// that did not change costs no render. The ETag comes from the database, so
/// an entry is right for every instance that computes the same tag.
mod feed_cache {
    use std::collections::{HashMap, VecDeque};
    use std::sync::{Arc, Mutex, OnceLock};

    use actix_web::web::Bytes;
    use chrono::{DateTime, Utc};

    /// At most this many bytes of feeds are kept (oldest dropped first).
    const MAX_BYTES: usize = 32 * 1024 * 1024;

    pub struct Rendered {
        pub body: Bytes,
        pub last_change: Option<DateTime<Utc>>,
    }

    #[derive(Default)]
    struct Cache {
        entries: HashMap<String, Arc<Rendered>>,
        order: VecDeque<String>,
        bytes: usize,
    }

    fn cache() -> &'static Mutex<Cache> {
        static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
        CACHE.get_or_init(Mutex::default)
    }

    pub fn get(etag: &str) -> Option<Arc<Rendered>> {
        let cache = cache().lock().unwrap_or_else(|e| e.into_inner());
        cache.entries.get(etag).cloned()
    }

    pub fn put(etag: &str, rendered: Arc<Rendered>) {
        let size = rendered.body.len();
        if size > MAX_BYTES {
            return;
        }
        let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
        if cache.entries.contains_key(etag) {
            return;
        }
        while cache.bytes + size > MAX_BYTES {
            let Some(old) = cache.order.pop_front() else {
                break;
            };
            if let Some(gone) = cache.entries.remove(&old) {
                cache.bytes -= gone.body.len();
            }
        }
        cache.bytes += size;
        cache.order.push_back(etag.to_string());
        cache.entries.insert(etag.to_string(), rendered);
    }
}

#[utoipa::path(
    get, path = "/api/v1/events/{id}/event.ics", tag = "calendar",
    params(
        ("id" = String, Path, description = "Event id (UUID)"),
        FeedQuery,
    ),
    responses(
        (status = 200, description = "The event (with its changed occurrences and derived deadlines) as an iCalendar file", content_type = "text/calendar", body = String),
        (status = 304, description = "Unchanged since the client's copy"),
        (status = 400, description = "Invalid id or language", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn event_ics(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: AppResult<super::lang::Lang>,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Event { body_id: None })?;
    let lang = lang?.0;
    let id = id.into_inner();
    let base = base_url(&state, &req);
    let today = state.clock.now().date_naive();
    let (calendar, last_change) = state
        .db(move |conn| {
            if uuid::Uuid::parse_str(&id).is_err() {
                return Err(AppError::invalid("id", format!("`{id}` is not a UUID")));
            }
            let event = store::events::by_id(conn, &id)?
                .ok_or_else(|| AppError::not_found("event", &id))?;
            let name = LocalizedText::from_json(&event.title)
                .map(|t| t.display(lang).to_string())
                .unwrap_or_default();
            let content = store::feeds::content_of_event(conn, event)?;
            Ok(feed::build(name, &content, lang, today, &base))
        })
        .await?;
    Ok(calendar_response(&req, &calendar, last_change, "event.ics"))
}
