//! Programmes, read-only for now: the list, and one programme with its
//! sections and items, their normalised timeframes and computed status.

use std::collections::{BTreeMap, HashMap};

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::clock::Clock;
use crate::db::Conn;
use crate::domain::kinds::{CostTerms, Quantities};
use crate::domain::status::{
    assess, latest_per_party, overall, Assessment, Completion, Lifecycle, Overall, PartyStatus,
};
use crate::domain::timeframe::{Timeframe, TimeframeKind};
use crate::domain::zone::parse_zone;
use crate::domain::{Language, LocalizedText};
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::obligations::{AssignmentView, ObligationRow, Owner};
use crate::store::programmes::ProgrammeRow;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only programmes this party takes part in (ISO code).
    pub party: Option<String>,
    /// Language of the display values (also from Accept-Language).
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PeriodView {
    pub text: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProgrammeSummary {
    pub id: String,
    pub key: String,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub title: LocalizedText,
    /// The title in the reader's language.
    pub title_display: String,
    pub period: PeriodView,
    pub parties: Vec<String>,
    pub agreement_id: Option<String>,
    pub body_id: Option<String>,
    pub public: bool,
    pub illustrative: bool,
    pub source: Option<String>,
    pub note: Option<String>,
    pub version: i32,
    pub counts: Counts,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub obligations: usize,
    pub closed: usize,
    pub overdue: usize,
    pub due_soon: usize,
    pub unscheduled: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProgrammeDetail {
    #[serde(flatten)]
    pub summary: ProgrammeSummary,
    /// The date the computed flags are for.
    pub as_of: NaiveDate,
    pub sections: Vec<SectionView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SectionView {
    pub id: String,
    pub code: String,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub title: LocalizedText,
    pub title_display: String,
    pub obligations: Vec<ObligationView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TimeframeView {
    pub kind: TimeframeKind,
    pub text: String,
    pub earliest: Option<NaiveDate>,
    pub latest: Option<NaiveDate>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssignmentOut {
    pub organisation_id: String,
    pub organisation_key: String,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub organisation: LocalizedText,
    pub party: String,
    pub role: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartyStatusView {
    pub party: String,
    pub lifecycle: Lifecycle,
    pub completion: Completion,
    pub as_of: NaiveDate,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ObligationView {
    pub id: String,
    pub programme_id: Option<String>,
    pub section_id: Option<String>,
    pub meeting_id: Option<String>,
    pub number: String,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub text: LocalizedText,
    /// The text in the reader's language (`lang` or Accept-Language; then ru, then en).
    pub text_display: String,
    pub kind: String,
    pub firmness: String,
    pub timeframe: TimeframeView,
    pub recurrence: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub quantities: Option<Quantities>,
    #[schema(value_type = Option<Object>)]
    pub cost_terms: Option<CostTerms>,
    pub lifecycle: Lifecycle,
    pub assignments: Vec<AssignmentOut>,
    /// The latest report of each party.
    pub status: Vec<PartyStatusView>,
    /// Across parties: derived from their latest reports.
    #[schema(value_type = Object)]
    pub overall: Overall,
    #[schema(value_type = Object)]
    pub assessment: Assessment,
    pub overdue: bool,
    pub due_soon: bool,
    pub version: i32,
}

#[utoipa::path(
    get, path = "/api/v1/programmes", tag = "programmes",
    params(("party" = Option<String>, Query, description = "Only programmes of this party (ISO code)")),
    responses(
        (status = 200, description = "Programmes, latest period first; without a token only public ones", body = Object),
        (status = 400, description = "Invalid query", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    who: super::auth::Authenticated,
    lang: super::lang::Lang,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let lang = lang.0;
    let public_only = who.principal().is_none();
    let clock = state.clock.clone();
    let due_soon_days = state.settings.status.due_soon_days;
    let party = query.into_inner().party;
    let programmes = state
        .db(move |conn| {
            let rows: Vec<ProgrammeRow> = store::programmes::list(conn, party.as_deref())?
                .into_iter()
                .filter(|p| p.public || !public_only)
                .collect();
            let mut out = Vec::with_capacity(rows.len());
            let parties = party_codes(conn, &rows)?;
            for row in rows {
                let items = assess_items(conn, &row, clock.as_ref(), due_soon_days)?;
                let codes = parties.get(&row.id).cloned().unwrap_or_default();
                out.push(summary(row, codes, &items, lang)?);
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": programmes })))
}

#[utoipa::path(
    get, path = "/api/v1/programmes/{id}", tag = "programmes",
    params(("id" = String, Path, description = "Programme id (UUID) or key")),
    responses(
        (status = 200, description = "The programme with sections and items, with its ETag", body = ProgrammeDetail),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not public: needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn one(
    state: web::Data<AppState>,
    who: super::auth::Authenticated,
    lang: super::lang::Lang,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let lang = lang.0;
    let clock = state.clock.clone();
    let due_soon_days = state.settings.status.due_soon_days;
    let id = id.into_inner();
    let detail = state
        .db(move |conn| {
            let row = find(conn, &id)?;
            who.may(
                crate::domain::access::Action::Read,
                crate::domain::access::Target::Programme {
                    body_id: row.body_id.as_deref(),
                    public: row.public,
                },
            )?;
            let items = assess_items(conn, &row, clock.as_ref(), due_soon_days)?;
            let sections = store::programmes::sections_of(conn, &row.id)?;
            let codes = party_codes(conn, std::slice::from_ref(&row))?
                .remove(&row.id)
                .unwrap_or_default();
            let as_of = clock.now().date_naive();
            let mut by_section: BTreeMap<String, Vec<ObligationView>> = BTreeMap::new();
            let mut views = Vec::new();
            for item in &items {
                views.push((
                    item.row.section_id.clone().unwrap_or_default(),
                    obligation_view(item, lang)?,
                ));
            }
            for (section_id, view) in views {
                by_section.entry(section_id).or_default().push(view);
            }
            let sections = sections
                .into_iter()
                .map(|s| {
                    Ok(SectionView {
                        obligations: by_section.remove(&s.id).unwrap_or_default(),
                        title_display: text(&s.title)?.display(lang).to_string(),
                        title: text(&s.title)?,
                        id: s.id,
                        code: s.code,
                    })
                })
                .collect::<AppResult<Vec<_>>>()?;
            Ok(ProgrammeDetail {
                summary: summary(row, codes, &items, lang)?,
                as_of,
                sections,
            })
        })
        .await?;
    Ok(super::etag::ok_with_etag(detail.summary.version, &detail))
}

/// A programme by UUID or by key (`kz-ru-culture-2024-2026`).
fn find(conn: &mut Conn, id: &str) -> AppResult<ProgrammeRow> {
    let found = if uuid::Uuid::parse_str(id).is_ok() {
        store::programmes::by_id(conn, id)?
    } else if id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        store::programmes::by_key(conn, id)?
    } else {
        return Err(AppError::invalid(
            "id",
            format!("`{id}` is neither a UUID nor a programme key"),
        ));
    };
    found.ok_or_else(|| AppError::not_found("programme", id))
}

fn party_codes(conn: &mut Conn, rows: &[ProgrammeRow]) -> AppResult<HashMap<String, Vec<String>>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (programme_id, code) in store::programmes::party_codes(conn, &ids)? {
        map.entry(programme_id).or_default().push(code);
    }
    Ok(map)
}

pub(crate) fn text(json: &str) -> AppResult<LocalizedText> {
    LocalizedText::from_json(json).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))
}

/// One item with what its status needs.
pub struct AssessedItem {
    pub row: ObligationRow,
    pub timeframe: Timeframe,
    pub lifecycle: Lifecycle,
    pub assignments: Vec<AssignmentView>,
    pub latest: Vec<PartyStatus>,
    pub assessment: Assessment,
    pub overall: Overall,
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("stored {what} is not valid: {e}"))
}

/// Loads a programme's items with assignments and reports and computes their
/// status for today (in each item's responsible organisation's zone).
pub fn assess_items(
    conn: &mut Conn,
    programme: &ProgrammeRow,
    clock: &dyn Clock,
    due_soon_days: u32,
) -> AppResult<Vec<AssessedItem>> {
    let rows = store::obligations::of_owner(conn, Owner::Programme(&programme.id))?;
    assess_rows(conn, rows, clock, due_soon_days)
}

/// Computes the status of the given items for today.
pub fn assess_rows(
    conn: &mut Conn,
    rows: Vec<ObligationRow>,
    clock: &dyn Clock,
    due_soon_days: u32,
) -> AppResult<Vec<AssessedItem>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut assignments: HashMap<String, Vec<AssignmentView>> = HashMap::new();
    for a in store::obligations::assignments_of(conn, &ids)? {
        assignments
            .entry(a.obligation_id.clone())
            .or_default()
            .push(a);
    }
    let mut reports: HashMap<String, Vec<PartyStatus>> = HashMap::new();
    for r in store::reports::of_obligations(conn, &ids)? {
        let status = PartyStatus {
            party: r.party_code.clone(),
            lifecycle: Lifecycle::parse(&r.report.lifecycle)
                .ok_or_else(|| corrupt("lifecycle", &r.report.lifecycle))?,
            completion: Completion::parse(&r.report.completion)
                .ok_or_else(|| corrupt("completion", &r.report.completion))?,
            as_of: r.report.as_of,
            reported_at: r.report.reported_at,
        };
        reports
            .entry(r.report.obligation_id.clone())
            .or_default()
            .push(status);
    }
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let kind = TimeframeKind::parse(&row.timeframe_kind)
            .ok_or_else(|| corrupt("timeframe kind", &row.timeframe_kind))?;
        let timeframe =
            Timeframe::from_parts(kind, row.timeframe_text.clone(), row.earliest, row.latest)
                .map_err(|e| corrupt("timeframe", e))?;
        let lifecycle =
            Lifecycle::parse(&row.lifecycle).ok_or_else(|| corrupt("lifecycle", &row.lifecycle))?;
        let assigned = assignments.remove(&row.id).unwrap_or_default();
        let all_reports = reports.remove(&row.id).unwrap_or_default();
        let latest = latest_per_party(all_reports.iter(), None);
        let mut responsible: Vec<&str> = assigned.iter().map(|a| a.party_code.as_str()).collect();
        responsible.dedup();
        // The deadline is the end of the day where the lead organisation works.
        let zone = assigned
            .iter()
            .find(|a| a.role == "lead")
            .or_else(|| assigned.first())
            .and_then(|a| parse_zone(&a.organisation_time_zone).ok())
            .unwrap_or(chrono_tz::UTC);
        let today = clock.today_in(zone);
        let assessment = assess(
            &timeframe,
            lifecycle,
            &responsible,
            &latest,
            today,
            due_soon_days,
        );
        let overall = overall(lifecycle, &responsible, &latest);
        items.push(AssessedItem {
            row,
            timeframe,
            lifecycle,
            assignments: assigned,
            latest,
            assessment,
            overall,
        });
    }
    Ok(items)
}

fn summary(
    row: ProgrammeRow,
    parties: Vec<String>,
    items: &[AssessedItem],
    lang: Language,
) -> AppResult<ProgrammeSummary> {
    let mut counts = Counts {
        obligations: items.len(),
        ..Counts::default()
    };
    for item in items {
        use crate::domain::status::Urgency;
        match item.assessment.urgency {
            Urgency::Closed => counts.closed += 1,
            Urgency::Overdue { .. } => counts.overdue += 1,
            Urgency::DueSoon { .. } => counts.due_soon += 1,
            Urgency::Unscheduled => counts.unscheduled += 1,
            Urgency::Suspended | Urgency::NotYetDue => {}
        }
    }
    Ok(ProgrammeSummary {
        title_display: text(&row.title)?.display(lang).to_string(),
        title: text(&row.title)?,
        period: PeriodView {
            text: row.period_text,
            start: row.period_start,
            end: row.period_end,
        },
        id: row.id,
        key: row.key,
        parties,
        agreement_id: row.agreement_id,
        body_id: row.body_id,
        public: row.public,
        illustrative: row.illustrative,
        source: row.source,
        note: row.note,
        version: row.version,
        counts,
    })
}

pub fn obligation_view(item: &AssessedItem, lang: Language) -> AppResult<ObligationView> {
    let row = &item.row;
    Ok(ObligationView {
        id: row.id.clone(),
        programme_id: row.programme_id.clone(),
        section_id: row.section_id.clone(),
        meeting_id: row.meeting_id.clone(),
        number: row.number.clone(),
        text_display: text(&row.text)?.display(lang).to_string(),
        text: text(&row.text)?,
        kind: row.kind.clone(),
        firmness: row.firmness.clone(),
        timeframe: TimeframeView {
            kind: item.timeframe.kind,
            text: item.timeframe.source.clone(),
            earliest: item.timeframe.earliest,
            latest: item.timeframe.latest,
        },
        recurrence: row.recurrence.clone(),
        quantities: row
            .quantities
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| corrupt("quantities", e))?,
        cost_terms: row
            .cost_terms
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| corrupt("cost terms", e))?,
        lifecycle: item.lifecycle,
        assignments: item
            .assignments
            .iter()
            .map(|a| {
                Ok(AssignmentOut {
                    organisation_id: a.organisation_id.clone(),
                    organisation_key: a.organisation_key.clone(),
                    organisation: text(&a.organisation_name)?,
                    party: a.party_code.clone(),
                    role: a.role.clone(),
                })
            })
            .collect::<AppResult<Vec<_>>>()?,
        status: item
            .latest
            .iter()
            .map(|s| PartyStatusView {
                party: s.party.clone(),
                lifecycle: s.lifecycle,
                completion: s.completion,
                as_of: s.as_of,
            })
            .collect(),
        overall: item.overall,
        assessment: item.assessment,
        overdue: item.assessment.overdue,
        due_soon: item.assessment.due_soon,
        version: row.version,
    })
}

/// More routes of this module, under /api/v1 (the read-only ones are in `api::configure`).
pub fn routes(_cfg: &mut actix_web::web::ServiceConfig) {}

/// The OpenAPI paths of this module not listed in `openapi::ApiDoc`.
#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Doc;
