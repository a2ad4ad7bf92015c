//! Programmes, their sections and the creation and deletion of their items:
//! lists and single resources with ETags, writes under `If-Match`, each in one
//! audited transaction.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::header::LOCATION;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{write_context, Authenticated};
use super::body::{merge_patch, read, JsonBody};
use super::etag::{expected_version, stale, with_etag};
use super::obligations::ObligationInput;
use super::AppState;
use crate::clock::Clock;
use crate::db::Conn;
use crate::domain::access::{Action, Target};
use crate::domain::deadlines::{AnchorDates, AnchorKind, Occurrence};
use crate::domain::keys::is_key;
use crate::domain::kinds::{CostTerms, Quantities};
use crate::domain::status::{
    assess, latest_per_party, overall, Assessment, Completion, Lifecycle, Overall, PartyStatus,
};
use crate::domain::timeframe::{Period, Timeframe, TimeframeKind};
use crate::domain::zone::parse_zone;
use crate::domain::{Language, LocalizedText};
use crate::error::{AppError, AppResult, FieldError};
use crate::notify::planner::Item;
use crate::store;
use crate::store::obligations::{AssignmentRow, AssignmentView, ObligationRow, Owner};
use crate::store::programmes::{ProgrammeFilter, ProgrammePosition, ProgrammeRow, SectionRow};
use crate::store::Versioned;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only programmes this party takes part in (ISO code).
    pub party: Option<String>,
    /// Only programmes monitored by this body (key).
    pub body: Option<String>,
    /// Only programmes implementing this agreement (key).
    pub agreement: Option<String>,
    /// Only public (true) or only non-public (false) programmes.
    pub public: Option<bool>,
    /// Only programmes whose period covers some of this year.
    #[param(minimum = 1900, maximum = 2200)]
    pub year: Option<i32>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Language of the display values (also from Accept-Language).
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammePage {
    pub items: Vec<ProgrammeSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many programmes match the filters.
    pub total: i64,
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
    /// Key of the agreement it implements.
    pub agreement: Option<String>,
    pub body_id: Option<String>,
    /// Key of the body that monitors it.
    pub body: Option<String>,
    /// Keys of the signatory organisations.
    pub signatories: Vec<String>,
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
    pub position: i32,
    /// For `If-Match` on /sections/{id}.
    pub version: i32,
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
    /// A yearly item's occurrence in each year of its programme, with each
    /// party's latest report on that year; empty for other items.
    pub occurrences: Vec<YearlyOccurrenceView>,
    /// The deadlines its lead times give, by due date (one per occurrence of a yearly item).
    pub deadlines: Vec<super::lead_times::DeadlineView>,
    pub version: i32,
}

/// One year of a yearly item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct YearlyOccurrenceView {
    pub year: i32,
    pub earliest: NaiveDate,
    pub latest: NaiveDate,
    /// Each party's latest report with this `occurrence_year`.
    pub status: Vec<PartyStatusView>,
}

fn encode_cursor(p: &ProgrammePosition) -> String {
    super::pagination::encode(&[&p.period_start.to_string(), &p.key])
}

fn decode_cursor(text: &str) -> AppResult<ProgrammePosition> {
    let parts = super::pagination::decode(text, 2)?;
    let period_start = parts[0]
        .parse::<NaiveDate>()
        .map_err(|_| AppError::invalid("cursor", "is not a cursor this API gave out"))?;
    Ok(ProgrammePosition {
        period_start,
        key: parts[1].clone(),
    })
}

