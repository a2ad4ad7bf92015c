//! HTTP: thin handlers that parse, call `store`/`domain`, and respond.

pub mod agreements;
pub mod audit;
pub mod auth;
pub mod bodies;
pub mod body;
pub mod calendar;
pub mod dashboard;
pub mod etag;
pub mod events;
pub mod health;
pub mod lang;
pub mod lead_times;
pub mod metrics;
pub mod notifications;
pub mod obligations;
pub mod openapi;
pub mod organisations;
pub mod pagination;
pub mod parties;
pub mod programmes;
pub mod reminder_policies;
pub mod reports;
pub mod rollups;

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::{Pool, PooledConn};
use crate::error::{AppError, AppResult};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub clock: SharedClock,
    pub settings: Arc<Settings>,
}

impl AppState {
    /// Runs blocking database work off the async workers (never block_in_place:
    /// it panics on actix-web's single-threaded runtimes).
    pub async fn db<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut PooledConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }
}

/// The id of one request, in the log and in the `x-request-id` header.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    let path = req.path().to_string();
    let result = next.call(req).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                res.headers_mut()
                    .insert(HeaderName::from_static("x-request-id"), value);
            }
            tracing::info!(request_id, method, path, status, latency_ms, "request");
            Ok(res)
        }
        Err(e) => {
            let status = e.as_response_error().status_code().as_u16();
            tracing::info!(request_id, method, path, status, latency_ms, "request");
            Err(e)
        }
    }
}

/// Routes of the service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(health::ready))
        .route("/metrics", web::get().to(metrics::metrics))
        .service(
            web::scope("/api/v1")
                .route("/openapi.json", web::get().to(openapi_json))
                .route("/audit", web::get().to(audit::list))
                .route("/auth/token", web::post().to(auth::issue_token))
                .route("/auth/token", web::delete().to(auth::revoke_token))
                .route("/auth/me", web::get().to(auth::me))
                .route("/obligations", web::get().to(obligations::list))
                .route("/obligations/{id}", web::get().to(obligations::one))
                .route("/obligations/{id}", web::patch().to(obligations::patch))
                .route("/obligations/{id}", web::put().to(obligations::put))
                .route(
                    "/obligations/{id}/reports",
                    web::get().to(obligations::reports),
                )
                .route(
                    "/obligations/{id}/reports",
                    web::post().to(obligations::report),
                )
                .route("/programmes", web::get().to(programmes::list))
                .route("/programmes/{id}", web::get().to(programmes::one))
                .route("/agreements", web::get().to(agreements::list))
                .route("/agreements/{id}", web::get().to(agreements::one))
                .configure(parties::routes)
                .configure(organisations::routes)
                .configure(agreements::routes)
                .configure(bodies::routes)
                .configure(programmes::routes)
                .configure(events::routes)
                .configure(lead_times::routes)
                .configure(reminder_policies::routes)
                .configure(notifications::routes)
                .configure(reports::routes)
                .configure(rollups::routes)
                .configure(calendar::routes),
        )
        .configure(calendar::feed_routes)
        .configure(dashboard::routes);
}

async fn openapi_json() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(openapi::document())
}

/// Malformed query strings, paths and bodies answer problem+json like every other error.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _| AppError::BadRequest(format!("query string: {err}")).into())
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|err, _| AppError::BadRequest(format!("path: {err}")).into())
}

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _| AppError::BadRequest(format!("body: {err}")).into())
}

/// The answer to any route that does not exist: 405 with `Allow` when the
/// path exists with other methods (as the OpenAPI document says), else 404.
pub async fn not_found(req: actix_web::HttpRequest) -> AppResult<actix_web::HttpResponse> {
    static DOCUMENT: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    let doc = DOCUMENT.get_or_init(openapi::document);
    if let Some(methods) = openapi::allowed_methods(doc, req.path()) {
        if !methods.is_empty() {
            return Err(AppError::MethodNotAllowed {
                method: req.method().to_string(),
                allowed: methods.join(", "),
            });
        }
    }
    Err(AppError::NotFound {
        entity: "route",
        id: req.path().to_string(),
    })
}
