//! The audit log: every write, who, when, what, before and after. Append-only
//! (the database refuses UPDATE and DELETE on it).

use diesel::prelude::*;
use serde::Serialize;

use super::WriteContext;
use crate::db::schema::audit_log;
use crate::db::Conn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub at: chrono::NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: Option<String>,
}

pub fn record<B: Serialize + ?Sized, A: Serialize + ?Sized>(
    conn: &mut Conn,
    ctx: &WriteContext,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> QueryResult<()> {
    let row = AuditRow {
        id: super::new_id(),
        at: ctx.at,
        actor: ctx.actor.clone(),
        action: action.to_string(),
        entity: entity.to_string(),
        entity_id: entity_id.to_string(),
        before: before.map(to_json),
        after: after.map(to_json),
        request_id: ctx.request_id.clone(),
    };
    diesel::insert_into(audit_log::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

pub fn count(conn: &mut Conn) -> QueryResult<i64> {
    audit_log::table.count().get_result(conn)
}

pub fn for_entity(conn: &mut Conn, entity: &str, entity_id: &str) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .filter(audit_log::entity.eq(entity))
        .filter(audit_log::entity_id.eq(entity_id))
        .order(audit_log::at.asc())
        .select(AuditRow::as_select())
        .load(conn)
}

/// Row structs are plain data: serialising them cannot fail.
fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"unserialisable\":\"{e}\"}}"))
}

/// Filters of the audit list; all optional.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    pub from: Option<chrono::NaiveDateTime>,
    pub to: Option<chrono::NaiveDateTime>,
}

/// Entries newest first, before the (at, id) position of the previous page.
pub fn search(
    conn: &mut Conn,
    filter: &AuditFilter,
    before: Option<(chrono::NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_log::table
        .select(AuditRow::as_select())
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(e) = &filter.entity {
        query = query.filter(audit_log::entity.eq(e.clone()));
    }
    if let Some(e) = &filter.entity_id {
        query = query.filter(audit_log::entity_id.eq(e.clone()));
    }
    if let Some(a) = &filter.actor {
        query = query.filter(audit_log::actor.eq(a.clone()));
    }
    if let Some(f) = filter.from {
        query = query.filter(audit_log::at.ge(f));
    }
    if let Some(t) = filter.to {
        query = query.filter(audit_log::at.le(t));
    }
    if let Some((at, id)) = before {
        query = query.filter(
            audit_log::at
                .lt(at)
                .or(audit_log::at.eq(at).and(audit_log::id.lt(id))),
        );
    }
    query.load(conn)
}
