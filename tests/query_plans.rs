//! Query plans on the shape of the large dataset (issue 7, point 4): the
//! obligations list, the calendar feed and the reminder planner's candidate
//! queries are served by indexes, not by reading whole big tables.
//!
//! A fresh database is filled by `accord::gen` at a small scale (the shape of
//! the large dataset: many programmes, one programme of many items, reports,
//! events), analysed, and each query is EXPLAINed with its real bind values
//! (`accord::db::explain`). Nothing here disables sequential scans.
//!
//! The server's PostgreSQL connections run generic plans (planned once per
//! prepared statement, without the values: `db::ConnectionManager`), and
//! EXPLAIN with bound values shows the plan for those values instead. So on
//! PostgreSQL each query is also run under `plan_cache_mode =
//! force_generic_plan`, and the transaction's own scan counters
//! (`pg_stat_xact_user_tables`) must show no sequential scan of a big table.
//!
//! PostgreSQL is the backend this is about. On SQLite the same queries are
//! checked with EXPLAIN QUERY PLAN after ANALYZE: no "SCAN" of a big table
//! without an index.

mod common;

use accord::db::explain::{plan, Plan};
use accord::db::schema::*;
use accord::db::{Backend, Conn};
use accord::gen::{generate, Options};
use accord::store::events::{EventFilter, EventRow};
use accord::store::feeds::LeadTime;
use accord::store::obligations::{ListPosition, ObligationFilter, ObligationRow};
use chrono::NaiveDate;
use common::*;
use diesel::prelude::*;

/// 0.1 of the large dataset: 20,000 obligations, 10,000 events, 100,000
/// reports, 300 organisations; about 12 s to generate on PostgreSQL. Below
/// about 0.1 the tables are so small that reading one whole is the cheaper plan
/// for an organisation's items (0.05: a seq scan of obligations, 10,000 rows,
/// costed below 206 index probes), which says nothing about the large dataset.
const SCALE: f64 = 0.1;

/// The tables that grow with the deployment (the list): a whole read
/// of one of them costs what the database holds, not what the request asks for.
const BIG: &[&str] = &[
    "obligations",
    "events",
    "status_reports",
    "assignments",
    "notifications",
];

/// Link and occurrence tables: indexed, but at this scale still so small
/// (a few thousand rows) that reading one whole can be the cheaper plan for a
/// list of a few hundred ids. Their full reads are reported, not failed.
const WATCHED: &[&str] = &[
    "event_obligations",
    "event_organisations",
    "obligation_occurrences",
    "event_occurrences",
    "lead_times",
];

struct Checker {
    backend: Backend,
    failures: Vec<String>,
    checked: usize,
    /// Whether the server runs these queries under generic plans (its
    /// PostgreSQL connections' setting); the reminder planner's transactions
    /// plan with their values instead (`db::serialize_planning`).
    generic_plans: bool,
}

impl Checker {
    /// The plan of `query` reads no big table whole and uses an index.
    fn check<Q>(&mut self, conn: &mut Conn, name: &str, query: Q)
    where
        Q: diesel::query_builder::QueryFragment<accord::db::MultiBackend>,
    {
        let p: Plan = plan(conn, &query).unwrap_or_else(|e| panic!("EXPLAIN {name}: {e}"));
        self.checked += 1;
        if self.backend == Backend::Postgres && self.generic_plans {
            let generic = generic_plan_seq_scans(conn, &query)
                .unwrap_or_else(|e| panic!("{name} under a generic plan: {e}"));
            let whole: Vec<&String> = generic
                .iter()
                .filter(|t| BIG.contains(&t.as_str()))
                .collect();
            if !whole.is_empty() {
                self.failures.push(format!(
                    "{name} (Postgres, generic plan): sequential scans of {whole:?}"
                ));
                return;
            }
        }
        let steps: Vec<String> = p
            .steps
            .iter()
            .map(|s| {
                format!(
                    "{} on {} using {}",
                    s.node,
                    s.relation.as_deref().unwrap_or("-"),
                    s.index.as_deref().unwrap_or("-")
                )
            })
            .collect();
        let scans: Vec<&str> = BIG
            .iter()
            .filter(|t| !p.full_scans_of(t).is_empty())
            .copied()
            .collect();
        let touches_big = p
            .steps
            .iter()
            .any(|s| s.relation.as_deref().is_some_and(|r| BIG.contains(&r)));
        if !scans.is_empty() || (touches_big && !p.uses_an_index()) {
            self.failures.push(format!(
                "{name} ({:?}): reads whole {scans:?}; steps {steps:#?}",
                self.backend
            ));
        }
        let watched: Vec<&str> = WATCHED
            .iter()
            .filter(|t| !p.full_scans_of(t).is_empty())
            .copied()
            .collect();
        if !watched.is_empty() {
            eprintln!("note: {name} ({:?}) reads whole {watched:?}", self.backend);
        }
    }
}

