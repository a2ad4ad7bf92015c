//! The HTML dashboard's routes: programmes overview, a programme's page,
//! overdue items, the month calendar, sign-in and sign-out. Public programmes
//! are shown to anyone; the rest to a signed-in user (bearer token, or the
//! session cookie the sign-in form sets). A programme a visitor may not see is
//! answered 404, as if it did not exist.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};
use maud::Markup;
use serde::Deserialize;

use super::auth::{Authenticated, LOGIN_FAILURES_ALLOWED, LOGIN_WINDOW_MINUTES};
use super::lang::Lang;
use super::{AppState, RequestId};
use crate::db::Conn;
use crate::domain::access::{authorise, Action, Caller, Target};
use crate::domain::credentials::hash_token;
use crate::domain::Language;
use crate::error::{AppError, AppResult};
use crate::report::dashboard::labels::{dashboard_language, labels, LANGUAGES};
use crate::report::dashboard::layout::Frame;
use crate::report::dashboard::month::month_items;
use crate::report::dashboard::pages::{self, OverdueGroup, ProgrammeCard, TableFilter};
use crate::store;
use crate::store::programmes::ProgrammeRow;
use crate::store::sessions::{SignIn, Throttle, SESSION_HOURS};
use crate::store::WriteContext;

const SESSION_COOKIE: &str = "accord_session";
const LANG_COOKIE: &str = "accord_lang";
/// Inline styles and SVG only: no script may run on these pages, whatever a title holds.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/dashboard", web::get().to(overview))
        .route("/dashboard/programmes/{id}", web::get().to(programme))
        .route("/dashboard/overdue", web::get().to(overdue))
        .route("/dashboard/calendar", web::get().to(calendar))
        .route("/dashboard/login", web::get().to(login_form))
        .route("/dashboard/login", web::post().to(login))
        .route("/dashboard/logout", web::post().to(logout));
}

/// Who is looking: from a bearer token, else the session cookie.
struct Viewer {
    caller: Caller,
    /// The session's token id when signed in through the cookie.
    session: Option<String>,
}

impl Viewer {
    fn user(&self) -> Option<String> {
        match &self.caller {
            Caller::User(p) => Some(p.username.clone()),
            Caller::Anonymous => None,
        }
    }

    fn may_see(&self, p: &ProgrammeRow) -> bool {
        authorise(
            &self.caller,
            Action::Read,
            Target::Programme {
                body_id: p.body_id.as_deref(),
                public: p.public,
            },
        )
        .is_ok()
    }
}

async fn viewer(req: &HttpRequest, state: &AppState) -> AppResult<Viewer> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        let who = Authenticated::from_request(req, &mut actix_web::dev::Payload::None).await?;
        return Ok(Viewer {
            caller: who.caller,
            session: None,
        });
    }
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        let hash = hash_token(cookie.value());
        let now = state.clock.now().naive_utc();
        let found = state
            .db(move |conn| Ok(store::users::principal_by_token(conn, &hash, now)?))
            .await?;
        // An expired or revoked session reads as anonymous.
        if let Some((token_id, principal)) = found {
            return Ok(Viewer {
                caller: Caller::User(principal),
                session: Some(token_id),
            });
        }
    }
    Ok(Viewer {
        caller: Caller::Anonymous,
        session: None,
    })
}

/// The page's language: `?lang=` (remembered in a cookie), else the cookie,
/// else Accept-Language, else Russian. Returns whether to remember it.
fn language(req: &HttpRequest, asked: Option<&str>) -> AppResult<(Language, bool)> {
    if let Some(code) = asked.filter(|c| !c.is_empty()) {
        let lang = Language::parse(code)
            .filter(|l| LANGUAGES.contains(l))
            .ok_or_else(|| AppError::invalid("lang", format!("`{code}` is not ru, kk or en")))?;
        return Ok((lang, true));
    }
    if let Some(lang) = req
        .cookie(LANG_COOKIE)
        .and_then(|c| Language::parse(c.value()))
        .filter(|l| LANGUAGES.contains(l))
    {
        return Ok((lang, false));
    }
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let Lang(lang) = Lang::from_request_parts(None, accept).unwrap_or(Lang(Language::Ru));
    Ok((dashboard_language(Some(lang)), false))
}

fn secure(state: &AppState) -> bool {
    state.settings.server.public_url.starts_with("https://")
}

fn cookie<'c>(state: &AppState, name: &'c str, value: String) -> Cookie<'c> {
    Cookie::build(name, value)
        .path("/dashboard")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(state))
        .finish()
}

/// An HTML answer; remembers the language when it was asked for.
fn html(
    state: &AppState,
    status: StatusCode,
    markup: Markup,
    remember: Option<Language>,
) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(lang) = remember {
        let mut c = cookie(state, LANG_COOKIE, lang.code().to_string());
        c.set_max_age(time::Duration::days(365));
        res.cookie(c);
    }
    res.body(markup.into_string())
}

fn frame(
    req: &HttpRequest,
    viewer: &Viewer,
    lang: Language,
    query: Vec<(String, String)>,
) -> Frame {
    Frame {
        lang,
        path: req.path().to_string(),
        query,
        user: viewer.user(),
        session: viewer.session.is_some(),
    }
}

