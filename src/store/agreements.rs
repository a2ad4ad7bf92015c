//! Agreements: the legal instruments, their parties and signatory bodies.

use diesel::prelude::*;
use serde::Serialize;

use super::{replace_links, upsert_versioned, versioned_record, Outcome, WriteContext};
use crate::db::schema::{agreement_parties, agreement_signatories, agreements, parties};
use crate::db::Conn;

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = agreements, treat_none_as_null = true)]
pub struct AgreementRow {
    pub id: String,
    pub key: String,
    pub kind: String,
    pub level: String,
    pub title: String,
    pub signed_kind: Option<String>,
    pub signed_text: Option<String>,
    pub signed_earliest: Option<chrono::NaiveDate>,
    pub signed_latest: Option<chrono::NaiveDate>,
    pub place: Option<String>,
    pub in_force_on: Option<chrono::NaiveDate>,
    pub term_months: Option<i32>,
    pub renewal_months: Option<i32>,
    pub notice_months: Option<i32>,
    pub valid_until: Option<chrono::NaiveDate>,
    pub source: Option<String>,
    pub note: Option<String>,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(AgreementRow, "agreement");

pub fn by_key(conn: &mut Conn, key: &str) -> QueryResult<Option<AgreementRow>> {
    agreements::table
        .filter(agreements::key.eq(key))
        .select(AgreementRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<AgreementRow>> {
    agreements::table
        .find(id)
        .select(AgreementRow::as_select())
        .first(conn)
        .optional()
}

/// Agreements, oldest signature first (undated last), optionally of one party.
pub fn list(conn: &mut Conn, party_code: Option<&str>) -> QueryResult<Vec<AgreementRow>> {
    let mut query = agreements::table
        .select(AgreementRow::as_select())
        .order((agreements::signed_earliest.asc(), agreements::key.asc()))
        .into_boxed();
    if let Some(code) = party_code {
        let of_party = agreement_parties::table
            .inner_join(parties::table)
            .filter(parties::code.eq(code.to_string()))
            .select(agreement_parties::agreement_id);
        query = query.filter(agreements::id.eq_any(of_party));
    }
    query.load(conn)
}

/// (agreement id, party code) for the given agreements.
pub fn party_codes(
    conn: &mut Conn,
    agreement_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    agreement_parties::table
        .inner_join(parties::table)
        .filter(agreement_parties::agreement_id.eq_any(agreement_ids))
        .order((agreement_parties::agreement_id.asc(), parties::code.asc()))
        .select((agreement_parties::agreement_id, parties::code))
        .load(conn)
}

pub fn signatory_ids(conn: &mut Conn, agreement_id: &str) -> QueryResult<Vec<String>> {
    agreement_signatories::table
        .filter(agreement_signatories::agreement_id.eq(agreement_id))
        .select(agreement_signatories::organisation_id)
        .load(conn)
}

pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: AgreementRow,
    party_ids: &[String],
    signatory_ids: &[String],
) -> QueryResult<(AgreementRow, Outcome)> {
    let stored = by_key(conn, &row.key)?;
    let (row, outcome) = upsert_versioned!(conn, ctx, agreements::table, stored, row);
    replace_links!(
        conn,
        ctx,
        agreement_parties,
        agreement_id,
        &row.id,
        party_id,
        party_ids,
        "agreement_party"
    )?;
    replace_links!(
        conn,
        ctx,
        agreement_signatories,
        agreement_id,
        &row.id,
        organisation_id,
        signatory_ids,
        "agreement_signatory"
    )?;
    Ok((row, outcome))
}