/// `SELECT count(*) FROM (<query>) AS q`: runs any query, whatever its rows.
struct CountOf<Q>(Q);

impl<Q> diesel::query_builder::QueryId for CountOf<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> diesel::query_builder::Query for CountOf<Q> {
    type SqlType = diesel::sql_types::BigInt;
}

impl<Q> diesel::query_builder::QueryFragment<accord::db::MultiBackend> for CountOf<Q>
where
    Q: diesel::query_builder::QueryFragment<accord::db::MultiBackend>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, accord::db::MultiBackend>,
    ) -> QueryResult<()> {
        out.push_sql("SELECT count(*) FROM (");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(") AS counted");
        Ok(())
    }
}

impl<Q> RunQueryDsl<Conn> for CountOf<Q> {}

/// The tables PostgreSQL read whole while running `query` once under a
/// generic plan (the server's setting, made explicit here): the growth of
/// the backend's unflushed scan counters (`pg_stat_xact_user_tables`, which
/// may still hold earlier transactions' scans) across the query, inside one
/// transaction (a backend flushes them only between transactions).
fn generic_plan_seq_scans<Q>(conn: &mut Conn, query: &Q) -> QueryResult<Vec<String>>
where
    Q: diesel::query_builder::QueryFragment<accord::db::MultiBackend>,
{
    #[derive(QueryableByName)]
    struct Scans {
        #[diesel(sql_type = diesel::sql_types::Text)]
        relname: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq_scan: i64,
    }
    fn scans(c: &mut Conn) -> QueryResult<std::collections::HashMap<String, i64>> {
        let rows: Vec<Scans> = diesel::sql_query(
            "SELECT relname::text AS relname, seq_scan FROM pg_stat_xact_user_tables",
        )
        .load(c)?;
        Ok(rows.into_iter().map(|r| (r.relname, r.seq_scan)).collect())
    }
    conn.transaction(|c| {
        diesel::sql_query("SET LOCAL plan_cache_mode = force_generic_plan").execute(c)?;
        let before = scans(c)?;
        CountOf(query).get_result::<i64>(c)?;
        let mut grew: Vec<String> = scans(c)?
            .into_iter()
            .filter(|(table, n)| *n > before.get(table).copied().unwrap_or(0))
            .map(|(table, _)| table)
            .collect();
        grew.sort();
        Ok(grew)
    })
}

