//! The audit log, for admins and secretariats.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Authenticated;
use super::AppState;
use crate::domain::access::{Action, Target};
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::audit::{AuditFilter, AuditRow};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// What kind of record: obligation, status_report, programme, ...
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Who: `user:<name>`, `cli:import`, `demo`.
    pub actor: Option<String>,
    /// From this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Up to this instant (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// 1 to 500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One audit entry; `before` and `after` are the record as JSON text.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            at: r.at.and_utc(),
            actor: r.actor,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            before: r.before,
            after: r.after,
            request_id: r.request_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "Audit entries, newest first", body = AuditPage),
        (status = 400, description = "Invalid filter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and secretariats only", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    who: Authenticated,
    query: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    who.may(Action::Read, Target::Audit)?;
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "must be 1 to 500"));
    }
    let before = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => {
            let bad = || AppError::invalid("cursor", "is not a cursor this API gave out");
            let raw = String::from_utf8(hex::decode(c).map_err(|_| bad())?).map_err(|_| bad())?;
            let (at, id) = raw.split_once('|').ok_or_else(bad)?;
            let at = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S%.f")
                .map_err(|_| bad())?;
            Some((at, id.to_string()))
        }
        None => None,
    };
    let filter = AuditFilter {
        entity: q.entity,
        entity_id: q.entity_id,
        actor: q.actor,
        from: q.from.map(|t| t.naive_utc()),
        to: q.to.map(|t| t.naive_utc()),
    };
    let page = state
        .db(move |conn| {
            let mut items = store::audit::search(conn, &filter, before, limit + 1)?;
            let more = items.len() as i64 > limit;
            items.truncate(limit as usize);
            let next_cursor = if more {
                items.last().map(|e| {
                    hex::encode(format!("{}|{}", e.at.format("%Y-%m-%dT%H:%M:%S%.f"), e.id))
                })
            } else {
                None
            };
            Ok(AuditPage {
                items: items.into_iter().map(AuditEntry::from).collect(),
                next_cursor,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
