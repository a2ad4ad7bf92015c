//! Liveness and readiness.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::AppState;
use crate::db::migrate;
use crate::error::{AppError, AppResult};

/// The process is up.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers and carries every migration this binary knows.
pub async fn ready(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let (backend, up_to_date) = state
        .db(|conn| {
            let backend = conn.backend();
            let up_to_date = migrate::is_up_to_date(conn)
                .map_err(|e| AppError::Unavailable(format!("cannot read migrations: {e}")))?;
            Ok((backend, up_to_date))
        })
        .await?;
    if !up_to_date {
        return Err(AppError::Unavailable(
            "the database has pending migrations: run `accord migrate`".into(),
        ));
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ready", "database": backend.to_string() })))
}
