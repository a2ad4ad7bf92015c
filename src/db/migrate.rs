//! Embedded, per-backend migrations. Both folders carry the same version names.

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::sqlite::Sqlite;
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::Conn;

pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any fixed number: all accord instances on one database take the same lock.
const MIGRATION_LOCK: i64 = 0x6163_636f_7264; // "accord"

type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// diesel's transaction needs an error type that a database error converts into.
enum MigrationFailure {
    Migration(MigrationError),
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for MigrationFailure {
    fn from(e: diesel::result::Error) -> Self {
        MigrationFailure::Database(e)
    }
}

/// Applies pending migrations; returns the versions applied. On PostgreSQL the
/// run holds a session advisory lock, so instances starting together take
/// turns and the later ones find nothing left to do.
pub fn run_pending(conn: &mut Conn) -> Result<Vec<String>, MigrationError> {
    match conn {
        Conn::Sqlite(c) => {
            // BEGIN IMMEDIATE takes the write lock before the check for pending
            // migrations, so a second instance starting at the same moment waits
            // (busy timeout) and then finds nothing left to do. Each migration's
            // own transaction becomes a savepoint inside this one.
            let applied = c.immediate_transaction(|c| {
                c.run_pending_migrations(SQLITE)
                    .map(|applied| applied.iter().map(|v| v.to_string()).collect::<Vec<_>>())
                    .map_err(MigrationFailure::Migration)
            });
            applied.map_err(|e| match e {
                MigrationFailure::Migration(e) => e,
                MigrationFailure::Database(e) => Box::new(e),
            })
        }
        Conn::Postgresql(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(c)?;
            let result = c
                .run_pending_migrations(POSTGRES)
                .map(|applied| applied.iter().map(|v| v.to_string()).collect::<Vec<_>>());
            let unlock = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                .execute(c);
            let applied = result?;
            unlock?;
            Ok(applied)
        }
    }
}

/// Whether every embedded migration has been applied (the readiness check).
pub fn is_up_to_date(conn: &mut Conn) -> Result<bool, MigrationError> {
    match conn {
        Conn::Sqlite(c) => Ok(!MigrationHarness::<Sqlite>::has_pending_migration(
            c, SQLITE,
        )?),
        Conn::Postgresql(c) => Ok(!MigrationHarness::<Pg>::has_pending_migration(c, POSTGRES)?),
    }
}

/// The migration versions the binary carries, for both backends (they must agree).
pub fn embedded_versions() -> Result<(Vec<String>, Vec<String>), MigrationError> {
    let names = |m: &EmbeddedMigrations| -> Result<Vec<String>, MigrationError> {
        Ok(MigrationSource::<Sqlite>::migrations(m)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect())
    };
    Ok((names(&SQLITE)?, names(&POSTGRES)?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_backends_carry_the_same_migration_versions() {
        let (sqlite, postgres) = super::embedded_versions().unwrap();
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
    }
}
