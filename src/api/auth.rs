//! Authentication: the `Caller` extractor (bearer tokens), token issue and
//! revocation, and the login rate limit.

use crate::store::sessions::SignIn;
use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AppState, RequestId};
use crate::db::Conn;
use crate::domain::access::{authorise, Action, Caller, Denied, Principal, Target};
use crate::domain::credentials::hash_token;
use crate::error::{AppError, AppResult, FieldError};
use crate::store::{self, WriteContext};

/// Failed logins for one user name within the window before logins for it are refused.
pub const LOGIN_FAILURES_ALLOWED: i64 = 5;
pub const LOGIN_WINDOW_MINUTES: i64 = 15;
const DEFAULT_TOKEN_HOURS: u32 = 24 * 30;
const MAX_TOKEN_HOURS: u32 = 24 * 365;

/// The authenticated caller, and the token used (for revocation).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub caller: Caller,
    pub token_id: Option<String>,
}

impl Authenticated {
    pub fn anonymous() -> Self {
        Authenticated {
            caller: Caller::Anonymous,
            token_id: None,
        }
    }

    /// Checks access in the one place it is decided, mapping a refusal to 401 or 403.
    pub fn may(&self, action: Action, target: Target<'_>) -> AppResult<()> {
        authorise(&self.caller, action, target).map_err(|denied| match denied {
            Denied::Unauthenticated => AppError::Unauthenticated(
                "this needs a bearer token: POST /api/v1/auth/token".into(),
            ),
            Denied::Forbidden(why) => AppError::Forbidden(why),
        })
    }

    /// Writes need a signed-in user: anonymous callers get 401 before their
    /// request is even read.
    pub fn signed_in(&self) -> AppResult<&Principal> {
        self.principal().ok_or_else(|| {
            AppError::Unauthenticated("this needs a bearer token: POST /api/v1/auth/token".into())
        })
    }

    pub fn principal(&self) -> Option<&Principal> {
        match &self.caller {
            Caller::User(p) => Some(p),
            Caller::Anonymous => None,
        }
    }
}

/// Who, when and under which request a write happens.
pub fn write_context(state: &AppState, who: &Authenticated, req: &HttpRequest) -> WriteContext {
    WriteContext {
        actor: who.caller.actor(),
        at: state.clock.now().naive_utc(),
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
    }
}

/// The bearer token of a request, read but not yet checked. Hot paths take
/// this instead of `Authenticated` and resolve it inside their own database
/// call: one blocking hop and one pooled connection per request, not two.
#[derive(Debug, Clone)]
pub struct Credentials {
    token_hash: Option<String>,
    now: NaiveDateTime,
}

impl Credentials {
    fn read(req: &HttpRequest, now: NaiveDateTime) -> AppResult<Self> {
        let Some(header) = req.headers().get(actix_web::http::header::AUTHORIZATION) else {
            return Ok(Credentials {
                token_hash: None,
                now,
            });
        };
        let header = header.to_str().map_err(|_| invalid_token())?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AppError::Unauthenticated(
                    "the Authorization header must be `Bearer <token>`".into(),
                )
            })?;
        Ok(Credentials {
            token_hash: Some(hash_token(token)),
            now,
        })
    }

    /// Who is calling: anonymous without a token, 401 for a token that is
    /// not valid, expired or revoked.
    pub fn resolve(self, conn: &mut Conn) -> AppResult<Authenticated> {
        let Some(hash) = self.token_hash else {
            return Ok(Authenticated::anonymous());
        };
        match store::users::principal_by_token(conn, &hash, self.now)? {
            Some((token_id, principal)) => Ok(Authenticated {
                caller: Caller::User(principal),
                token_id: Some(token_id),
            }),
            None => Err(invalid_token()),
        }
    }
}

fn invalid_token() -> AppError {
    AppError::Unauthenticated("the bearer token is not valid, expired or revoked".into())
}

