//! Agreements: the legal instruments. Anyone reads them; admins and
//! secretariats write them.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{write_context, Authenticated};
use super::body::{merge_patch, read, JsonBody};
use super::etag::{expected_version, ok_with_etag, stale, with_etag};
use super::lang::Lang;
use super::pagination;
use super::AppState;
use crate::db::Conn;
use crate::domain::access::{Action, Target};
use crate::domain::keys::is_key;
use crate::domain::kinds::{AgreementKind, AgreementLevel};
use crate::domain::timeframe::{Timeframe, TimeframeKind};
use crate::domain::{Language, LocalizedText};
use crate::error::{AppError, AppResult, FieldError};
use crate::store::agreements::{AgreementFilter, AgreementRow};
use crate::store::{self, Versioned};

/// PostgreSQL text cannot hold NUL: refuse it in any string of a body up
/// front, naming the field, so both backends answer 400 alike.
pub(crate) fn refuse_nul(value: &serde_json::Value) -> AppResult<()> {
    fn walk(value: &serde_json::Value, path: &str, errors: &mut Vec<FieldError>) {
        let here = |p: &str| {
            if p.is_empty() {
                "body".to_string()
            } else {
                p.to_string()
            }
        };
        match value {
            serde_json::Value::String(s) if s.contains('\0') => {
                errors.push(FieldError::new(here(path), "contains a NUL character"));
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{i}]"), errors);
                }
            }
            serde_json::Value::Object(map) => {
                for (key, item) in map {
                    let field = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    if key.contains('\0') {
                        errors.push(FieldError::new(
                            here(path),
                            "a field name contains a NUL character",
                        ));
                    } else {
                        walk(item, &field, errors);
                    }
                }
            }
            _ => {}
        }
    }
    let mut errors = Vec::new();
    walk(value, "", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The key a key-ordered list's cursor names.
pub(crate) fn key_cursor(cursor: Option<&str>) -> AppResult<Option<String>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    match pagination::decode(cursor, 1)?.pop() {
        Some(key) if !key.contains('\0') => Ok(Some(key)),
        _ => Err(AppError::invalid(
            "cursor",
            "is not a cursor this API gave out",
        )),
    }
}

/// A party by code; a code no party can have finds none without asking the database.
pub(crate) fn party_by_code(
    conn: &mut Conn,
    code: &str,
) -> AppResult<Option<store::parties::PartyRow>> {
    if code.is_empty() || code.len() > 10 || code.contains('\0') {
        return Ok(None);
    }
    Ok(store::parties::by_code(conn, code)?)
}

/// Stored multilingual text; a stored value that does not parse is our fault (500).
pub(crate) fn stored_text(json: &str) -> AppResult<LocalizedText> {
    LocalizedText::from_json(json).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))
}

