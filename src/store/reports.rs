//! Status reports and their evidence: append-only. The current status of a
//! party is its latest report; history is every report.

use diesel::prelude::*;
use serde::Serialize;

use super::WriteContext;
use crate::db::schema::{evidence, parties, status_reports};
use crate::db::Conn;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = status_reports)]
pub struct StatusReportRow {
    pub id: String,
    pub obligation_id: String,
    pub party_id: String,
    pub lifecycle: String,
    pub completion: String,
    pub narrative: Option<String>,
    pub as_of: chrono::NaiveDate,
    pub reported_at: chrono::NaiveDateTime,
    pub reporter: String,
    pub decision_id: Option<String>,
    /// The year of a yearly obligation's occurrence the report is about.
    pub occurrence_year: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = evidence)]
pub struct EvidenceRow {
    pub id: String,
    pub status_report_id: String,
    pub kind: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub sha256: Option<String>,
    pub created_at: chrono::NaiveDateTime,
}

/// A report with its party's code.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub report: StatusReportRow,
    pub party_code: String,
}

/// Appends a report with its evidence and the audit entry.
pub fn append(
    conn: &mut Conn,
    ctx: &WriteContext,
    report: &StatusReportRow,
    items: &[EvidenceRow],
) -> QueryResult<()> {
    diesel::insert_into(status_reports::table)
        .values(report)
        .execute(conn)?;
    for item in items {
        diesel::insert_into(evidence::table)
            .values(item)
            .execute(conn)?;
    }
    let after = serde_json::json!({ "report": report, "evidence": items });
    super::audit::record(
        conn,
        ctx,
        "create",
        "status_report",
        &report.id,
        None::<&()>,
        Some(&after),
    )
}

/// Whether this party already reported on this obligation as of this date
/// (the natural key an import matches on, so re-importing adds nothing).
pub fn exists(
    conn: &mut Conn,
    obligation_id: &str,
    party_id: &str,
    as_of: chrono::NaiveDate,
) -> QueryResult<bool> {
    let n: i64 = status_reports::table
        .filter(status_reports::obligation_id.eq(obligation_id))
        .filter(status_reports::party_id.eq(party_id))
        .filter(status_reports::as_of.eq(as_of))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Every report on the given obligations, oldest first.
pub fn of_obligations(conn: &mut Conn, obligation_ids: &[String]) -> QueryResult<Vec<ReportView>> {
    let rows: Vec<(StatusReportRow, String)> = status_reports::table
        .inner_join(parties::table)
        .filter(status_reports::obligation_id.eq_any(obligation_ids))
        .order((
            status_reports::as_of.asc(),
            status_reports::reported_at.asc(),
        ))
        .select((StatusReportRow::as_select(), parties::code))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(report, party_code)| ReportView { report, party_code })
        .collect())
}

/// What assessing an item needs of one report on it.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct ReportStatus {
    pub obligation_id: String,
    pub party_code: String,
    pub lifecycle: String,
    pub completion: String,
    pub as_of: chrono::NaiveDate,
    pub reported_at: chrono::NaiveDateTime,
    pub occurrence_year: Option<i32>,
}

/// The reports on the items, oldest first, with only what their status
/// needs: read from one index (status_reports_assessment, migration 000011)
/// where an item's reports lie together, never from the table, whose rows
/// lie in the order they were written (a page read per report at scale).
pub fn statuses_of(conn: &mut Conn, obligation_ids: &[String]) -> QueryResult<Vec<ReportStatus>> {
    status_reports::table
        .inner_join(parties::table)
        .filter(status_reports::obligation_id.eq_any(obligation_ids))
        .order((
            status_reports::as_of.asc(),
            status_reports::reported_at.asc(),
        ))
        .select((
            status_reports::obligation_id,
            parties::code,
            status_reports::lifecycle,
            status_reports::completion,
            status_reports::as_of,
            status_reports::reported_at,
            status_reports::occurrence_year,
        ))
        .load(conn)
}

pub fn evidence_of(conn: &mut Conn, report_ids: &[String]) -> QueryResult<Vec<EvidenceRow>> {
    evidence::table
        .filter(evidence::status_report_id.eq_any(report_ids))
        .order(evidence::created_at.asc())
        .select(EvidenceRow::as_select())
        .load(conn)
}

pub fn count(conn: &mut Conn) -> QueryResult<i64> {
    status_reports::table.count().get_result(conn)
}
