//! Snapshots: a programme's roll-up and implementation table frozen on a date,
//! stored as JSON text. Immutable (the database refuses UPDATE and DELETE);
//! taking one is audited.

use diesel::prelude::*;
use serde::Serialize;

use super::WriteContext;
use crate::db::schema::snapshots;
use crate::db::Conn;
use crate::report::rollup::Rollup;
use crate::report::table::ImplementationTable;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = snapshots)]
pub struct SnapshotRow {
    pub id: String,
    pub programme_id: String,
    pub meeting_id: Option<String>,
    pub label: Option<String>,
    pub as_of: chrono::NaiveDate,
    pub taken_at: chrono::NaiveDateTime,
    pub taken_by: String,
    pub rollup: String,
    pub implementation_table: String,
}

/// What a snapshot is, without its contents (for lists and the audit log).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SnapshotInfo {
    pub id: String,
    pub programme_id: String,
    pub meeting_id: Option<String>,
    pub label: Option<String>,
    pub as_of: chrono::NaiveDate,
    /// An instant: RFC 3339 in UTC, as every instant the API gives.
    pub taken_at: chrono::DateTime<chrono::Utc>,
    pub taken_by: String,
}

/// A snapshot with its frozen contents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    #[serde(flatten)]
    pub info: SnapshotInfo,
    pub rollup: Rollup,
    pub implementation_table: ImplementationTable,
}

impl SnapshotRow {
    pub fn info(&self) -> SnapshotInfo {
        SnapshotInfo {
            id: self.id.clone(),
            programme_id: self.programme_id.clone(),
            meeting_id: self.meeting_id.clone(),
            label: self.label.clone(),
            as_of: self.as_of,
            taken_at: self.taken_at.and_utc(),
            taken_by: self.taken_by.clone(),
        }
    }

    fn contents(self) -> QueryResult<Snapshot> {
        let bad = |e: serde_json::Error| {
            diesel::result::Error::DeserializationError(
                format!("stored snapshot {} is not valid: {e}", self.id).into(),
            )
        };
        Ok(Snapshot {
            info: self.info(),
            rollup: serde_json::from_str(&self.rollup).map_err(bad)?,
            implementation_table: serde_json::from_str(&self.implementation_table).map_err(bad)?,
        })
    }
}

fn to_json<T: Serialize>(value: &T) -> QueryResult<String> {
    serde_json::to_string(value).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}

/// What to freeze.
pub struct NewSnapshot<'a> {
    pub programme_id: &'a str,
    pub meeting_id: Option<&'a str>,
    pub label: Option<&'a str>,
    pub rollup: &'a Rollup,
    pub table: &'a ImplementationTable,
}

/// Stores a snapshot and its audit entry (the audit keeps what it is, not its contents).
pub fn create(
    conn: &mut Conn,
    ctx: &WriteContext,
    new: NewSnapshot<'_>,
) -> QueryResult<SnapshotInfo> {
    let row = SnapshotRow {
        id: super::new_id(),
        programme_id: new.programme_id.to_string(),
        meeting_id: new.meeting_id.map(str::to_string),
        label: new.label.map(str::to_string),
        as_of: new.table.as_of,
        taken_at: ctx.at,
        taken_by: ctx.actor.clone(),
        rollup: to_json(new.rollup)?,
        implementation_table: to_json(new.table)?,
    };
    diesel::insert_into(snapshots::table)
        .values(&row)
        .execute(conn)?;
    let info = row.info();
    super::audit::record(
        conn,
        ctx,
        "create",
        "snapshot",
        &row.id,
        None::<&()>,
        Some(&info),
    )?;
    Ok(info)
}

/// The snapshots of a programme, oldest first.
pub fn of_programme(conn: &mut Conn, programme_id: &str) -> QueryResult<Vec<SnapshotInfo>> {
    let rows: Vec<SnapshotRow> = snapshots::table
        .filter(snapshots::programme_id.eq(programme_id))
        .order((snapshots::taken_at.asc(), snapshots::id.asc()))
        .select(SnapshotRow::as_select())
        .load(conn)?;
    Ok(rows.iter().map(SnapshotRow::info).collect())
}

/// A snapshot with its stored table and roll-up. None: no such snapshot.
pub fn get(conn: &mut Conn, id: &str) -> QueryResult<Option<Snapshot>> {
    snapshots::table
        .find(id)
        .select(SnapshotRow::as_select())
        .first(conn)
        .optional()?
        .map(SnapshotRow::contents)
        .transpose()
}

/// How many snapshots a programme has (they keep it from being deleted).
pub fn count_of_programme(conn: &mut Conn, programme_id: &str) -> QueryResult<i64> {
    snapshots::table
        .filter(snapshots::programme_id.eq(programme_id))
        .count()
        .get_result(conn)
}