fn one<T>(conn: &mut Conn, sql: &str) -> T
where
    T: diesel::deserialize::FromSqlRow<diesel::sql_types::Text, accord::db::MultiBackend> + 'static,
{
    diesel::dsl::sql::<diesel::sql_types::Text>(sql)
        .get_result(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn ids(conn: &mut Conn, sql: &str) -> Vec<String> {
    diesel::dsl::sql::<diesel::sql_types::Text>(sql)
        .load(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn list_feed_and_planner_queries_use_indexes_on_the_large_dataset_shape() {
    let db = TestDb::new();
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let conn: &mut Conn = &mut conn;
    generate(
        conn,
        &Options {
            seed: 7,
            scale: SCALE,
            progress: false,
        },
    )
    .unwrap();
    diesel::sql_query("ANALYZE").execute(conn).unwrap();

    // Typical arguments, chosen from the data: the largest programme, a party
    // and an organisation that hold items, a page boundary inside the list.
    let programme: String = one(
        conn,
        "SELECT programme_id FROM obligations WHERE programme_id IS NOT NULL \
         GROUP BY programme_id ORDER BY COUNT(*) DESC, programme_id LIMIT 1",
    );
    let party: String = one(
        conn,
        "SELECT party_id FROM assignments GROUP BY party_id \
         ORDER BY COUNT(*) DESC, party_id LIMIT 1",
    );
    // An organisation of middling size: the feed of one ministry or theatre.
    let organisation: String = one(
        conn,
        "SELECT organisation_id FROM (SELECT organisation_id, COUNT(*) AS n \
         FROM assignments GROUP BY organisation_id) AS c \
         ORDER BY n, organisation_id LIMIT 1 OFFSET (SELECT COUNT(DISTINCT organisation_id) / 2 FROM assignments)",
    );
    let today = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let horizon = NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
    let mut c = Checker {
        backend: db.backend,
        failures: Vec::new(),
        checked: 0,
        generic_plans: true,
    };

    // ---- the obligations list (GET /api/v1/obligations), a page of 50.
    use accord::store::obligations::search_query;
    let page = 51;
    c.check(
        conn,
        "list: first page",
        search_query(&ObligationFilter::default(), None, page),
    );
    let by_programme = ObligationFilter {
        programme_id: Some(programme.clone()),
        ..Default::default()
    };
    c.check(
        conn,
        "list: programme",
        search_query(&by_programme, None, page),
    );
    let after = ListPosition {
        programme_id: programme.clone(),
        position: 200,
        id: String::new(),
    };
    c.check(
        conn,
        "list: programme, a later page",
        search_query(&by_programme, Some(&after), page),
    );
    c.check(
        conn,
        "list: party and lifecycle",
        search_query(
            &ObligationFilter {
                party_id: Some(party.clone()),
                lifecycle: Some("in_progress".into()),
                ..Default::default()
            },
            None,
            page,
        ),
    );
    c.check(
        conn,
        "list: organisation",
        search_query(
            &ObligationFilter {
                organisation_id: Some(organisation.clone()),
                ..Default::default()
            },
            None,
            page,
        ),
    );
    c.check(
        conn,
        "list: due within a quarter",
        search_query(
            &ObligationFilter {
                due_from: Some(today),
                due_to: Some(horizon),
                ..Default::default()
            },
            None,
            page,
        ),
    );

    // ---- the events list (GET /api/v1/events): a window, a party.
    use accord::store::events::search_query as events_query;
    c.check(
        conn,
        "events: a window of three months",
        events_query(
            &EventFilter {
                from: Some(today),
                to: Some(horizon),
                ..Default::default()
            },
            None,
            page,
        ),
    );
    c.check(
        conn,
        "events: a party",
        events_query(
            &EventFilter {
                party_id: Some(party.clone()),
                ..Default::default()
            },
            None,
            page,
        ),
    );
    c.check(
        conn,
        "events: first page",
        events_query(&EventFilter::default(), None, page),
    );

    // ---- reports of one item (GET /api/v1/obligations/{id}/reports).
    let item: String = one(
        conn,
        "SELECT obligation_id FROM status_reports ORDER BY obligation_id LIMIT 1",
    );
    c.check(
        conn,
        "reports of an item",
        status_reports::table
            .filter(status_reports::obligation_id.eq_any(vec![item.clone()]))
            .order((
                status_reports::as_of.asc(),
                status_reports::reported_at.asc(),
            ))
            .select(status_reports::id),
    );

    // ---- the calendar feed of an organisation (store::feeds::content):
    // the same statements, with the ids that feed gathers.
    c.check(
        conn,
        "feed: items of the organisation",
        assignments::table
            .filter(assignments::organisation_id.eq(organisation.clone()))
            .select(assignments::obligation_id),
    );
    let items = ids(
        conn,
        &format!("SELECT obligation_id FROM assignments WHERE organisation_id = '{organisation}'"),
    );
    assert!(!items.is_empty(), "the organisation holds items");
    c.check(
        conn,
        "feed: events of the items",
        event_obligations::table
            .filter(event_obligations::obligation_id.eq_any(items.clone()))
            .select(event_obligations::event_id),
    );
    c.check(
        conn,
        "feed: events the organisation organises",
        event_organisations::table
            .filter(event_organisations::organisation_id.eq(organisation.clone()))
            .select(event_organisations::event_id),
    );
    c.check(
        conn,
        "feed: the items",
        obligations::table
            .filter(obligations::id.eq_any(items.clone()))
            .select(ObligationRow::as_select()),
    );
    c.check(
        conn,
        "feed: yearly occurrences of the items",
        obligation_occurrences::table
            .filter(obligation_occurrences::obligation_id.eq_any(items.clone()))
            .select((
                obligation_occurrences::obligation_id,
                obligation_occurrences::year,
            )),
    );
    c.check(
        conn,
        "feed: lead times of the items",
        lead_times::table
            .filter(lead_times::obligation_id.eq_any(items.clone()))
            .select(LeadTime::as_select()),
    );
    let events = ids(
        conn,
        &format!(
            "SELECT event_id FROM event_organisations WHERE organisation_id = '{organisation}' \
             UNION SELECT eo.event_id FROM event_obligations eo JOIN assignments a \
             ON a.obligation_id = eo.obligation_id WHERE a.organisation_id = '{organisation}'"
        ),
    );
    assert!(!events.is_empty(), "the organisation has events");
    c.check(
        conn,
        "feed: the events",
        events::table
            .filter(events::id.eq_any(events.clone()))
            .select(EventRow::as_select()),
    );
    c.check(
        conn,
        "feed: changed occurrences of the events",
        event_occurrences::table
            .filter(event_occurrences::event_id.eq_any(events.clone()))
            .select(event_occurrences::event_id),
    );
    c.check(
        conn,
        "feed: events a party hosts or visits",
        events::table
            .filter(
                events::host_party_id
                    .eq(party.clone())
                    .or(events::guest_party_id.eq(party.clone())),
            )
            .select(events::id),
    );
    // (The feed's last-deletion lookup reads audit_log by action, served
    // by audit_log_action_entity_at; the generator writes no audit log,
    // so its plan on an empty table would prove nothing.)

    // ---- the reminder planner's candidates (store::reminders), for a
    // planning window from "today" of the generated world. Planning
    // transactions plan with their values: EXPLAIN shows their plans.
    c.generic_plans = false;
    use accord::domain::status::Lifecycle;
    let open: Vec<&str> = Lifecycle::ALL
        .iter()
        .filter(|l| !l.is_closed() && **l != Lifecycle::Suspended)
        .map(|l| l.as_str())
        .collect();
    // store::reminders::open_obligations: open items due by the end of the
    // window (overdue ones too), and those starting within it.
    c.check(
        conn,
        "planner: open items due",
        obligations::table
            .filter(obligations::lifecycle.eq_any(open.clone()))
            .filter(obligations::latest.le(horizon))
            .filter(obligations::recurrence.is_null())
            .select(ObligationRow::as_select()),
    );
    c.check(
        conn,
        "planner: open items starting",
        obligations::table
            .filter(obligations::lifecycle.eq_any(open.clone()))
            .filter(obligations::earliest.between(today, horizon))
            .filter(obligations::latest.gt(horizon))
            .filter(obligations::recurrence.is_null())
            .select(ObligationRow::as_select()),
    );
    c.check(
        conn,
        "planner: open yearly occurrences",
        obligation_occurrences::table
            .inner_join(
                obligations::table.on(obligations::id.eq(obligation_occurrences::obligation_id)),
            )
            .filter(obligations::lifecycle.eq_any(open))
            .filter(
                obligation_occurrences::latest
                    .le(horizon)
                    .or(obligation_occurrences::earliest.between(today, horizon)),
            )
            .order((
                obligation_occurrences::obligation_id.asc(),
                obligation_occurrences::year.asc(),
            ))
            .select(obligation_occurrences::obligation_id),
    );
    c.check(
        conn,
        "planner: live events",
        events::table
            .filter(events::status.eq_any(["tentative", "confirmed", "postponed"]))
            .filter(events::schedule.ne("approximate"))
            .filter(events::earliest.le(horizon))
            .filter(events::latest.ge(today))
            .order(events::id.asc())
            .select(EventRow::as_select()),
    );

    // The check itself catches a whole read: a substring search over every
    // item, which no index serves.
    let mut control = Checker {
        backend: db.backend,
        failures: Vec::new(),
        checked: 0,
        generic_plans: true,
    };
    control.check(
        conn,
        "control: substring of every item",
        obligations::table
            .filter(obligations::search_text.like("%festival%"))
            .select(obligations::id),
    );
    assert_eq!(
        control.failures.len(),
        1,
        "the control reads obligations whole"
    );

    assert!(c.checked > 0);
    assert!(
        c.failures.is_empty(),
        "{} of {} queries read a big table whole or use no index:\n\n{}",
        c.failures.len(),
        c.checked,
        c.failures.join("\n\n")
    );
}
