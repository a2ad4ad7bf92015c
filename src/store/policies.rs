//! Reminder policies: the global one (`programme_id` NULL, id "global") and
//! per-programme ones that replace it. Offsets and fields are JSON arrays.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::{delete_versioned, insert_audited, update_versioned, versioned_record};
use super::{Versioned, WriteContext};
use crate::db::schema::reminder_policies;
use crate::db::Conn;
use crate::domain::reminders::{Policy, ReminderField, GLOBAL_POLICY_ID};

/// Ids per statement: SQLite limits the parameters of one.
const CHUNK: usize = 5_000;

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = reminder_policies, treat_none_as_null = true)]
pub struct PolicyRow {
    pub id: String,
    pub programme_id: Option<String>,
    /// JSON array of days before the due date.
    pub offsets: String,
    /// JSON array of `ReminderField`s.
    pub fields: String,
    pub overdue_every_days: i32,
    pub deputies_after_days: i32,
    pub secretariat_after_days: i32,
    pub send_hour: i32,
    pub skip_weekends: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
versioned_record!(PolicyRow, "reminder_policy");

impl PolicyRow {
    /// A new row holding `policy`: the global one when `programme_id` is None.
    pub fn new(policy: &Policy, programme_id: Option<String>, at: NaiveDateTime) -> PolicyRow {
        let mut row = PolicyRow {
            id: match programme_id {
                None => GLOBAL_POLICY_ID.to_string(),
                Some(_) => super::new_id(),
            },
            programme_id,
            offsets: String::new(),
            fields: String::new(),
            overdue_every_days: 0,
            deputies_after_days: 0,
            secretariat_after_days: 0,
            send_hour: 0,
            skip_weekends: false,
            version: 1,
            created_at: at,
            updated_at: at,
        };
        row.set(policy);
        row
    }

    /// Writes `policy` into the row (identity and bookkeeping kept).
    pub fn set(&mut self, policy: &Policy) {
        // Serialising numbers and known words cannot fail.
        self.offsets = serde_json::to_string(&policy.offsets).unwrap_or_else(|_| "[]".into());
        self.fields = serde_json::to_string(&policy.fields).unwrap_or_else(|_| "[]".into());
        let days = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        self.overdue_every_days = days(policy.overdue_every_days);
        self.deputies_after_days = days(policy.deputies_after_days);
        self.secretariat_after_days = days(policy.secretariat_after_days);
        self.send_hour = i32::try_from(policy.send_hour).unwrap_or(0);
        self.skip_weekends = policy.skip_weekends;
    }

    /// The policy the row holds; an error names what is corrupt.
    pub fn policy(&self) -> Result<Policy, String> {
        let offsets: Vec<i64> = serde_json::from_str(&self.offsets)
            .map_err(|e| format!("reminder policy {} offsets: {e}", self.id))?;
        let fields: Vec<ReminderField> = serde_json::from_str(&self.fields)
            .map_err(|e| format!("reminder policy {} fields: {e}", self.id))?;
        Ok(Policy {
            offsets,
            fields,
            overdue_every_days: i64::from(self.overdue_every_days),
            deputies_after_days: i64::from(self.deputies_after_days),
            secretariat_after_days: i64::from(self.secretariat_after_days),
            send_hour: u32::try_from(self.send_hour).unwrap_or(0),
            skip_weekends: self.skip_weekends,
        })
    }
}

/// The stored global policy, if an admin wrote one.
pub fn global(conn: &mut Conn) -> QueryResult<Option<PolicyRow>> {
    reminder_policies::table
        .filter(reminder_policies::programme_id.is_null())
        .select(PolicyRow::as_select())
        .first(conn)
        .optional()
}

/// A programme's own policy, if it has one.
pub fn of_programme(conn: &mut Conn, programme_id: &str) -> QueryResult<Option<PolicyRow>> {
    reminder_policies::table
        .filter(reminder_policies::programme_id.eq(programme_id))
        .select(PolicyRow::as_select())
        .first(conn)
        .optional()
}

/// The own policies of the given programmes (those that have one).
pub fn of_programmes(conn: &mut Conn, programme_ids: &[String]) -> QueryResult<Vec<PolicyRow>> {
    let mut found = Vec::new();
    for chunk in programme_ids.chunks(CHUNK) {
        found.extend(
            reminder_policies::table
                .filter(reminder_policies::programme_id.eq_any(chunk))
                .select(PolicyRow::as_select())
                .load(conn)?,
        );
    }
    Ok(found)
}

/// Every programme's own policy (a few: one per programme at most).
pub fn all_of_programmes(conn: &mut Conn) -> QueryResult<Vec<PolicyRow>> {
    reminder_policies::table
        .filter(reminder_policies::programme_id.is_not_null())
        .select(PolicyRow::as_select())
        .load(conn)
}

pub fn insert(conn: &mut Conn, ctx: &WriteContext, row: PolicyRow) -> QueryResult<PolicyRow> {
    Ok(insert_audited!(conn, ctx, reminder_policies::table, row))
}

/// Writes `row` over `stored` if the policy is still at version `expected`.
pub fn update(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: PolicyRow,
    row: PolicyRow,
    expected: i32,
) -> QueryResult<Versioned<PolicyRow>> {
    Ok(update_versioned!(
        conn,
        ctx,
        reminder_policies::table,
        reminder_policies::version,
        stored,
        row,
        expected
    ))
}

/// Deletes a policy still at version `expected`; false when it changed meanwhile.
pub fn delete(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: PolicyRow,
    expected: i32,
) -> QueryResult<bool> {
    Ok(delete_versioned!(
        conn,
        ctx,
        reminder_policies::table,
        reminder_policies::version,
        stored,
        expected
    ))
}