fn app_state(req: &HttpRequest) -> AppResult<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no application state")))
}

impl FromRequest for Credentials {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            app_state(req).and_then(|state| Credentials::read(req, state.clock.now().naive_utc())),
        )
    }
}

impl FromRequest for Authenticated {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let read = app_state(req).and_then(|state| {
            let credentials = Credentials::read(req, state.clock.now().naive_utc())?;
            Ok((state, credentials))
        });
        Box::pin(async move {
            let (state, credentials) = read?;
            if credentials.token_hash.is_none() {
                return Ok(Authenticated::anonymous());
            }
            state.db(move |conn| credentials.resolve(conn)).await
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
    /// What the token is for ("ministry portal", "laptop").
    pub label: Option<String>,
    /// Hours until it expires: 1 to 8760, default 720 (30 days).
    pub expires_in_hours: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenIssued {
    /// Shown once; only its hash is stored.
    pub token: String,
    pub token_id: String,
    pub token_type: &'static str,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

#[utoipa::path(
    post, path = "/api/v1/auth/token", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 201, description = "Token issued", body = TokenIssued),
        (status = 400, description = "Invalid request", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong user name or password", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this user name", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<TokenRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let hours = body.expires_in_hours.unwrap_or(DEFAULT_TOKEN_HOURS);
    if hours == 0 || hours > MAX_TOKEN_HOURS {
        return Err(AppError::Validation(vec![FieldError::new(
            "expires_in_hours",
            format!("must be 1 to {MAX_TOKEN_HOURS}"),
        )]));
    }
    let now = state.clock.now().naive_utc();
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let issued = state
        .db(move |conn| {
            let throttle = store::sessions::Throttle {
                allowed: LOGIN_FAILURES_ALLOWED,
                since: now - Duration::minutes(LOGIN_WINDOW_MINUTES),
            };
            let lifetime = Duration::hours(i64::from(hours));
            match store::sessions::sign_in(conn, &body.username, &body.password, body.label.clone(), lifetime, &throttle, now, request_id)? {
                SignIn::Opened { token, token_id, expires_at } => Ok(TokenIssued { token, token_id, token_type: "Bearer", expires_at: expires_at.and_utc() }),
                SignIn::Refused => Err(AppError::Unauthenticated("wrong user name or password".into())),
                SignIn::Throttled => Err(AppError::TooManyRequests {
                    message: format!("too many failed logins for this user name; try again in {LOGIN_WINDOW_MINUTES} minutes"),
                    retry_after_secs: u64::try_from(LOGIN_WINDOW_MINUTES * 60).unwrap_or(900),
                }),
            }
        })
        .await?;
    Ok(HttpResponse::Created().json(issued))
}

#[utoipa::path(
    delete, path = "/api/v1/auth/token", tag = "auth",
    responses(
        (status = 204, description = "The token used for this request is revoked"),
        (status = 401, description = "No valid token", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
) -> AppResult<HttpResponse> {
    let Some(token_id) = who.token_id.clone() else {
        return Err(AppError::Unauthenticated("no token to revoke".into()));
    };
    let ctx = write_context(&state, &who, &req);
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                store::users::revoke_token(conn, &ctx, &token_id)
            })?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub role: String,
    pub organisation_id: Option<String>,
    pub party_id: Option<String>,
    pub bodies: Vec<String>,
}

#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth",
    responses(
        (status = 200, description = "The signed-in user", body = Me),
        (status = 401, description = "No valid token", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn me(who: Authenticated) -> AppResult<HttpResponse> {
    let p = who
        .principal()
        .ok_or_else(|| AppError::Unauthenticated("this needs a bearer token".into()))?;
    Ok(HttpResponse::Ok().json(Me {
        username: p.username.clone(),
        role: p.role.to_string(),
        organisation_id: p.organisation_id.clone(),
        party_id: p.party_id.clone(),
        bodies: p.bodies.clone(),
    }))
}
