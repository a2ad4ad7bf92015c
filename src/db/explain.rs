//! What the database plans to do with a query: PostgreSQL's `EXPLAIN (FORMAT
//! JSON)` and SQLite's `EXPLAIN QUERY PLAN`, for the tests that check every
//! list, feed and planner query is served by an index.
//!
//! The query is sent as it is, with its bind values bound (not pasted into the
//! text), so PostgreSQL plans it for those values. The server's connections
//! run generic plans instead (`ConnectionManager::establish`), which EXPLAIN
//! with values cannot show: `tests/query_plans.rs` also runs each query under
//! a generic plan and reads the transaction's scan counters.

use std::collections::BTreeSet;

use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Integer, Text};
use diesel::{QueryResult, RunQueryDsl};

use super::{Backend, Conn, MultiBackend};

/// `EXPLAIN (FORMAT JSON) <query>` on PostgreSQL, one JSON text.
#[derive(Debug, Clone, Copy)]
pub struct PgExplain<Q>(pub Q);

impl<Q> QueryId for PgExplain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for PgExplain<Q> {
    type SqlType = Text;
}

impl<Q: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for PgExplain<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        // Never cached: an unnamed statement is planned with its bind values.
        out.unsafe_to_cache_prepared();
        out.push_sql("EXPLAIN (FORMAT JSON) ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q> RunQueryDsl<Conn> for PgExplain<Q> {}

/// `EXPLAIN QUERY PLAN <query>` on SQLite: (id, parent, unused, detail) rows.
#[derive(Debug, Clone, Copy)]
pub struct SqliteExplain<Q>(pub Q);

impl<Q> QueryId for SqliteExplain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for SqliteExplain<Q> {
    type SqlType = (Integer, Integer, Integer, Text);
}

impl<Q: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for SqliteExplain<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        out.push_sql("EXPLAIN QUERY PLAN ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q> RunQueryDsl<Conn> for SqliteExplain<Q> {}

/// One step of a plan: what it does, on which table, through which index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Step {
    /// PostgreSQL's node type ("Seq Scan", "Index Scan", "Bitmap Index Scan",
    /// ...); on SQLite "SCAN" or "SEARCH" (or the detail's first word).
    pub node: String,
    pub relation: Option<String>,
    pub index: Option<String>,
}

impl Step {
    /// Reads a table through an index (PostgreSQL index, index-only and
    /// bitmap index scans; SQLite SEARCH, or SCAN along an index).
    pub fn uses_index(&self) -> bool {
        matches!(
            self.node.as_str(),
            "Index Scan" | "Index Only Scan" | "Bitmap Index Scan"
        ) || (self.node == "SEARCH" || self.node == "SCAN") && self.index.is_some()
    }

    /// Reads every row of a table (PostgreSQL Seq Scan; SQLite SCAN without an index).
    pub fn is_full_scan(&self) -> bool {
        self.node == "Seq Scan" || self.node == "SCAN" && self.index.is_none()
    }
}

/// A query's plan: the raw text the database gave and its steps.
#[derive(Debug, Clone)]
pub struct Plan {
    pub raw: String,
    pub steps: BTreeSet<Step>,
}

impl Plan {
    /// Steps that read every row of `table`.
    pub fn full_scans_of(&self, table: &str) -> Vec<&Step> {
        self.steps
            .iter()
            .filter(|s| s.is_full_scan() && s.relation.as_deref() == Some(table))
            .collect()
    }

    /// Whether any step reads through an index.
    pub fn uses_an_index(&self) -> bool {
        self.steps.iter().any(Step::uses_index)
    }
}

/// The plan of `query` on the connection's backend, planned for its bind values.
pub fn plan<Q>(conn: &mut Conn, query: Q) -> QueryResult<Plan>
where
    Q: QueryFragment<MultiBackend>,
{
    match conn.backend() {
        Backend::Postgres => {
            let raw: String = PgExplain(query).get_result(conn)?;
            let json: serde_json::Value = serde_json::from_str(&raw)
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            let mut steps = BTreeSet::new();
            if let Some(root) = json.get(0).and_then(|p| p.get("Plan")) {
                pg_steps(root, &mut steps);
            }
            Ok(Plan { raw, steps })
        }
        Backend::Sqlite => {
            let rows: Vec<(i32, i32, i32, String)> = SqliteExplain(query).load(conn)?;
            let raw = rows
                .iter()
                .map(|(id, parent, _, detail)| format!("{id} {parent} {detail}"))
                .collect::<Vec<_>>()
                .join("\n");
            let steps = rows.iter().map(|(_, _, _, d)| sqlite_step(d)).collect();
            Ok(Plan { raw, steps })
        }
    }
}

/// The node and its children, depth first.
pub fn pg_steps(node: &serde_json::Value, into: &mut BTreeSet<Step>) {
    let text = |key: &str| node.get(key).and_then(|v| v.as_str()).map(str::to_string);
    if let Some(kind) = text("Node Type") {
        into.insert(Step {
            node: kind,
            relation: text("Relation Name"),
            index: text("Index Name"),
        });
    }
    if let Some(children) = node.get("Plans").and_then(|v| v.as_array()) {
        for child in children {
            pg_steps(child, into);
        }
    }
}

/// One line of SQLite's plan: "SCAN obligations", "SEARCH events USING INDEX
/// events_dates (earliest<?)", "SCAN t USING COVERING INDEX i", "USE TEMP B-TREE ...".
pub fn sqlite_step(detail: &str) -> Step {
    let mut words = detail.split_whitespace();
    let node = words.next().unwrap_or_default().to_string();
    let relation = if node == "SCAN" || node == "SEARCH" {
        words.next().map(str::to_string)
    } else {
        None
    };
    let rest: Vec<&str> = detail.split_whitespace().collect();
    let index = rest
        .iter()
        .position(|w| *w == "INDEX")
        .and_then(|i| rest.get(i + 1))
        .map(|s| s.to_string())
        .or_else(|| {
            // "USING INTEGER PRIMARY KEY" / "USING PRIMARY KEY" read by key.
            detail
                .contains("PRIMARY KEY")
                .then(|| "PRIMARY KEY".to_string())
        });
    Step {
        node,
        relation,
        index,
    }
}