#[utoipa::path(
    get, path = "/api/v1/programmes", tag = "programmes", operation_id = "list_programmes",
    params(ListQuery),
    responses(
        (status = 200, description = "Programmes, latest period first, then by key; without a token only public ones", body = ProgrammePage),
        (status = 400, description = "Invalid query", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: super::lang::Lang,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let limit = super::pagination::limit(q.limit)?;
    let covering = match q.year {
        Some(year) => Some(
            NaiveDate::from_ymd_opt(year, 1, 1)
                .zip(NaiveDate::from_ymd_opt(year, 12, 31))
                .filter(|_| (1900..=2200).contains(&year))
                .ok_or_else(|| AppError::invalid("year", "must be 1900 to 2200"))?,
        ),
        None => None,
    };
    let after = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(decode_cursor)
        .transpose()?;
    let public_only = who.principal().is_none();
    let st = state.clone();
    let page = state
        .db(move |conn| {
            let mut filter = ProgrammeFilter {
                public: q.public,
                covering,
                public_only,
                ..ProgrammeFilter::default()
            };
            let none = || {
                Ok(ProgrammePage {
                    items: vec![],
                    next_cursor: None,
                    total: 0,
                })
            };
            if let Some(code) = &q.party {
                match store::parties::by_code(conn, code)? {
                    Some(p) => filter.party_id = Some(p.id),
                    None => return none(),
                }
            }
            if let Some(key) = &q.body {
                match store::bodies::by_key(conn, key)? {
                    Some(b) => filter.body_id = Some(b.id),
                    None => return none(),
                }
            }
            if let Some(key) = &q.agreement {
                match store::agreements::by_key(conn, key)? {
                    Some(a) => filter.agreement_id = Some(a.id),
                    None => return none(),
                }
            }
            let mut rows = store::programmes::search(conn, &filter, after.as_ref(), limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = rows.last().filter(|_| more).map(|r| {
                encode_cursor(&ProgrammePosition {
                    period_start: r.period_start,
                    key: r.key.clone(),
                })
            });
            let total = store::programmes::count(conn, &filter)?;
            let parties = party_codes(conn, &rows)?;
            // The items of the whole page in one query and one assessment.
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let page_items = store::obligations::of_programmes(conn, &ids)?;
            let mut assessed: HashMap<String, Vec<AssessedItem>> = HashMap::new();
            for item in assess_rows(
                conn,
                page_items,
                st.clock.as_ref(),
                st.settings.status.due_soon_days,
            )? {
                let programme = item.row.programme_id.clone().unwrap_or_default();
                assessed.entry(programme).or_default().push(item);
            }
            let mut items = Vec::with_capacity(rows.len());
            for row in rows {
                let of_row = assessed.remove(&row.id).unwrap_or_default();
                let codes = parties.get(&row.id).cloned().unwrap_or_default();
                let links = links_of(conn, &row)?;
                items.push(summary(row, codes, links, &of_row, lang.0)?);
            }
            Ok(ProgrammePage {
                items,
                next_cursor,
                total,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(
    get, path = "/api/v1/programmes/{id}", tag = "programmes", operation_id = "get_programme",
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
    who: Authenticated,
    lang: super::lang::Lang,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let st = state.clone();
    let detail = state
        .db(move |conn| {
            let row = find(conn, &id)?;
            who.may(Action::Read, programme_target(&row))?;
            detail(conn, row, &st, lang.0)
        })
        .await?;
    Ok(super::etag::ok_with_etag(detail.summary.version, &detail))
}

fn programme_target(row: &ProgrammeRow) -> Target<'_> {
    Target::Programme {
        body_id: row.body_id.as_deref(),
        public: row.public,
    }
}

/// One programme with its sections and items, their status computed for today.
fn detail(
    conn: &mut Conn,
    row: ProgrammeRow,
    state: &AppState,
    lang: Language,
) -> AppResult<ProgrammeDetail> {
    let clock = state.clock.as_ref();
    let items = assess_items(conn, &row, clock, state.settings.status.due_soon_days)?;
    let sections = store::programmes::sections_of(conn, &row.id)?;
    let codes = party_codes(conn, std::slice::from_ref(&row))?
        .remove(&row.id)
        .unwrap_or_default();
    let as_of = clock.now().date_naive();
    let mut by_section: BTreeMap<String, Vec<ObligationView>> = BTreeMap::new();
    for item in &items {
        by_section
            .entry(item.row.section_id.clone().unwrap_or_default())
            .or_default()
            .push(obligation_view(item, lang)?);
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
                position: s.position,
                version: s.version,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let links = links_of(conn, &row)?;
    Ok(ProgrammeDetail {
        summary: summary(row, codes, links, &items, lang)?,
        as_of,
        sections,
    })
}

/// The keys a programme names its agreement, body and signatories by.
struct ProgrammeLinks {
    agreement: Option<String>,
    body: Option<String>,
    signatories: Vec<String>,
}

fn links_of(conn: &mut Conn, row: &ProgrammeRow) -> AppResult<ProgrammeLinks> {
    let agreement = match &row.agreement_id {
        Some(id) => store::agreements::by_id(conn, id)?.map(|a| a.key),
        None => None,
    };
    let body = match &row.body_id {
        Some(id) => store::bodies::by_id(conn, id)?.map(|b| b.key),
        None => None,
    };
    let ids = store::programmes::signatory_ids(conn, &row.id)?;
    let mut signatories: Vec<String> = store::organisations::by_ids(conn, &ids)?
        .into_iter()
        .map(|o| o.key)
        .collect();
    signatories.sort();
    Ok(ProgrammeLinks {
        agreement,
        body,
        signatories,
    })
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
    /// Each year's occurrence of a yearly item, with each party's latest report on it.
    pub occurrences: Vec<(Occurrence, Vec<PartyStatus>)>,
    /// The deadlines of its lead times.
    pub deadlines: Vec<store::lead_times::Deadline>,
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
    assess_rows_with(conn, rows, None, clock, due_soon_days)
}

/// `assess_rows` with the items' assignments when the caller has read them
/// already (`None`: read them here).
pub fn assess_rows_with(
    conn: &mut Conn,
    rows: Vec<ObligationRow>,
    known_assignments: Option<Vec<AssignmentView>>,
    clock: &dyn Clock,
    due_soon_days: u32,
) -> AppResult<Vec<AssessedItem>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut assignments: HashMap<String, Vec<AssignmentView>> = HashMap::new();
    let read = match known_assignments {
        Some(known) => known,
        None => store::obligations::assignments_of(conn, &ids)?,
    };
    for a in read {
        assignments
            .entry(a.obligation_id.clone())
            .or_default()
            .push(a);
    }
    let mut reports: HashMap<String, Vec<PartyStatus>> = HashMap::new();
    let mut reports_per_year: HashMap<(String, i32), Vec<PartyStatus>> = HashMap::new();
    for r in store::reports::statuses_of(conn, &ids)? {
        let status = PartyStatus {
            party: r.party_code.clone(),
            lifecycle: Lifecycle::parse(&r.lifecycle)
                .ok_or_else(|| corrupt("lifecycle", &r.lifecycle))?,
            completion: Completion::parse(&r.completion)
                .ok_or_else(|| corrupt("completion", &r.completion))?,
            as_of: r.as_of,
            reported_at: r.reported_at,
        };
        if let Some(year) = r.occurrence_year {
            reports_per_year
                .entry((r.obligation_id.clone(), year))
                .or_default()
                .push(status.clone());
        }
        reports.entry(r.obligation_id).or_default().push(status);
    }
    let mut occurrences: HashMap<String, Vec<Occurrence>> = HashMap::new();
    // Only yearly items have occurrences: most reads need not ask.
    let recurring: Vec<String> = rows
        .iter()
        .filter(|r| r.recurrence.is_some())
        .map(|r| r.id.clone())
        .collect();
    let read = if recurring.is_empty() {
        Vec::new()
    } else {
        store::obligations::occurrences_of(conn, &recurring)?
    };
    for o in read {
        occurrences
            .entry(o.obligation_id.clone())
            .or_default()
            .push(o.occurrence());
    }
    // The items are at hand: their lead times need only the rules.
    let rules = store::lead_times::of_anchors(conn, AnchorKind::Obligation, &ids)?;
    let mut deadlines: HashMap<String, Vec<store::lead_times::Deadline>> = HashMap::new();
    if !rules.is_empty() {
        let anchors = rows
            .iter()
            .map(|row| {
                let dates = match &row.recurrence {
                    Some(_) => {
                        AnchorDates::Yearly(occurrences.get(&row.id).cloned().unwrap_or_default())
                    }
                    None => AnchorDates::Span {
                        first: row.earliest,
                        last: row.latest,
                    },
                };
                let anchor = store::lead_times::Anchor {
                    kind: AnchorKind::Obligation,
                    id: row.id.clone(),
                    title: row.text.clone(),
                    dates,
                };
                ((AnchorKind::Obligation, row.id.clone()), anchor)
            })
            .collect();
        let mut derived = store::lead_times::derive(rules, &anchors);
        super::lead_times::sort_deadlines(&mut derived);
        for d in derived {
            deadlines.entry(d.anchor_id.clone()).or_default().push(d);
        }
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
        let occurrences = occurrences
            .remove(&row.id)
            .unwrap_or_default()
            .into_iter()
            .map(|o| {
                let of_year = reports_per_year
                    .remove(&(row.id.clone(), o.year))
                    .unwrap_or_default();
                (o, latest_per_party(of_year.iter(), None))
            })
            .collect();
        let deadlines = deadlines.remove(&row.id).unwrap_or_default();
        items.push(AssessedItem {
            row,
            timeframe,
            lifecycle,
            assignments: assigned,
            latest,
            assessment,
            overall,
            occurrences,
            deadlines,
        });
    }
    Ok(items)
}

fn summary(
    row: ProgrammeRow,
    parties: Vec<String>,
    links: ProgrammeLinks,
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
        agreement: links.agreement,
        body_id: row.body_id,
        body: links.body,
        signatories: links.signatories,
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
        occurrences: item
            .occurrences
            .iter()
            .map(|(o, latest)| YearlyOccurrenceView {
                year: o.year,
                earliest: o.earliest,
                latest: o.latest,
                status: latest.iter().map(party_status_view).collect(),
            })
            .collect(),
        deadlines: item
            .deadlines
            .iter()
            .map(|d| super::lead_times::deadline_view(d, lang))
            .collect::<AppResult<Vec<_>>>()?,
        version: row.version,
    })
}

fn party_status_view(s: &PartyStatus) -> PartyStatusView {
    PartyStatusView {
        party: s.party.clone(),
        lifecycle: s.lifecycle,
        completion: s.completion,
        as_of: s.as_of,
    }
}

const NOT_A_KEY: &str = "is not a key: use lowercase letters, digits and dashes";

/// A concurrent writer took the same natural key between our check and our insert.
fn taken(what: &'static str) -> impl FnOnce(diesel::result::Error) -> AppError {
    move |e| match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => AppError::Conflict(format!("{what} was created meanwhile; choose another")),
        other => other.into(),
    }
}

/// A programme as the import format writes it. PUT sends all of it; PATCH a
/// JSON merge patch of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeInput {
    /// Lowercase letters, digits and dashes; unique.
    pub key: String,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub title: LocalizedText,
    /// Key of the agreement it implements.
    pub agreement: Option<String>,
    /// Key of the body that monitors it (its secretariat may change it).
    pub body: Option<String>,
    /// A timeframe with dates: "2024-2026", "2024-01-01..2026-12-31".
    pub period: String,
    /// Party codes.
    #[serde(default)]
    pub parties: Vec<String>,
    /// Keys of the signatory organisations.
    #[serde(default)]
    pub signatories: Vec<String>,
    /// Readable without a token.
    #[serde(default)]
    pub public: bool,
    /// Demo content that is not from a source.
    #[serde(default)]
    pub illustrative: bool,
    pub source: Option<String>,
    pub note: Option<String>,
}

/// A programme input checked against the database: what it refers to, and
/// every problem found.
struct ProgrammePlan {
    errors: Vec<FieldError>,
    agreement_id: Option<String>,
    body_id: Option<String>,
    period: Option<Timeframe>,
    party_ids: Vec<String>,
    signatory_ids: Vec<String>,
}

impl ProgrammePlan {
    /// Access is decided on the body the programme will belong to; an
    /// unknown body is reported as such, not as a refusal.
    fn authorise(&self, who: &Authenticated, action: Action, public: bool) -> AppResult<()> {
        if self.errors.iter().any(|e| e.field == "body") {
            return Err(AppError::Validation(self.errors.clone()));
        }
        who.may(
            action,
            Target::Programme {
                body_id: self.body_id.as_deref(),
                public,
            },
        )
    }

    /// The row to store, when nothing failed.
    fn row(self, input: &ProgrammeInput, at: chrono::NaiveDateTime) -> AppResult<ProgrammeRow> {
        let Some(period) = self.period.as_ref().and_then(Timeframe::period) else {
            return Err(AppError::Validation(self.errors));
        };
        if !self.errors.is_empty() {
            return Err(AppError::Validation(self.errors));
        }
        Ok(ProgrammeRow {
            id: store::new_id(),
            key: input.key.clone(),
            title: input.title.to_json(),
            agreement_id: self.agreement_id,
            body_id: self.body_id,
            period_text: self
                .period
                .map(|t| t.source)
                .unwrap_or_else(|| input.period.clone()),
            period_start: period.start,
            period_end: period.end,
            public: input.public,
            illustrative: input.illustrative,
            source: input.source.clone(),
            note: input.note.clone(),
            version: 1,
            created_at: at,
            updated_at: at,
        })
    }
}

fn plan_programme(
    conn: &mut Conn,
    input: &ProgrammeInput,
    stored: Option<&ProgrammeRow>,
) -> AppResult<ProgrammePlan> {
    let mut errors = Vec::new();
    if !is_key(&input.key) {
        errors.push(FieldError::new(
            "key",
            format!("`{}` {NOT_A_KEY}", input.key),
        ));
    } else if let Some(other) = store::programmes::by_key(conn, &input.key)? {
        if stored.is_none_or(|s| s.id != other.id) {
            errors.push(FieldError::new(
                "key",
                format!("a programme with key `{}` exists", input.key),
            ));
        }
    }
    let agreement_id = match &input.agreement {
        Some(key) => match store::agreements::by_key(conn, key)? {
            Some(a) => Some(a.id),
            None => {
                errors.push(FieldError::new(
                    "agreement",
                    format!("agreement `{key}` does not exist"),
                ));
                None
            }
        },
        None => None,
    };
    let body_id = match &input.body {
        Some(key) => match store::bodies::by_key(conn, key)? {
            Some(b) => Some(b.id),
            None => {
                errors.push(FieldError::new(
                    "body",
                    format!("body `{key}` does not exist"),
                ));
                None
            }
        },
        None => None,
    };
    let period = match Timeframe::parse(&input.period, None) {
        Ok(t) if t.period().is_some() => Some(t),
        Ok(_) => {
            errors.push(FieldError::new(
                "period",
                "a programme's period needs dates (e.g. 2024-2026)",
            ));
            None
        }
        Err(e) => {
            errors.push(FieldError::new("period", e.to_string()));
            None
        }
    };
    let mut party_ids = Vec::new();
    for (i, code) in input.parties.iter().enumerate() {
        match store::parties::by_code(conn, code)? {
            Some(p) if party_ids.contains(&p.id) => errors.push(FieldError::new(
                format!("parties[{i}]"),
                format!("`{code}` appears twice"),
            )),
            Some(p) => party_ids.push(p.id),
            None => errors.push(FieldError::new(
                format!("parties[{i}]"),
                format!("party `{code}` does not exist"),
            )),
        }
    }
    let mut signatory_ids = Vec::new();
    for (i, key) in input.signatories.iter().enumerate() {
        match store::organisations::by_key(conn, key)? {
            Some(o) if signatory_ids.contains(&o.id) => errors.push(FieldError::new(
                format!("signatories[{i}]"),
                format!("`{key}` appears twice"),
            )),
            Some(o) => signatory_ids.push(o.id),
            None => errors.push(FieldError::new(
                format!("signatories[{i}]"),
                format!("organisation `{key}` does not exist"),
            )),
        }
    }
    Ok(ProgrammePlan {
        errors,
        agreement_id,
        body_id,
        period,
        party_ids,
        signatory_ids,
    })
}

/// The stored programme in the shape of its input, for merge patches.
fn current_programme_input(conn: &mut Conn, row: &ProgrammeRow) -> AppResult<ProgrammeInput> {
    let links = links_of(conn, row)?;
    let parties = party_codes(conn, std::slice::from_ref(row))?
        .remove(&row.id)
        .unwrap_or_default();
    Ok(ProgrammeInput {
        key: row.key.clone(),
        title: text(&row.title)?,
        agreement: links.agreement,
        body: links.body,
        period: row.period_text.clone(),
        parties,
        signatories: links.signatories,
        public: row.public,
        illustrative: row.illustrative,
        source: row.source.clone(),
        note: row.note.clone(),
    })
}

/// What a new period does to the programme's items: those written as "the
/// programme period" take the new dates; every other dated item must lie
/// inside it. Returns the items to re-date, or a problem naming `period`.
fn redate_items(
    conn: &mut Conn,
    stored: &ProgrammeRow,
    new: &ProgrammeRow,
) -> AppResult<Vec<(ObligationRow, ObligationRow)>> {
    if (stored.period_start, stored.period_end) == (new.period_start, new.period_end) {
        return Ok(Vec::new());
    }
    let period = Period {
        start: new.period_start,
        end: new.period_end,
    };
    let mut outside = Vec::new();
    let mut redated = Vec::new();
    for item in store::obligations::of_owner(conn, Owner::Programme(&stored.id))? {
        if item.timeframe_kind == TimeframeKind::ProgrammePeriod.as_str() {
            let changed = ObligationRow {
                earliest: Some(period.start),
                latest: Some(period.end),
                ..item.clone()
            };
            redated.push((item, changed));
        } else if let (Some(first), Some(last)) = (item.earliest, item.latest) {
            if !(period.contains(first) && period.contains(last)) {
                outside.push(format!("{} ({})", item.number, item.timeframe_text));
            }
        }
    }
    if !outside.is_empty() {
        return Err(AppError::invalid(
            "period",
            format!(
                "{}..{} leaves items outside it: {}; change their timeframes first",
                period.start,
                period.end,
                outside.join(", ")
            ),
        ));
    }
    Ok(redated)
}

#[utoipa::path(
    post, path = "/api/v1/programmes", tag = "programmes", operation_id = "create_programme",
    request_body = ProgrammeInput,
    responses(
        (status = 201, description = "Created; Location and ETag of the new programme", body = ProgrammeDetail),
        (status = 400, description = "Invalid programme", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins, or the secretariat of the body named", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key was taken meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: super::lang::Lang,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let input: ProgrammeInput = read(body.0)?;
    let ctx = write_context(&state, &who, &req);
    let st = state.clone();
    let detail = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let plan = plan_programme(conn, &input, None)?;
                plan.authorise(&who, Action::Create, input.public)?;
                let (party_ids, signatory_ids) =
                    (plan.party_ids.clone(), plan.signatory_ids.clone());
                let row = plan.row(&input, ctx.at)?;
                let row = store::programmes::insert(conn, &ctx, row, &party_ids, &signatory_ids)
                    .map_err(taken("a programme with this key"))?;
                detail(conn, row, &st, lang.0)
            })
        })
        .await?;
    Ok(with_etag(HttpResponse::Created(), detail.summary.version)
        .insert_header((
            LOCATION,
            format!("/api/v1/programmes/{}", detail.summary.id),
        ))
        .json(&detail))
}

