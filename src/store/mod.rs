//! Queries per aggregate. Every function takes `&mut Conn`, so a use case can
//! compose several inside one transaction (the write, its audit entries, and
//! later the re-planned reminders commit together).

pub mod agreements;
pub mod audit;
pub mod bodies;
pub mod events;
pub mod feeds;
pub mod lead_times;
pub mod notifications;
pub mod obligations;
pub mod occurrences;
pub mod organisations;
pub mod outbox;
pub mod parties;
pub mod policies;
pub mod programmes;
pub mod reminders;
pub mod reports;
pub mod rollups;
pub mod sessions;
pub mod snapshots;
pub mod users;

use chrono::NaiveDateTime;
use serde::Serialize;

/// Who writes, when, and under which request: stamped on rows and audit entries.
#[derive(Debug, Clone)]
pub struct WriteContext {
    pub actor: String,
    pub at: NaiveDateTime,
    pub request_id: Option<String>,
}

/// What a write did to a record matched on its natural key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// A stored row with an identity, a version and timestamps.
pub trait Record: Clone + PartialEq + Serialize {
    const ENTITY: &'static str;
    fn id(&self) -> &str;
    /// Take over the identity and bookkeeping of the stored row, so that two
    /// rows compare equal exactly when their content is the same.
    fn carry_identity(&mut self, stored: &Self);
    fn bump(&mut self, at: NaiveDateTime);
}

/// Decide between insert, update and nothing for `new` against the stored row.
pub fn plan<R: Record>(stored: Option<&R>, new: &mut R, at: NaiveDateTime) -> Outcome {
    match stored {
        None => Outcome::Created,
        Some(old) => {
            new.carry_identity(old);
            if new == old {
                Outcome::Unchanged
            } else {
                new.bump(at);
                Outcome::Updated
            }
        }
    }
}

/// Implements [`Record`] for a row struct with `id`, `version`, `created_at`, `updated_at`.
macro_rules! versioned_record {
    ($row:ty, $entity:literal) => {
        impl $crate::store::Record for $row {
            const ENTITY: &'static str = $entity;
            fn id(&self) -> &str {
                &self.id
            }
            fn carry_identity(&mut self, stored: &Self) {
                self.id = stored.id.clone();
                self.version = stored.version;
                self.created_at = stored.created_at;
                self.updated_at = stored.updated_at;
            }
            fn bump(&mut self, at: chrono::NaiveDateTime) {
                self.version += 1;
                self.updated_at = at;
            }
        }
    };
}
pub(crate) use versioned_record;

/// Inserts or updates a versioned row matched on its natural key, and records
/// the change in the audit log. Returns the row's id and what happened.
macro_rules! upsert_versioned {
    ($conn:expr, $ctx:expr, $table:path, $stored:expr, $new:expr) => {{
        use diesel::RunQueryDsl;
        let mut new = $new;
        let stored = $stored;
        let outcome = $crate::store::plan(stored.as_ref(), &mut new, $ctx.at);
        match outcome {
            $crate::store::Outcome::Created => {
                diesel::insert_into($table).values(&new).execute($conn)?;
                $crate::store::audit::record(
                    $conn,
                    $ctx,
                    "create",
                    $crate::store::entity_of(&new),
                    $crate::store::Record::id(&new),
                    None::<&()>,
                    Some(&new),
                )?;
            }
            $crate::store::Outcome::Updated => {
                diesel::update($table.find($crate::store::Record::id(&new).to_string()))
                    .set(&new)
                    .execute($conn)?;
                $crate::store::audit::record(
                    $conn,
                    $ctx,
                    "update",
                    $crate::store::entity_of(&new),
                    $crate::store::Record::id(&new),
                    stored.as_ref(),
                    Some(&new),
                )?;
            }
            $crate::store::Outcome::Unchanged => {}
        }
        (new, outcome)
    }};
}
pub(crate) use upsert_versioned;

pub fn entity_of<R: Record>(_: &R) -> &'static str {
    R::ENTITY
}

/// Ids per statement: SQLite limits the parameters of one.
pub const CHUNK: usize = 5_000;

/// Loads rows by a list of ids, `CHUNK` ids per query.
pub fn in_chunks<T>(
    ids: &[String],
    load: impl FnMut(&[String]) -> diesel::QueryResult<Vec<T>>,
) -> diesel::QueryResult<Vec<T>> {
    in_chunks_of(CHUNK, ids, load)
}