/// A date YYYY-MM-DD, or a 400 naming `field`.
fn parse_date(field: &str, text: &str) -> AppResult<NaiveDate> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| AppError::invalid(field, format!("`{text}` is not a date (YYYY-MM-DD)")))?;
    if !(1900..=2200).contains(&date.year()) {
        return Err(AppError::invalid(field, "years are 1900 to 2200"));
    }
    Ok(date)
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn card(p: &ProgrammeRow, totals: crate::report::rollup::StatusCounts) -> AppResult<ProgrammeCard> {
    Ok(ProgrammeCard {
        id: p.id.clone(),
        key: p.key.clone(),
        title: crate::domain::LocalizedText::from_json(&p.title)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("stored programme title: {e}")))?,
        period: p.period_text.clone(),
        public: p.public,
        totals,
    })
}

/// The programmes the viewer may see.
fn visible(conn: &mut Conn, viewer: &Viewer) -> AppResult<Vec<ProgrammeRow>> {
    Ok(store::programmes::list(conn, None)?
        .into_iter()
        .filter(|p| viewer.may_see(p))
        .collect())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    lang: Option<String>,
}

async fn overview(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let (lang, remember) = language(&req, query.lang.as_deref())?;
    let viewer = viewer(&req, &state).await?;
    let today = state.clock.now().date_naive();
    let window = state.settings.status.due_soon_days;
    let caller = viewer.caller.clone();
    let cards = state
        .db(move |conn| {
            let viewer = Viewer {
                caller,
                session: None,
            };
            let mut cards = Vec::new();
            for p in visible(conn, &viewer)? {
                if let Some(r) = store::rollups::programme_rollup(conn, &p.id, None, today, window)?
                {
                    cards.push(card(&p, r.totals)?);
                }
            }
            Ok(cards)
        })
        .await?;
    let f = frame(&req, &viewer, lang, vec![]);
    Ok(html(
        &state,
        StatusCode::OK,
        pages::overview(&f, &cards, today),
        remember.then_some(lang),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeQuery {
    lang: Option<String>,
    as_of: Option<String>,
    section: Option<String>,
    party: Option<String>,
    organisation: Option<String>,
    status: Option<String>,
}

async fn programme(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<ProgrammeQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let (lang, remember) = language(&req, q.lang.as_deref())?;
    let as_of_text = non_empty(q.as_of);
    let as_of = as_of_text
        .as_deref()
        .map(|t| parse_date("as_of", t))
        .transpose()?;
    let filter = TableFilter {
        section: non_empty(q.section),
        party: non_empty(q.party),
        organisation: non_empty(q.organisation),
        status: non_empty(q.status),
    };
    if let Some(s) = filter.status.as_deref() {
        if s != "overdue" && crate::domain::status::Lifecycle::parse(s).is_none() {
            return Err(AppError::invalid(
                "status",
                format!("`{s}` is not a lifecycle state or `overdue`"),
            ));
        }
    }
    let viewer = viewer(&req, &state).await?;
    let today = state.clock.now().date_naive();
    let window = state.settings.status.due_soon_days;
    let caller = viewer.caller.clone();
    let id = id.into_inner();
    let found = state
        .db(move |conn| {
            let viewer = Viewer {
                caller,
                session: None,
            };
            let Some(p) = store::rollups::find_programme(conn, &id)? else {
                return Ok(None);
            };
            if !viewer.may_see(&p) {
                return Ok(None);
            }
            let rollup = store::rollups::programme_rollup(conn, &p.id, as_of, today, window)?;
            let table = store::rollups::implementation_table(conn, &p.id, as_of, today, window)?;
            match (rollup, table) {
                (Some(r), Some(t)) => Ok(Some((card(&p, r.totals.clone())?, r, t))),
                _ => Ok(None),
            }
        })
        .await?;
    let mut kept: Vec<(String, String)> = Vec::new();
    for (name, value) in [
        ("as_of", &as_of_text),
        ("section", &filter.section),
        ("party", &filter.party),
        ("organisation", &filter.organisation),
        ("status", &filter.status),
    ] {
        if let Some(v) = value {
            kept.push((name.to_string(), v.clone()));
        }
    }
    let f = frame(&req, &viewer, lang, kept);
    let remember = remember.then_some(lang);
    Ok(match found {
        Some((card, rollup, table)) => html(
            &state,
            StatusCode::OK,
            pages::programme(&f, &card, &rollup, &table, &filter),
            remember,
        ),
        None => html(
            &state,
            StatusCode::NOT_FOUND,
            pages::not_found(&f),
            remember,
        ),
    })
}

async fn overdue(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let (lang, remember) = language(&req, query.lang.as_deref())?;
    let viewer = viewer(&req, &state).await?;
    let today = state.clock.now().date_naive();
    let window = state.settings.status.due_soon_days;
    let caller = viewer.caller.clone();
    let groups = state
        .db(move |conn| {
            let viewer = Viewer {
                caller,
                session: None,
            };
            let mut groups = Vec::new();
            for p in visible(conn, &viewer)? {
                if let Some(r) = store::rollups::programme_rollup(conn, &p.id, None, today, window)?
                {
                    let c = card(&p, r.totals)?;
                    groups.push(OverdueGroup {
                        programme_id: c.id,
                        title: c.title,
                        items: r.overdue,
                    });
                }
            }
            Ok(groups)
        })
        .await?;
    let f = frame(&req, &viewer, lang, vec![]);
    Ok(html(
        &state,
        StatusCode::OK,
        pages::overdue(&f, &groups, today),
        remember.then_some(lang),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarQuery {
    lang: Option<String>,
    /// YYYY-MM; default: this month.
    month: Option<String>,
}

fn parse_month(text: &str) -> AppResult<NaiveDate> {
    let bad = || AppError::invalid("month", format!("`{text}` is not a month (YYYY-MM)"));
    if text.len() != 7 {
        return Err(bad());
    }
    let first = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").map_err(|_| bad())?;
    if !(1900..=2200).contains(&first.year()) {
        return Err(AppError::invalid("month", "years are 1900 to 2200"));
    }
    Ok(first)
}

async fn calendar(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<CalendarQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let (lang, remember) = language(&req, q.lang.as_deref())?;
    let today = state.clock.now().date_naive();
    let month_text = non_empty(q.month);
    let first = match month_text.as_deref() {
        Some(m) => parse_month(m)?,
        None => today.with_day(1).unwrap_or(today),
    };
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first);
    let viewer = viewer(&req, &state).await?;
    let caller = viewer.caller.clone();
    let base = state.settings.server.public_url.clone();
    let items = state
        .db(move |conn| {
            let viewer = Viewer {
                caller,
                session: None,
            };
            let mut entries = Vec::new();
            for p in visible(conn, &viewer)? {
                let content =
                    store::feeds::content(conn, &store::feeds::Scope::Programme(p.id.clone()))?;
                let (cal, _) =
                    crate::calendar::feed::build(p.key.clone(), &content, lang, today, &base);
                entries.extend(cal.entries);
            }
            // Programmes of one body share its meetings: each entry once.
            let mut seen = std::collections::BTreeSet::new();
            entries.retain(|e| seen.insert((e.uid.clone(), e.recurrence_id)));
            Ok(month_items(&entries, first, last))
        })
        .await?;
    let kept = month_text
        .map(|m| vec![("month".to_string(), m)])
        .unwrap_or_default();
    let f = frame(&req, &viewer, lang, kept);
    Ok(html(
        &state,
        StatusCode::OK,
        pages::calendar(&f, first, &items),
        remember.then_some(lang),
    ))
}

async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let (lang, remember) = language(&req, query.lang.as_deref())?;
    let viewer = viewer(&req, &state).await?;
    let f = frame(&req, &viewer, lang, vec![]);
    Ok(html(
        &state,
        StatusCode::OK,
        pages::login(&f, None, ""),
        remember.then_some(lang),
    ))
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<PageQuery>,
    form: web::Form<LoginForm>,
) -> AppResult<HttpResponse> {
    let (lang, _) = language(&req, query.lang.as_deref())?;
    let form = form.into_inner();
    let now = state.clock.now().naive_utc();
    let throttle = Throttle {
        allowed: LOGIN_FAILURES_ALLOWED,
        since: now - chrono::Duration::minutes(LOGIN_WINDOW_MINUTES),
    };
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let username = form.username.trim().to_string();
    let name = username.clone();
    let outcome = state
        .db(move |conn| {
            Ok(store::sessions::open(
                conn,
                &name,
                &form.password,
                &throttle,
                now,
                request_id,
            )?)
        })
        .await?;
    let l = labels(lang);
    let anonymous = Viewer {
        caller: Caller::Anonymous,
        session: None,
    };
    let (status, error) = match outcome {
        SignIn::Opened { token, .. } => {
            let mut c = cookie(&state, SESSION_COOKIE, token);
            c.set_max_age(time::Duration::hours(SESSION_HOURS));
            return Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/dashboard?lang={}", lang.code())))
                .cookie(c)
                .finish());
        }
        SignIn::Refused => (StatusCode::UNAUTHORIZED, l.login_failed),
        SignIn::Throttled => (StatusCode::TOO_MANY_REQUESTS, l.login_throttled),
    };
    let mut f = frame(&req, &anonymous, lang, vec![]);
    f.path = "/dashboard/login".into();
    Ok(html(
        &state,
        status,
        pages::login(&f, Some(error), &username),
        None,
    ))
}

async fn logout(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    let viewer = viewer(&req, &state).await?;
    if let (Some(token_id), Caller::User(p)) = (viewer.session.clone(), &viewer.caller) {
        let ctx = WriteContext {
            actor: format!("user:{}", p.username),
            at: state.clock.now().naive_utc(),
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        };
        state
            .db(move |conn| Ok(store::sessions::close(conn, &ctx, &token_id)?))
            .await?;
    }
    let mut gone = cookie(&state, SESSION_COOKIE, String::new());
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/dashboard"))
        .cookie(gone)
        .finish())
}