async fn change_programme(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Language,
    id: String,
    body: serde_json::Value,
    patch: bool,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let st = state.clone();
    let detail = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let stored = find(conn, &id)?;
                who.may(Action::Update, programme_target(&stored))?;
                let input: ProgrammeInput = if patch {
                    let mut doc = serde_json::to_value(current_programme_input(conn, &stored)?)
                        .map_err(|e| AppError::Internal(e.into()))?;
                    merge_patch(&mut doc, &body);
                    read(doc)?
                } else {
                    read(body)?
                };
                let plan = plan_programme(conn, &input, Some(&stored))?;
                // Moving it to another body needs the right to write there too.
                if plan.body_id != stored.body_id {
                    plan.authorise(&who, Action::Update, input.public)?;
                }
                let (party_ids, signatory_ids) =
                    (plan.party_ids.clone(), plan.signatory_ids.clone());
                let row = plan.row(&input, ctx.at)?;
                let redated = redate_items(conn, &stored, &row)?;
                let written = store::programmes::update(
                    conn,
                    &ctx,
                    stored,
                    row,
                    expected,
                    &party_ids,
                    &signatory_ids,
                )
                .map_err(taken("a programme with this key"))?;
                let row = match written {
                    Versioned::Stale => return Err(stale()),
                    Versioned::Written(row) | Versioned::Unchanged(row) => row,
                };
                let mut moved: Vec<Item> = Vec::new();
                for (item, changed) in redated {
                    let version = item.version;
                    moved.push(Item::Obligation(item.id.clone()));
                    if let Versioned::Stale =
                        store::obligations::update(conn, &ctx, item, changed, version)?
                    {
                        return Err(stale());
                    }
                }
                // Yearly items recur over the years of the period, whatever their timeframe.
                store::obligations::sync_programme_occurrences(conn, &row.id)?;
                // Items re-dated with the period (and yearly ones) are reminded on their new dates.
                moved.extend(
                    store::obligations::of_owner(
                        conn,
                        store::obligations::Owner::Programme(&row.id),
                    )?
                    .into_iter()
                    .filter(|o| o.recurrence.is_some())
                    .map(|o| Item::Obligation(o.id)),
                );
                super::reminder_policies::replan_items(conn, &st, &moved)?;
                detail(conn, row, &st, lang)
            })
        })
        .await?;
    Ok(super::etag::ok_with_etag(detail.summary.version, &detail))
}