/// Loads rows by a list of ids, `size` ids per query (for a query whose plan
/// needs fewer than `CHUNK`).
pub fn in_chunks_of<T>(
    size: usize,
    ids: &[String],
    mut load: impl FnMut(&[String]) -> diesel::QueryResult<Vec<T>>,
) -> diesel::QueryResult<Vec<T>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(size) {
        found.extend(load(chunk)?);
    }
    Ok(found)
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Makes the set of links from one owner (an agreement's parties, say) equal
/// to `wanted`: removes the others, adds the missing, audits each change.
macro_rules! replace_links {
    ($conn:expr, $ctx:expr, $table:ident, $owner_col:ident, $owner:expr, $other_col:ident, $wanted:expr, $entity:literal) => {{
        use diesel::prelude::*;
        let owner: &str = $owner;
        let wanted: &[String] = $wanted;
        let existing: Vec<String> = $table::table
            .filter($table::$owner_col.eq(owner))
            .select($table::$other_col)
            .load($conn)?;
        for gone in existing.iter().filter(|e| !wanted.contains(e)) {
            diesel::delete(
                $table::table
                    .filter($table::$owner_col.eq(owner))
                    .filter($table::$other_col.eq(gone)),
            )
            .execute($conn)?;
            let link = serde_json::json!({ stringify!($owner_col): owner, stringify!($other_col): gone });
            $crate::store::audit::record($conn, $ctx, "delete", $entity, &format!("{owner}/{gone}"), Some(&link), None::<&()>)?;
        }
        let mut added = std::collections::BTreeSet::new();
        for new in wanted.iter().filter(|w| !existing.contains(w)) {
            if !added.insert(new.clone()) {
                continue;
            }
            diesel::insert_into($table::table)
                .values(($table::$owner_col.eq(owner), $table::$other_col.eq(new)))
                .execute($conn)?;
            let link = serde_json::json!({ stringify!($owner_col): owner, stringify!($other_col): new });
            $crate::store::audit::record($conn, $ctx, "create", $entity, &format!("{owner}/{new}"), None::<&()>, Some(&link))?;
        }
        Ok::<(), diesel::result::Error>(())
    }};
}
pub(crate) use replace_links;

/// The result of an update that names the version it was based on.
#[derive(Debug)]
pub enum Versioned<T> {
    Written(T),
    Unchanged(T),
    /// Someone else changed the row since that version.
    Stale,
}

/// Updates `new` over `stored` only if the row still has version `expected`
/// (checked again in the UPDATE itself, so of two concurrent writers exactly
/// one wins), and records the change in the audit log.
macro_rules! update_versioned {
    ($conn:expr, $ctx:expr, $table:path, $version_col:expr, $stored:expr, $new:expr, $expected:expr) => {{
        use diesel::prelude::*;
        let stored = $stored;
        let mut new = $new;
        let expected: i32 = $expected;
        if stored.version != expected {
            $crate::store::Versioned::Stale
        } else {
            match $crate::store::plan(Some(&stored), &mut new, $ctx.at) {
                $crate::store::Outcome::Unchanged => $crate::store::Versioned::Unchanged(stored),
                _ => {
                    let id = $crate::store::Record::id(&new).to_string();
                    let n =
                        diesel::update($table.find(id.clone()).filter($version_col.eq(expected)))
                            .set(&new)
                            .execute($conn)?;
                    if n == 0 {
                        $crate::store::Versioned::Stale
                    } else {
                        $crate::store::audit::record(
                            $conn,
                            $ctx,
                            "update",
                            $crate::store::entity_of(&new),
                            &id,
                            Some(&stored),
                            Some(&new),
                        )?;
                        $crate::store::Versioned::Written(new)
                    }
                }
            }
        }
    }};
}
pub(crate) use update_versioned;

/// Deletes a versioned row only if it still has version `expected`, and records
/// the deletion (with the row as it was) in the audit log. Returns false when
/// the row changed meanwhile (the caller answers 412).
macro_rules! delete_versioned {
    ($conn:expr, $ctx:expr, $table:path, $version_col:expr, $stored:expr, $expected:expr) => {{
        use diesel::prelude::*;
        let stored = $stored;
        let expected: i32 = $expected;
        let id = $crate::store::Record::id(&stored).to_string();
        if stored.version != expected {
            false
        } else {
            let n = diesel::delete($table.find(id.clone()).filter($version_col.eq(expected)))
                .execute($conn)?;
            if n > 0 {
                $crate::store::audit::record(
                    $conn,
                    $ctx,
                    "delete",
                    $crate::store::entity_of(&stored),
                    &id,
                    Some(&stored),
                    None::<&()>,
                )?;
            }
            n > 0
        }
    }};
}
pub(crate) use delete_versioned;

/// Inserts a new versioned row and records its creation in the audit log.
macro_rules! insert_audited {
    ($conn:expr, $ctx:expr, $table:path, $row:expr) => {{
        use diesel::prelude::*;
        let row = $row;
        diesel::insert_into($table).values(&row).execute($conn)?;
        $crate::store::audit::record(
            $conn,
            $ctx,
            "create",
            $crate::store::entity_of(&row),
            $crate::store::Record::id(&row),
            None::<&()>,
            Some(&row),
        )?;
        row
    }};
}
pub(crate) use insert_audited;
