//! Agreements, read-only for now.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::programmes::text;
use super::AppState;
use crate::domain::LocalizedText;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::agreements::AgreementRow;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub party: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SignedView {
    pub kind: String,
    pub text: String,
    pub earliest: Option<NaiveDate>,
    pub latest: Option<NaiveDate>,
}

#[derive(Debug, Serialize)]
pub struct AgreementView {
    pub id: String,
    pub key: String,
    pub kind: String,
    pub level: String,
    pub title: LocalizedText,
    pub parties: Vec<String>,
    /// As precisely as the source gives it.
    pub signed: Option<SignedView>,
    pub place: Option<String>,
    pub in_force_on: Option<NaiveDate>,
    pub term_months: Option<i32>,
    pub renewal_months: Option<i32>,
    pub notice_months: Option<i32>,
    pub valid_until: Option<NaiveDate>,
    pub source: Option<String>,
    pub note: Option<String>,
    pub version: i32,
}

#[derive(Debug, Serialize)]
pub struct AgreementDetail {
    #[serde(flatten)]
    pub agreement: AgreementView,
    pub signatories: Vec<String>,
    pub programmes: Vec<ProgrammeRef>,
}

#[derive(Debug, Serialize)]
pub struct ProgrammeRef {
    pub id: String,
    pub key: String,
    pub title: LocalizedText,
}

fn view(row: AgreementRow, parties: Vec<String>) -> AppResult<AgreementView> {
    let signed = match (row.signed_kind, row.signed_text) {
        (Some(kind), Some(text)) => Some(SignedView {
            kind,
            text,
            earliest: row.signed_earliest,
            latest: row.signed_latest,
        }),
        _ => None,
    };
    Ok(AgreementView {
        title: text(&row.title)?,
        id: row.id,
        key: row.key,
        kind: row.kind,
        level: row.level,
        parties,
        signed,
        place: row.place,
        in_force_on: row.in_force_on,
        term_months: row.term_months,
        renewal_months: row.renewal_months,
        notice_months: row.notice_months,
        valid_until: row.valid_until,
        source: row.source,
        note: row.note,
        version: row.version,
    })
}

pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let party = query.into_inner().party;
    let items = state
        .db(move |conn| {
            let rows = store::agreements::list(conn, party.as_deref())?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let mut parties: HashMap<String, Vec<String>> = HashMap::new();
            for (id, code) in store::agreements::party_codes(conn, &ids)? {
                parties.entry(id).or_default().push(code);
            }
            rows.into_iter()
                .map(|r| {
                    let codes = parties.remove(&r.id).unwrap_or_default();
                    view(r, codes)
                })
                .collect::<AppResult<Vec<_>>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

pub async fn one(state: web::Data<AppState>, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let detail = state
        .db(move |conn| {
            let row = if uuid::Uuid::parse_str(&id).is_ok() {
                store::agreements::by_id(conn, &id)?
            } else {
                store::agreements::by_key(conn, &id)?
            }
            .ok_or_else(|| AppError::not_found("agreement", &id))?;
            let parties = store::agreements::party_codes(conn, std::slice::from_ref(&row.id))?
                .into_iter()
                .map(|(_, code)| code)
                .collect();
            let signatory_ids = store::agreements::signatory_ids(conn, &row.id)?;
            let signatories = store::organisations::by_ids(conn, &signatory_ids)?
                .into_iter()
                .map(|o| o.key)
                .collect();
            let programmes = store::programmes::of_agreement(conn, &row.id)?
                .into_iter()
                .map(|p| {
                    Ok(ProgrammeRef {
                        title: text(&p.title)?,
                        id: p.id,
                        key: p.key,
                    })
                })
                .collect::<AppResult<Vec<_>>>()?;
            Ok(AgreementDetail {
                agreement: view(row, parties)?,
                signatories,
                programmes,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// More routes of this module, under /api/v1 (the read-only ones are in `api::configure`).
pub fn routes(_cfg: &mut actix_web::web::ServiceConfig) {}

/// The OpenAPI paths of this module not listed in `openapi::ApiDoc`.
#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Doc;