#[utoipa::path(
    put, path = "/api/v1/programmes/{id}", tag = "programmes", operation_id = "put_programme",
    params(
        ("id" = String, Path, description = "Programme id (UUID) or key"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being replaced; required (428 without it)"),
    ),
    request_body = ProgrammeInput,
    responses(
        (status = 200, description = "Replaced", body = ProgrammeDetail),
        (status = 400, description = "Invalid, or a new period that would leave items outside it", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key was taken meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: super::lang::Lang,
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    change_programme(state, req, who, lang.0, id.into_inner(), body.0, false).await
}

#[utoipa::path(
    patch, path = "/api/v1/programmes/{id}", tag = "programmes", operation_id = "patch_programme",
    params(
        ("id" = String, Path, description = "Programme id (UUID) or key"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed; required (428 without it)"),
    ),
    request_body(content = Object, description = "JSON merge patch (RFC 7396) of ProgrammeInput", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = ProgrammeDetail),
        (status = 400, description = "Invalid, or a new period that would leave items outside it", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key was taken meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: super::lang::Lang,
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    change_programme(state, req, who, lang.0, id.into_inner(), body.0, true).await
}

#[utoipa::path(
    delete, path = "/api/v1/programmes/{id}", tag = "programmes", operation_id = "delete_programme",
    params(
        ("id" = String, Path, description = "Programme id (UUID) or key"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being deleted; required (428 without it)"),
    ),
    responses(
        (status = 204, description = "Deleted, with its sections"),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to delete", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "It still has items", body = crate::error::Problem, content_type = "application/problem+json"),
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
    who.signed_in()?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let stored = find(conn, &id)?;
                who.may(Action::Delete, programme_target(&stored))?;
                if stored.version != expected {
                    return Err(stale());
                }
                let items = store::programmes::item_count(conn, &stored.id)?;
                if items > 0 {
                    return Err(AppError::Conflict(format!(
                        "programme `{}` still has {items} items: delete them first (an item with reports is cancelled or superseded, so its programme stays)",
                        stored.key
                    )));
                }
                let snapshots = store::snapshots::count_of_programme(conn, &stored.id)?;
                if snapshots > 0 {
                    // Snapshots are the record of what a meeting saw: immutable, never deleted.
                    return Err(AppError::Conflict(format!(
                        "programme `{}` has {snapshots} snapshot(s), which are kept for good: it cannot be deleted",
                        stored.key
                    )));
                }
                if !store::programmes::delete(conn, &ctx, stored, expected)? {
                    return Err(stale());
                }
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A section: a chapter of a programme (theatre and music, cinema, libraries...).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionInput {
    /// Lowercase letters, digits and dashes; unique in the programme.
    pub code: String,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub title: LocalizedText,
    /// Place among the sections (0 first); by default after the last, or unchanged.
    #[schema(minimum = 0, maximum = 100000)]
    pub position: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectionSummary {
    pub id: String,
    pub programme_id: String,
    /// Key of the programme.
    pub programme: String,
    pub code: String,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub title: LocalizedText,
    pub title_display: String,
    pub position: i32,
    /// How many items it holds.
    pub obligations: i64,
    pub version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectionPage {
    pub items: Vec<SectionSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    pub total: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SectionQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Language of the display values (also from Accept-Language).
    pub lang: Option<String>,
}

fn section_summaries(
    conn: &mut Conn,
    programme: &ProgrammeRow,
    rows: Vec<SectionRow>,
    lang: Language,
) -> AppResult<Vec<SectionSummary>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let counts: HashMap<String, i64> = store::programmes::section_item_counts(conn, &ids)?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|s| {
            let title = text(&s.title)?;
            Ok(SectionSummary {
                title_display: title.display(lang).to_string(),
                title,
                obligations: counts.get(&s.id).copied().unwrap_or(0),
                programme: programme.key.clone(),
                id: s.id,
                programme_id: s.programme_id,
                code: s.code,
                position: s.position,
                version: s.version,
            })
        })
        .collect()
}

fn section_summary(
    conn: &mut Conn,
    programme: &ProgrammeRow,
    row: SectionRow,
    lang: Language,
) -> AppResult<SectionSummary> {
    section_summaries(conn, programme, vec![row], lang)?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("section vanished")))
}

/// A section by UUID, with its programme.
fn find_section(conn: &mut Conn, id: &str) -> AppResult<(SectionRow, ProgrammeRow)> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::invalid("id", format!("`{id}` is not a UUID")));
    }
    let section = store::programmes::section_by_id(conn, id)?
        .ok_or_else(|| AppError::not_found("section", id))?;
    let programme = store::programmes::by_id(conn, &section.programme_id)?
        .ok_or_else(|| corrupt("programme", &section.programme_id))?;
    Ok((section, programme))
}

