//! Persistence plumbing: one connection type over SQLite and PostgreSQL, the
//! pool, and the embedded migrations. Queries live in `store/`.

pub mod explain;
pub mod migrate;
pub mod schema;

use std::fmt;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};

/// One connection, either backend; diesel generates the common query backend.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

impl Conn {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Postgresql(_) => Backend::Postgres,
            Conn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// One turn at a time for this process's SQLite write transactions (see
/// `write_transaction`). A thread holds it only between BEGIN IMMEDIATE and
/// COMMIT or ROLLBACK, and never opens a second write transaction meanwhile.
static SQLITE_WRITERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs a use case that writes in one transaction. On SQLite the transaction
/// takes the write lock when it begins (BEGIN IMMEDIATE): a deferred one that
/// read a row and then tries to write after another writer committed fails at
/// once with SQLITE_BUSY_SNAPSHOT, whereas an immediate one waits its turn (busy
/// timeout) and then reads what the other wrote. PostgreSQL needs no such care.
pub fn write_transaction<T, E, F>(conn: &mut Conn, work: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    match conn {
        Conn::Postgresql(_) => conn.transaction(work),
        Conn::Sqlite(inner) => {
            // Writers of this process queue here, in turn, before asking SQLite
            // for its write lock: SQLite's busy handler polls with sleeps, so
            // under many concurrent writers an unlucky one can miss every
            // release for the whole busy timeout and fail with "database is
            // locked". Other processes still meet the busy timeout.
            let _turn = SQLITE_WRITERS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            match work(conn) {
                Ok(value) => {
                    <Conn as Connection>::TransactionManager::commit_transaction(conn)?;
                    Ok(value)
                }
                Err(e) => {
                    // The work's own error is the one to report.
                    let _ = <Conn as Connection>::TransactionManager::rollback_transaction(conn);
                    Err(e)
                }
            }
        }
    }
}

/// Refreshes the planner's table statistics where the backend leaves that to
/// the application. SQLite plans without statistics by rules of thumb, which
/// picked a scan of every item of one lifecycle over the 20 items of a
/// programme; `PRAGMA optimize` analyses only the tables that changed enough,
/// each from a bounded sample (SQLite's advice for long-lived connections).
/// PostgreSQL's autovacuum keeps its own statistics.
pub fn refresh_statistics(conn: &mut Conn) -> diesel::QueryResult<()> {
    match conn {
        Conn::Postgresql(_) => Ok(()),
        Conn::Sqlite(c) => {
            c.batch_execute("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")
        }
    }
}

/// Gathers statistics over every table, after a bulk load (`accord gen`).
pub fn analyze(conn: &mut Conn) -> diesel::QueryResult<()> {
    match conn {
        Conn::Postgresql(c) => c.batch_execute("ANALYZE"),
        Conn::Sqlite(c) => c.batch_execute("PRAGMA analysis_limit = 1000; ANALYZE;"),
    }
}

/// The advisory lock key that planning transactions take (any i64 not used
/// elsewhere; the migrations use their own).
const PLANNING_LOCK: i64 = 0x6163_636f_7264_0002;

/// Makes the transaction the only one planning reminders until it ends.
/// Planning (a worker's pass, a write's re-plan, an import's cancellation)
/// cancels, revives and regathers notification rows in no fixed order; two
/// of them at once on PostgreSQL could each hold a row the other wants
/// (a deadlock, one of them aborted). Taken first, the lock makes them queue
/// instead. SQLite needs nothing: BEGIN IMMEDIATE already admits one writer.
///
/// It also gives the transaction back PostgreSQL's own choice between custom
/// and generic plans (connections force generic ones, see
/// `ConnectionManager::establish`): the planner's date-window queries are
/// few per pass and their best plan depends on how many rows the window
/// holds, so planning each with its values pays (measured in BENCHMARKS.md).
pub fn serialize_planning(conn: &mut Conn) -> diesel::QueryResult<()> {
    match conn {
        Conn::Postgresql(c) => c.batch_execute(&format!(
            "SELECT pg_advisory_xact_lock({PLANNING_LOCK}); SET LOCAL plan_cache_mode = auto;"
        )),
        Conn::Sqlite(_) => Ok(()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// Where the database is. The scheme picks the backend: `postgres://` or
/// `postgresql://` is PostgreSQL; `sqlite://path`, `sqlite:path` or a bare
/// path is an SQLite file.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("is empty: give a postgres:// URL or an SQLite file path".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err("names no SQLite file".into());
        }
        if let Some((scheme, _)) = url.split_once("://") {
            if scheme != "sqlite" {
                return Err(format!(
                    "has the scheme `{scheme}`: accord speaks postgres:// and sqlite://"
                ));
            }
        }
        Ok(DatabaseUrl::Sqlite(path.to_string()))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    // Never print a PostgreSQL password into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Postgres(url) => write!(f, "{}", redact_password(url)),
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{path}"),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Opens connections of the backend the URL names and prepares each one.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    sqlite_busy_timeout: Duration,
}

/// libpq speaks TLS through OpenSSL, which by default frees its state in an
/// atexit handler while other threads may still hold connections: a crash at
/// exit ("munmap_chunk(): invalid pointer"). Initialising OpenSSL first,
/// without that handler, avoids it; call before the first PostgreSQL connection.
pub fn prepare_tls() {
    openssl_sys::init();
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl, sqlite_busy_timeout: Duration) -> Self {
        ConnectionManager {
            url,
            sqlite_busy_timeout,
        }
    }

    pub fn establish(&self) -> Result<Conn, diesel::ConnectionError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                prepare_tls();
                let mut conn = PgConnection::establish(url)?;
                // diesel prepares each statement once per connection, but by
                // default PostgreSQL still plans its first five executions
                // anew and then keeps re-planning whenever a custom plan looks
                // cheaper: with the API's short indexed lookups that planning
                // was most of the server's time (profile in BENCHMARKS.md).
                // Generic plans are planned once per connection. The reminder
                // planner opts back out per transaction (`serialize_planning`).
                conn.batch_execute("SET plan_cache_mode = force_generic_plan")
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(Conn::Postgresql(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)?;
                // WAL lets readers run beside the one writer; the busy timeout makes
                // writers queue instead of failing; SQLite leaves foreign keys off
                // unless asked, per connection.
                let pragmas = format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                    self.sqlite_busy_timeout.as_millis()
                );
                conn.batch_execute(&pragmas)
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(Conn::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = Conn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Conn, r2d2::Error> {
        self.establish().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), r2d2::Error> {
        diesel::sql_query("SELECT 1")
            .execute(conn)
            .map(|_| ())
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut Conn) -> bool {
        false
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

pub struct PoolSettings {
    pub max_size: u32,
    pub connect_timeout: Duration,
    pub sqlite_busy_timeout: Duration,
}

pub fn pool(url: &DatabaseUrl, settings: &PoolSettings) -> Result<Pool, r2d2::PoolError> {
    r2d2::Pool::builder()
        .max_size(settings.max_size)
        .connection_timeout(settings.connect_timeout)
        .test_on_check_out(false)
        .build(ConnectionManager::new(
            url.clone(),
            settings.sqlite_busy_timeout,
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_picks_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://accord.db").unwrap(),
            DatabaseUrl::Sqlite("accord.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:/var/lib/accord.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/accord.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("accord.db").unwrap(),
            DatabaseUrl::Sqlite("accord.db".into())
        );
        assert!(DatabaseUrl::parse("mysql://x/y")
            .unwrap_err()
            .contains("mysql"));
        assert!(DatabaseUrl::parse("  ").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn passwords_never_print() {
        let url = DatabaseUrl::parse("postgres://accord:s3cret@db:5432/accord").unwrap();
        assert_eq!(url.to_string(), "postgres://accord:***@db:5432/accord");
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    /// The bundled SQLite is built as .cargo/config.toml says: it keeps its
    /// plans across bound values (else every statement with `LIMIT ?` is
    /// re-prepared on each run) and takes no global mutex per allocation.
    #[test]
    fn bundled_sqlite_is_built_as_the_cargo_config_says() {
        #[derive(diesel::QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options")
            .load(&mut conn)
            .unwrap();
        let has = |name: &str| options.iter().any(|o| o.compile_options == name);
        let all: Vec<&String> = options.iter().map(|o| &o.compile_options).collect();
        assert!(has("ENABLE_QPSG"), "{all:?}");
        // No process-wide mutexes on every allocation and page fetch.
        assert!(has("DEFAULT_MEMSTATUS=0"), "{all:?}");
        assert!(!has("ENABLE_MEMORY_MANAGEMENT"), "{all:?}");
    }
}