/// Checks a free-text field's length (characters).
pub(crate) fn check_length(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    max: usize,
) {
    if value.is_some_and(|v| v.chars().count() > max) {
        errors.push(FieldError::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Party code: agreements this party is a party to.
    pub party: Option<String>,
    pub kind: Option<AgreementKind>,
    pub level: Option<AgreementLevel>,
    /// Signed on or after this date (the signature range ends on or after it).
    pub signed_from: Option<NaiveDate>,
    /// Signed on or before this date (the signature range starts on or before it).
    pub signed_to: Option<NaiveDate>,
    /// Text to find in the title, in any language, ignoring case.
    pub q: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Language of the display values (also from Accept-Language).
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedView {
    pub kind: TimeframeKind,
    /// As the source writes it.
    pub text: String,
    pub earliest: Option<NaiveDate>,
    pub latest: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementView {
    pub id: String,
    pub key: String,
    pub kind: AgreementKind,
    pub level: AgreementLevel,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub title: LocalizedText,
    /// The title in the reader's language.
    pub title_display: String,
    /// Party codes.
    pub parties: Vec<String>,
    /// Organisation keys.
    pub signatories: Vec<String>,
    /// As precisely as the source gives it.
    pub signed: Option<SignedView>,
    pub place: Option<String>,
    pub in_force_on: Option<NaiveDate>,
    pub term_months: Option<i32>,
    pub renewal_months: Option<i32>,
    pub notice_months: Option<i32>,
    pub valid_until: Option<NaiveDate>,
    /// The period running today and the last day to give notice of
    /// non-renewal, from entry into force, term, renewal and notice.
    pub notice: Option<crate::domain::timeframe::NoticeDeadline>,
    pub source: Option<String>,
    pub note: Option<String>,
    pub version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementDetail {
    #[serde(flatten)]
    pub agreement: AgreementView,
    /// Programmes that implement it.
    pub programmes: Vec<ProgrammeRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeRef {
    pub id: String,
    pub key: String,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub title: LocalizedText,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementPage {
    pub items: Vec<AgreementView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many agreements match the filters.
    pub total: i64,
}

fn corrupt(what: &str, value: &str) -> AppError {
    AppError::Internal(anyhow::anyhow!("stored {what} is not valid: {value}"))
}

/// Views of agreement rows, with their party codes and signatory keys.
fn views(
    conn: &mut Conn,
    rows: Vec<AgreementRow>,
    lang: Language,
    today: NaiveDate,
) -> AppResult<Vec<AgreementView>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut parties: HashMap<String, Vec<String>> = HashMap::new();
    for (id, code) in store::agreements::party_codes(conn, &ids)? {
        parties.entry(id).or_default().push(code);
    }
    let mut signatories_of: HashMap<String, Vec<String>> = HashMap::new();
    for (id, key) in store::agreements::signatory_keys(conn, &ids)? {
        signatories_of.entry(id).or_default().push(key);
    }
    rows.into_iter()
        .map(|row| {
            let signatories = signatories_of.remove(&row.id).unwrap_or_default();
            let signed = match (&row.signed_kind, &row.signed_text) {
                (Some(kind), Some(text)) => Some(SignedView {
                    kind: TimeframeKind::parse(kind)
                        .ok_or_else(|| corrupt("signature timeframe", kind))?,
                    text: text.clone(),
                    earliest: row.signed_earliest,
                    latest: row.signed_latest,
                }),
                _ => None,
            };
            let title = stored_text(&row.title)?;
            Ok(AgreementView {
                title_display: title.display(lang).to_string(),
                title,
                kind: AgreementKind::parse(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?,
                level: AgreementLevel::parse(&row.level)
                    .ok_or_else(|| corrupt("level", &row.level))?,
                parties: parties.remove(&row.id).unwrap_or_default(),
                signatories,
                signed,
                place: row.place,
                in_force_on: row.in_force_on,
                term_months: row.term_months,
                renewal_months: row.renewal_months,
                notice_months: row.notice_months,
                valid_until: row.valid_until,
                notice: crate::domain::timeframe::notice_deadline(
                    row.in_force_on,
                    row.term_months,
                    row.renewal_months,
                    row.notice_months,
                    today,
                ),
                source: row.source,
                note: row.note,
                version: row.version,
                id: row.id,
                key: row.key,
            })
        })
        .collect()
}

fn view(
    conn: &mut Conn,
    row: AgreementRow,
    lang: Language,
    today: NaiveDate,
) -> AppResult<AgreementView> {
    views(conn, vec![row], lang, today)?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("agreement vanished")))
}

#[utoipa::path(
    get, path = "/api/v1/agreements", tag = "agreements",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of agreements in key order", body = AgreementPage),
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
    let today = state.clock.now().date_naive();
    who.may(Action::Read, Target::Agreement)?;
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    if let (Some(from), Some(to)) = (q.signed_from, q.signed_to) {
        if to < from {
            return Err(AppError::invalid("signed_to", "is before signed_from"));
        }
    }
    if q.q.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(AppError::invalid("q", "is longer than 200 characters"));
    }
    let after = key_cursor(q.cursor.as_deref())?;
    let page = state
        .db(move |conn| {
            let mut filter = AgreementFilter {
                kind: q.kind.map(|k| k.as_str().to_string()),
                level: q.level.map(|l| l.as_str().to_string()),
                signed_from: q.signed_from,
                signed_to: q.signed_to,
                text: q
                    .q
                    .as_ref()
                    .map(|t| t.trim().to_lowercase())
                    .filter(|t| !t.is_empty()),
                ..AgreementFilter::default()
            };
            if let Some(code) = &q.party {
                match party_by_code(conn, code)? {
                    Some(p) => filter.party_id = Some(p.id),
                    None => {
                        return Ok(AgreementPage {
                            items: vec![],
                            next_cursor: None,
                            total: 0,
                        })
                    }
                }
            }
            let (mut rows, total) =
                store::agreements::search(conn, &filter, after.as_deref(), limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = if more {
                rows.last().map(|r| pagination::encode(&[&r.key]))
            } else {
                None
            };
            Ok(AgreementPage {
                items: views(conn, rows, lang.0, today)?,
                next_cursor,
                total,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// An agreement by id (UUID) or key.
fn find(conn: &mut Conn, id_or_key: &str) -> AppResult<AgreementRow> {
    if uuid::Uuid::parse_str(id_or_key).is_ok() {
        store::agreements::by_id(conn, id_or_key)?
    } else if is_key(id_or_key) {
        store::agreements::by_key(conn, id_or_key)?
    } else {
        None
    }
    .ok_or_else(|| AppError::not_found("agreement", id_or_key))
}

fn detail(
    conn: &mut Conn,
    row: AgreementRow,
    lang: Language,
    today: NaiveDate,
) -> AppResult<AgreementDetail> {
    let programmes = store::programmes::of_agreement(conn, &row.id)?
        .into_iter()
        .map(|p| {
            Ok(ProgrammeRef {
                title: stored_text(&p.title)?,
                id: p.id,
                key: p.key,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(AgreementDetail {
        agreement: view(conn, row, lang, today)?,
        programmes,
    })
}

#[utoipa::path(
    get, path = "/api/v1/agreements/{id}", tag = "agreements",
    params(("id" = String, Path, description = "Agreement id (UUID) or key")),
    responses(
        (status = 200, description = "The agreement, with its ETag", body = AgreementDetail),
        (status = 401, description = "Invalid token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agreement", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn one(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: Lang,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let today = state.clock.now().date_naive();
    who.may(Action::Read, Target::Agreement)?;
    let id = id.into_inner();
    let detail = state
        .db(move |conn| {
            let row = find(conn, &id)?;
            detail(conn, row, lang.0, today)
        })
        .await?;
    Ok(ok_with_etag(detail.agreement.version, &detail))
}

fn intergovernmental() -> AgreementLevel {
    AgreementLevel::Intergovernmental
}

/// An agreement as the import format writes it. PUT sends all; PATCH sends a
/// JSON merge patch of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementInput {
    /// Lowercase letters, digits and dashes.
    pub key: String,
    pub kind: AgreementKind,
    /// Default intergovernmental.
    #[serde(default = "intergovernmental")]
    pub level: AgreementLevel,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub title: LocalizedText,
    /// Party codes, at least two.
    pub parties: Vec<String>,
    /// Organisation keys.
    #[serde(default)]
    pub signatories: Vec<String>,
    /// When it was signed, as the source gives it: "1994-03-28", "2012-09", "2012".
    pub signed: Option<String>,
    pub place: Option<String>,
    /// Entry into force: an exact date, not before the signature.
    pub in_force: Option<NaiveDate>,
    /// Initial term, 1 to 1200 months.
    pub term_months: Option<i32>,
    /// Automatic renewal period, 1 to 1200 months.
    pub renewal_months: Option<i32>,
    /// Notice of non-renewal, 0 to 1200 months.
    pub notice_months: Option<i32>,
    /// A timeframe; its last day is kept ("2020" is 2020-12-31).
    pub valid_until: Option<String>,
    pub source: Option<String>,
    pub note: Option<String>,
}

fn current_input(conn: &mut Conn, row: &AgreementRow) -> AppResult<AgreementInput> {
    let mut parties: Vec<String> =
        store::agreements::party_codes(conn, std::slice::from_ref(&row.id))?
            .into_iter()
            .map(|(_, code)| code)
            .collect();
    parties.sort();
    let signatory_ids = store::agreements::signatory_ids(conn, &row.id)?;
    let mut signatories: Vec<String> = store::organisations::by_ids(conn, &signatory_ids)?
        .into_iter()
        .map(|o| o.key)
        .collect();
    signatories.sort();
    Ok(AgreementInput {
        key: row.key.clone(),
        kind: AgreementKind::parse(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?,
        level: AgreementLevel::parse(&row.level).ok_or_else(|| corrupt("level", &row.level))?,
        title: stored_text(&row.title)?,
        parties,
        signatories,
        signed: row.signed_text.clone(),
        place: row.place.clone(),
        in_force: row.in_force_on,
        term_months: row.term_months,
        renewal_months: row.renewal_months,
        notice_months: row.notice_months,
        valid_until: row.valid_until.map(|d| d.to_string()),
        source: row.source.clone(),
        note: row.note.clone(),
    })
}

/// A checked input: the row (over `base`), party ids and signatory ids.
fn check_input(
    conn: &mut Conn,
    input: &AgreementInput,
    base: AgreementRow,
) -> AppResult<(AgreementRow, Vec<String>, Vec<String>)> {
    let mut errors = Vec::new();
    let key = input.key.trim().to_string();
    if !is_key(&key) {
        errors.push(FieldError::new(
            "key",
            format!("`{key}` is not a key: use lowercase letters, digits and dashes"),
        ));
    } else if key != base.key && store::agreements::by_key(conn, &key)?.is_some() {
        errors.push(FieldError::new(
            "key",
            format!("agreement `{key}` already exists"),
        ));
    }
    if input.parties.len() < 2 {
        errors.push(FieldError::new(
            "parties",
            "an agreement has at least two parties",
        ));
    }
    let mut party_ids: Vec<String> = Vec::new();
    for (i, code) in input.parties.iter().enumerate() {
        match store::parties::by_code(conn, code)? {
            Some(p) if party_ids.contains(&p.id) => errors.push(FieldError::new(
                format!("parties[{i}]"),
                format!("`{code}` is named twice"),
            )),
            Some(p) => party_ids.push(p.id),
            None => errors.push(FieldError::new(
                format!("parties[{i}]"),
                format!("`{code}` is not a party"),
            )),
        }
    }
    let mut signatory_ids: Vec<String> = Vec::new();
    for (i, key) in input.signatories.iter().enumerate() {
        match store::organisations::by_key(conn, key)? {
            Some(o) if signatory_ids.contains(&o.id) => errors.push(FieldError::new(
                format!("signatories[{i}]"),
                format!("`{key}` is named twice"),
            )),
            Some(o) => signatory_ids.push(o.id),
            None => errors.push(FieldError::new(
                format!("signatories[{i}]"),
                format!("`{key}` is not an organisation"),
            )),
        }
    }
    let signed = match &input.signed {
        Some(text) => match Timeframe::parse(text, None) {
            Ok(t) if t.kind == TimeframeKind::ToBeAgreed => {
                errors.push(FieldError::new(
                    "signed",
                    "a signature has a date (or a month or year); leave `signed` out when it is not known",
                ));
                None
            }
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(FieldError::new("signed", e.to_string()));
                None
            }
        },
        None => None,
    };
    if let (Some(signed), Some(in_force)) =
        (signed.as_ref().and_then(|s| s.earliest), input.in_force)
    {
        if in_force < signed {
            errors.push(FieldError::new(
                "in_force",
                format!("enters into force ({in_force}) before it is signed ({signed})"),
            ));
        }
    }
    let valid_until = match &input.valid_until {
        Some(text) => match Timeframe::parse(text, None) {
            Ok(t) if t.latest.is_some() => t.latest,
            Ok(_) => {
                errors.push(FieldError::new(
                    "valid_until",
                    "needs a date, month or year; leave it out when it is not known",
                ));
                None
            }
            Err(e) => {
                errors.push(FieldError::new("valid_until", e.to_string()));
                None
            }
        },
        None => None,
    };
    for (field, value, min) in [
        ("term_months", input.term_months, 1),
        ("renewal_months", input.renewal_months, 1),
        ("notice_months", input.notice_months, 0),
    ] {
        if let Some(n) = value.filter(|n| *n < min || *n > 1200) {
            errors.push(FieldError::new(
                field,
                format!("{n} is out of range: {min} to 1200 months"),
            ));
        }
    }
    check_length(&mut errors, "place", input.place.as_deref(), 200);
    check_length(&mut errors, "source", input.source.as_deref(), 1000);
    check_length(&mut errors, "note", input.note.as_deref(), 10_000);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let row = AgreementRow {
        key,
        kind: input.kind.as_str().to_string(),
        level: input.level.as_str().to_string(),
        title: input.title.to_json(),
        signed_kind: signed.as_ref().map(|s| s.kind.as_str().to_string()),
        signed_text: signed.as_ref().map(|s| s.source.clone()),
        signed_earliest: signed.as_ref().and_then(|s| s.earliest),
        signed_latest: signed.as_ref().and_then(|s| s.latest),
        place: input.place.clone(),
        in_force_on: input.in_force,
        term_months: input.term_months,
        renewal_months: input.renewal_months,
        notice_months: input.notice_months,
        valid_until,
        source: input.source.clone(),
        note: input.note.clone(),
        ..base
    };
    Ok((row, party_ids, signatory_ids))
}

#[utoipa::path(
    post, path = "/api/v1/agreements", tag = "agreements",
    request_body = AgreementInput,
    responses(
        (status = 201, description = "Created; Location names it", body = AgreementDetail),
        (status = 400, description = "Invalid agreement", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and secretariats write agreements", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    body: Result<JsonBody, AppError>,
) -> AppResult<HttpResponse> {
    let today = state.clock.now().date_naive();
    who.may(Action::Create, Target::Agreement)?;
    let lang = lang?;
    let body = body?;
    refuse_nul(&body.0)?;
    let input: AgreementInput = read(body.0)?;
    let ctx = write_context(&state, &who, &req);
    let st = state.clone();
    let detail = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let base = AgreementRow {
                    id: store::new_id(),
                    key: String::new(),
                    kind: String::new(),
                    level: String::new(),
                    title: String::new(),
                    signed_kind: None,
                    signed_text: None,
                    signed_earliest: None,
                    signed_latest: None,
                    place: None,
                    in_force_on: None,
                    term_months: None,
                    renewal_months: None,
                    notice_months: None,
                    valid_until: None,
                    source: None,
                    note: None,
                    version: 1,
                    created_at: ctx.at,
                    updated_at: ctx.at,
                };
                let (row, parties, signatories) = check_input(conn, &input, base)?;
                let row = store::agreements::insert(conn, &ctx, row, &parties, &signatories)?;
                super::reminder_policies::replan_items(
                    conn,
                    &st,
                    &[crate::notify::planner::Item::Agreement(row.id.clone())],
                )?;
                detail(conn, row, lang.0, today)
            })
        })
        .await?;
    Ok(with_etag(HttpResponse::Created(), detail.agreement.version)
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/agreements/{}", detail.agreement.id),
        ))
        .json(detail))
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
    let today = state.clock.now().date_naive();
    who.may(Action::Update, Target::Agreement)?;
    let expected = expected_version(&req)?;
    refuse_nul(&body)?;
    let ctx = write_context(&state, &who, &req);
    let st = state.clone();
    let detail = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let stored = find(conn, &id)?;
                let input: AgreementInput = if patch {
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
                let (row, parties, signatories) = check_input(conn, &input, stored.clone())?;
                let row = match store::agreements::update(
                    conn,
                    &ctx,
                    stored,
                    row,
                    expected,
                    &parties,
                    &signatories,
                )? {
                    Versioned::Stale => return Err(stale()),
                    Versioned::Written(row) | Versioned::Unchanged(row) => row,
                };
                // A new term or notice period moves the notice deadline and its reminders.
                super::reminder_policies::replan_items(
                    conn,
                    &st,
                    &[crate::notify::planner::Item::Agreement(row.id.clone())],
                )?;
                detail(conn, row, lang.0, today)
            })
        })
        .await?;
    Ok(ok_with_etag(detail.agreement.version, &detail))
}

#[utoipa::path(
    put, path = "/api/v1/agreements/{id}", tag = "agreements",
    params(("id" = String, Path, description = "Agreement id (UUID) or key"), ("If-Match" = String, Header, description = "ETag of the version being replaced")),
    request_body = AgreementInput,
    responses(
        (status = 200, description = "Replaced", body = AgreementDetail),
        (status = 400, description = "Invalid", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and secretariats write agreements", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agreement", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
    body: Result<JsonBody, AppError>,
) -> AppResult<HttpResponse> {
    who.may(Action::Update, Target::Agreement)?;
    change(state, req, who, lang?, id.into_inner(), body?.0, false).await
}

#[utoipa::path(
    patch, path = "/api/v1/agreements/{id}", tag = "agreements",
    params(("id" = String, Path, description = "Agreement id (UUID) or key"), ("If-Match" = String, Header, description = "ETag of the version being changed")),
    request_body(content = Object, description = "JSON merge patch (RFC 7396) of AgreementInput", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = AgreementDetail),
        (status = 400, description = "Invalid change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and secretariats write agreements", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agreement", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Result<Lang, AppError>,
    id: web::Path<String>,
    body: Result<JsonBody, AppError>,
) -> AppResult<HttpResponse> {
    who.may(Action::Update, Target::Agreement)?;
    change(state, req, who, lang?, id.into_inner(), body?.0, true).await
}

#[utoipa::path(
    delete, path = "/api/v1/agreements/{id}", tag = "agreements",
    params(("id" = String, Path, description = "Agreement id (UUID) or key"), ("If-Match" = String, Header, description = "ETag of the version being deleted")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Invalid If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and secretariats write agreements", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agreement", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Programmes or bodies still name it", body = crate::error::Problem, content_type = "application/problem+json"),
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
    who.may(Action::Delete, Target::Agreement)?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    let st = state.clone();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let stored = find(conn, &id)?;
                let (programmes, bodies) = store::agreements::references(conn, &stored.id)?;
                if programmes > 0 || bodies > 0 {
                    return Err(AppError::Conflict(format!(
                        "agreement {} is named by {programmes} programme(s) and {bodies} body(ies); \
                         change them to name another agreement (or none) first",
                        stored.key
                    )));
                }
                super::reminder_policies::forget_item(
                    conn,
                    &st,
                    crate::notify::planner::Item::Agreement(stored.id.clone()),
                )?;
                if !store::agreements::delete(conn, &ctx, stored, expected)? {
                    return Err(stale());
                }
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// More routes of this module, under /api/v1 (GET of the list and of one
/// agreement are in `api::configure`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/agreements", web::post().to(create))
        .route("/agreements/{id}", web::put().to(put))
        .route("/agreements/{id}", web::patch().to(patch))
        .route("/agreements/{id}", web::delete().to(delete));
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list, one, create, put, patch, delete),
    tags((name = "agreements", description = "Agreements, treaties and memoranda"))
)]
pub struct Doc;