/// Checks a section input in its programme; `stored` is the section being changed.
fn section_row(
    conn: &mut Conn,
    programme: &ProgrammeRow,
    input: &SectionInput,
    stored: Option<&SectionRow>,
    at: chrono::NaiveDateTime,
) -> AppResult<SectionRow> {
    let mut errors = Vec::new();
    if !is_key(&input.code) {
        errors.push(FieldError::new(
            "code",
            format!("`{}` {NOT_A_KEY}", input.code),
        ));
    } else if let Some(other) =
        store::programmes::section_by_code(conn, &programme.id, &input.code)?
    {
        if stored.is_none_or(|s| s.id != other.id) {
            errors.push(FieldError::new(
                "code",
                format!("this programme already has a section `{}`", input.code),
            ));
        }
    }
    if input.position.is_some_and(|p| !(0..=100_000).contains(&p)) {
        errors.push(FieldError::new("position", "must be 0 to 100000"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let position = match (input.position, stored) {
        (Some(p), _) => p,
        (None, Some(s)) => s.position,
        (None, None) => store::programmes::next_section_position(conn, &programme.id)?,
    };
    Ok(SectionRow {
        id: store::new_id(),
        programme_id: programme.id.clone(),
        code: input.code.clone(),
        title: input.title.to_json(),
        position,
        version: 1,
        created_at: at,
        updated_at: at,
    })
}

#[utoipa::path(
    get, path = "/api/v1/programmes/{id}/sections", tag = "programmes", operation_id = "list_sections",
    params(("id" = String, Path, description = "Programme id (UUID) or key"), SectionQuery),
    responses(
        (status = 200, description = "The programme's sections in order", body = SectionPage),
        (status = 400, description = "Invalid id or query", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not public: needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn sections(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: super::lang::Lang,
    id: web::Path<String>,
    query: web::Query<SectionQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let limit = super::pagination::limit(q.limit)?;
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => {
            let parts = super::pagination::decode(c, 2)?;
            let position = parts[0]
                .parse::<i32>()
                .map_err(|_| AppError::invalid("cursor", "is not a cursor this API gave out"))?;
            Some((position, parts[1].clone()))
        }
        None => None,
    };
    let id = id.into_inner();
    let page = state
        .db(move |conn| {
            let programme = find(conn, &id)?;
            who.may(Action::Read, programme_target(&programme))?;
            let mut rows = store::programmes::sections_page(conn, &programme.id, after, limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = rows
                .last()
                .filter(|_| more)
                .map(|s| super::pagination::encode(&[&s.position.to_string(), &s.code]));
            let total = store::programmes::section_count(conn, &programme.id)?;
            Ok(SectionPage {
                items: section_summaries(conn, &programme, rows, lang.0)?,
                next_cursor,
                total,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(
    post, path = "/api/v1/programmes/{id}/sections", tag = "programmes", operation_id = "create_section",
    params(("id" = String, Path, description = "Programme id (UUID) or key")),
    request_body = SectionInput,
    responses(
        (status = 201, description = "Created; Location and ETag of the new section", body = SectionSummary),
        (status = 400, description = "Invalid section", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code was taken meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_section(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: super::lang::Lang,
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    let section = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let programme = find(conn, &id)?;
                who.may(Action::Create, programme_target(&programme))?;
                let input: SectionInput = read(body.0)?;
                let row = section_row(conn, &programme, &input, None, ctx.at)?;
                let row = store::programmes::insert_section(conn, &ctx, row)
                    .map_err(taken("a section with this code"))?;
                section_summary(conn, &programme, row, lang.0)
            })
        })
        .await?;
    Ok(with_etag(HttpResponse::Created(), section.version)
        .insert_header((LOCATION, format!("/api/v1/sections/{}", section.id)))
        .json(&section))
}

#[utoipa::path(
    get, path = "/api/v1/sections/{id}", tag = "programmes", operation_id = "get_section",
    params(("id" = String, Path, description = "Section id (UUID)")),
    responses(
        (status = 200, description = "The section, with its ETag", body = SectionSummary),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not public: needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such section", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn section(
    state: web::Data<AppState>,
    who: Authenticated,
    lang: super::lang::Lang,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let section = state
        .db(move |conn| {
            let (section, programme) = find_section(conn, &id)?;
            who.may(Action::Read, programme_target(&programme))?;
            section_summary(conn, &programme, section, lang.0)
        })
        .await?;
    Ok(super::etag::ok_with_etag(section.version, &section))
}

async fn change_section(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: Language,
    id: String,
    body: serde_json::Value,
    patch: bool,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let section = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let (stored, programme) = find_section(conn, &id)?;
                who.may(Action::Update, programme_target(&programme))?;
                let input: SectionInput = if patch {
                    let current = SectionInput {
                        code: stored.code.clone(),
                        title: text(&stored.title)?,
                        position: Some(stored.position),
                    };
                    let mut doc =
                        serde_json::to_value(current).map_err(|e| AppError::Internal(e.into()))?;
                    merge_patch(&mut doc, &body);
                    read(doc)?
                } else {
                    read(body)?
                };
                let row = section_row(conn, &programme, &input, Some(&stored), ctx.at)?;
                let written = store::programmes::update_section(conn, &ctx, stored, row, expected)
                    .map_err(taken("a section with this code"))?;
                let row = match written {
                    Versioned::Stale => return Err(stale()),
                    Versioned::Written(row) | Versioned::Unchanged(row) => row,
                };
                section_summary(conn, &programme, row, lang)
            })
        })
        .await?;
    Ok(super::etag::ok_with_etag(section.version, &section))
}

#[utoipa::path(
    put, path = "/api/v1/sections/{id}", tag = "programmes", operation_id = "put_section",
    params(
        ("id" = String, Path, description = "Section id (UUID)"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being replaced; required (428 without it)"),
    ),
    request_body = SectionInput,
    responses(
        (status = 200, description = "Replaced", body = SectionSummary),
        (status = 400, description = "Invalid section", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such section", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code was taken meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_section(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: super::lang::Lang,
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    change_section(state, req, who, lang.0, id.into_inner(), body.0, false).await
}

#[utoipa::path(
    patch, path = "/api/v1/sections/{id}", tag = "programmes", operation_id = "patch_section",
    params(
        ("id" = String, Path, description = "Section id (UUID)"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being changed; required (428 without it)"),
    ),
    request_body(content = Object, description = "JSON merge patch (RFC 7396) of SectionInput", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = SectionSummary),
        (status = 400, description = "Invalid change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such section", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code was taken meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn patch_section(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: super::lang::Lang,
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    change_section(state, req, who, lang.0, id.into_inner(), body.0, true).await
}

#[utoipa::path(
    delete, path = "/api/v1/sections/{id}", tag = "programmes", operation_id = "delete_section",
    params(
        ("id" = String, Path, description = "Section id (UUID)"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being deleted; required (428 without it)"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to delete", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such section", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "It still holds items", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_section(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let (stored, programme) = find_section(conn, &id)?;
                who.may(Action::Delete, programme_target(&programme))?;
                if stored.version != expected {
                    return Err(stale());
                }
                let items = store::programmes::section_item_counts(conn, std::slice::from_ref(&stored.id))?
                    .first()
                    .map_or(0, |(_, n)| *n);
                if items > 0 {
                    return Err(AppError::Conflict(format!(
                        "section `{}` still holds {items} items: move them to another section or delete them first",
                        stored.code
                    )));
                }
                if !store::programmes::delete_section(conn, &ctx, stored, expected)? {
                    return Err(stale());
                }
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Checks a new item of a programme and builds its row and assignments.
fn new_item(
    conn: &mut Conn,
    programme: &ProgrammeRow,
    input: &ObligationInput,
    at: chrono::NaiveDateTime,
) -> AppResult<(ObligationRow, Vec<AssignmentRow>)> {
    let mut errors = Vec::new();
    let id = store::new_id();
    let number = input.number.trim().to_string();
    if number.is_empty() || number.chars().count() > 20 {
        errors.push(FieldError::new(
            "number",
            "an item number is 1 to 20 characters, e.g. 3.2",
        ));
    } else if store::obligations::by_number(conn, Owner::Programme(&programme.id), &number)?
        .is_some()
    {
        errors.push(FieldError::new(
            "number",
            format!("item {number} already exists in this programme"),
        ));
    }
    let section_id = match &input.section {
        Some(code) => match store::programmes::section_by_code(conn, &programme.id, code)? {
            Some(s) => Some(s.id),
            None => {
                errors.push(FieldError::new(
                    "section",
                    format!("`{code}` is not a section of this programme"),
                ));
                None
            }
        },
        None => None,
    };
    let period = Period {
        start: programme.period_start,
        end: programme.period_end,
    };
    let timeframe = match Timeframe::parse(&input.timeframe, Some(period)) {
        Ok(t) => {
            let inside = t
                .period()
                .is_none_or(|p| period.contains(p.start) && period.contains(p.end));
            if !inside {
                errors.push(FieldError::new(
                    "timeframe",
                    format!(
                        "{} lies outside the programme period {}..{}",
                        t.source, period.start, period.end
                    ),
                ));
            }
            Some(t)
        }
        Err(e) => {
            errors.push(FieldError::new("timeframe", e.to_string()));
            None
        }
    };
    let mut assignments: Vec<AssignmentRow> = Vec::new();
    for (i, a) in input.assignments.iter().enumerate() {
        let Some(org) = store::organisations::by_key(conn, &a.organisation)? else {
            errors.push(FieldError::new(
                format!("assignments[{i}].organisation"),
                format!("`{}` does not exist", a.organisation),
            ));
            continue;
        };
        let party_id = match &a.party {
            Some(code) => match store::parties::by_code(conn, code)? {
                Some(p) => p.id,
                None => {
                    errors.push(FieldError::new(
                        format!("assignments[{i}].party"),
                        format!("`{code}` does not exist"),
                    ));
                    continue;
                }
            },
            None => org.party_id.clone(),
        };
        if assignments
            .iter()
            .any(|x| x.organisation_id == org.id && x.role == a.role.as_str())
        {
            errors.push(FieldError::new(
                format!("assignments[{i}]"),
                "the same organisation and role twice",
            ));
            continue;
        }
        assignments.push(AssignmentRow {
            id: store::new_id(),
            obligation_id: id.clone(),
            organisation_id: org.id,
            party_id,
            role: a.role.as_str().to_string(),
        });
    }
    let Some(timeframe) = timeframe.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let text = input.text.to_json();
    let quantities = input
        .quantities
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| AppError::Internal(e.into()))?;
    let cost_terms = input
        .cost_terms
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| AppError::Internal(e.into()))?;
    let position = store::obligations::make_room(conn, &programme.id, section_id.as_deref())?;
    Ok((
        ObligationRow {
            id,
            programme_id: Some(programme.id.clone()),
            section_id,
            meeting_id: None,
            decision_id: None,
            search_text: store::obligations::search_text(&number, &text),
            number,
            position,
            text,
            kind: input.kind.as_str().to_string(),
            firmness: input.firmness.as_str().to_string(),
            quantities,
            cost_terms,
            timeframe_kind: timeframe.kind.as_str().to_string(),
            timeframe_text: timeframe.source.clone(),
            earliest: timeframe.earliest,
            latest: timeframe.latest,
            recurrence: input.recurrence.map(|r| r.as_str().to_string()),
            lifecycle: input.lifecycle.as_str().to_string(),
            version: 1,
            created_at: at,
            updated_at: at,
        },
        assignments,
    ))
}

#[utoipa::path(
    post, path = "/api/v1/programmes/{id}/obligations", tag = "obligations", operation_id = "create_obligation",
    params(("id" = String, Path, description = "Programme id (UUID) or key")),
    request_body = ObligationInput,
    responses(
        (status = 201, description = "Created, after the last item of its section; Location and ETag of the new item", body = ObligationView),
        (status = 400, description = "Invalid item", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and the programme's secretariat create items", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The number was taken meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_obligation(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    lang: super::lang::Lang,
    id: web::Path<String>,
    body: JsonBody,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    let st = state.clone();
    let view = state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                let programme = find(conn, &id)?;
                who.may(
                    Action::Create,
                    Target::Obligation {
                        body_id: programme.body_id.as_deref(),
                        public: programme.public,
                        assigned: &[],
                    },
                )?;
                let input: ObligationInput = read(body.0)?;
                let (row, assignments) = new_item(conn, &programme, &input, ctx.at)?;
                let row = store::obligations::insert(conn, &ctx, row, &assignments)
                    .map_err(taken("an item with this number"))?;
                super::reminder_policies::replan_items(
                    conn,
                    &st,
                    &[Item::Obligation(row.id.clone())],
                )?;
                let items = assess_rows(
                    conn,
                    vec![row],
                    st.clock.as_ref(),
                    st.settings.status.due_soon_days,
                )?;
                let item = items
                    .first()
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("item vanished")))?;
                obligation_view(item, lang.0)
            })
        })
        .await?;
    Ok(with_etag(HttpResponse::Created(), view.version)
        .insert_header((LOCATION, format!("/api/v1/obligations/{}", view.id)))
        .json(&view))
}

#[utoipa::path(
    delete, path = "/api/v1/obligations/{id}", tag = "obligations", operation_id = "delete_obligation",
    params(
        ("id" = String, Path, description = "Item id (UUID)"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being deleted; required (428 without it)"),
    ),
    responses(
        (status = 204, description = "Deleted, with its assignments and event links"),
        (status = 400, description = "Invalid id", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and the secretariat of its body delete items", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "It has status reports or decisions changed it: cancel or supersede it instead", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since If-Match", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_obligation(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    who.signed_in()?;
    let expected = expected_version(&req)?;
    let ctx = write_context(&state, &who, &req);
    let id = id.into_inner();
    let st = state.clone();
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                if uuid::Uuid::parse_str(&id).is_err() {
                    return Err(AppError::invalid("id", format!("`{id}` is not a UUID")));
                }
                let row = store::obligations::by_id(conn, &id)?
                    .ok_or_else(|| AppError::not_found("obligation", &id))?;
                let (body_id, public) = match (&row.programme_id, &row.meeting_id) {
                    (Some(p), _) => {
                        let programme = store::programmes::by_id(conn, p)?
                            .ok_or_else(|| corrupt("programme", p))?;
                        (programme.body_id, programme.public)
                    }
                    (None, Some(m)) => (
                        store::bodies::meeting_by_id(conn, m)?.map(|m| m.body_id),
                        false,
                    ),
                    (None, None) => (None, false),
                };
                let assigned: Vec<String> =
                    store::obligations::assignments_of(conn, std::slice::from_ref(&row.id))?
                        .into_iter()
                        .map(|a| a.organisation_id)
                        .collect();
                who.may(
                    Action::Delete,
                    Target::Obligation {
                        body_id: body_id.as_deref(),
                        public,
                        assigned: &assigned,
                    },
                )?;
                if row.version != expected {
                    return Err(stale());
                }
                if store::obligations::report_count(conn, &row.id)? > 0 {
                    return Err(AppError::Conflict(format!(
                        "item {} has status reports: an item with reports is cancelled or superseded, not deleted",
                        row.number
                    )));
                }
                if store::obligations::decision_effect_count(conn, &row.id)? > 0 {
                    return Err(AppError::Conflict(format!(
                        "decisions of a meeting refer to item {}: cancel or supersede it instead",
                        row.number
                    )));
                }
                // Its reminders and its lead times' go before it.
                super::reminder_policies::forget_item(conn, &st, Item::Obligation(row.id.clone()))?;
                if !store::obligations::delete(conn, &ctx, row, expected)? {
                    return Err(stale());
                }
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// More routes of this module, under /api/v1 (the read-only ones are in `api::configure`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/programmes", web::post().to(create))
        .route("/programmes/{id}", web::put().to(put))
        .route("/programmes/{id}", web::patch().to(patch))
        .route("/programmes/{id}", web::delete().to(delete))
        .route("/programmes/{id}/sections", web::get().to(sections))
        .route("/programmes/{id}/sections", web::post().to(create_section))
        .route(
            "/programmes/{id}/obligations",
            web::post().to(create_obligation),
        )
        .route("/sections/{id}", web::get().to(section))
        .route("/sections/{id}", web::put().to(put_section))
        .route("/sections/{id}", web::patch().to(patch_section))
        .route("/sections/{id}", web::delete().to(delete_section))
        .route("/obligations/{id}", web::delete().to(delete_obligation));
}

/// The OpenAPI paths of this module not listed in `openapi::ApiDoc`.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create,
    put,
    patch,
    delete,
    sections,
    create_section,
    section,
    put_section,
    patch_section,
    delete_section,
    create_obligation,
    delete_obligation,
))]
pub struct Doc;
