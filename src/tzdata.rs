//! When the zone rules compiled into the binary change (a new tzdata), the UTC
//! instants of future events, of their moved occurrences and of meetings
//! computed under the old rules may be wrong: Kazakhstan's move to UTC+5 on
//! 2024-03-01 shifted every later Astana event by an hour. At start, such
//! instants are recomputed from the stored wall time and zone, and each
//! change is logged and audited.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{events, meetings};
use crate::db::{write_transaction, Conn};
use crate::domain::zone::{parse_zone, resolve_local, tzdata_version};
use crate::store::{self, WriteContext};

/// One recomputed instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recomputed {
    pub entity: &'static str,
    pub id: String,
    pub before: NaiveDateTime,
    pub after: NaiveDateTime,
}

/// The instant of `local` in `zone` under the running rules, keeping the
/// offset chosen before when it is still one of the valid readings (an
/// ambiguous time the user pinned to its later instant stays pinned).
fn instant(local: NaiveDateTime, zone: &str, previous: NaiveDateTime) -> Option<NaiveDateTime> {
    let tz = parse_zone(zone).ok()?;
    let previous_offset =
        chrono::FixedOffset::east_opt(i32::try_from((local - previous).num_seconds()).ok()?);
    let pinned = previous_offset.and_then(|o| resolve_local(local, tz, Some(o)).ok());
    let resolved: DateTime<Utc> = match pinned {
        Some(t) => t,
        None => resolve_local(local, tz, None).ok()?,
    };
    Some(resolved.naive_utc())
}

/// Recomputes the instants of events, moved occurrences and meetings after `now` whose
/// tzdata_version is not the running one. Returns what changed.
pub fn recompute_future_instants(
    conn: &mut Conn,
    now: NaiveDateTime,
) -> QueryResult<Vec<Recomputed>> {
    let running = tzdata_version();
    let ctx = WriteContext {
        actor: format!("system:tzdata {running}"),
        at: now,
        request_id: None,
    };
    write_transaction(conn, |conn| {
        let mut changed = Vec::new();
        let stale_events: Vec<store::events::EventRow> = events::table
            .filter(events::schedule.eq("timed"))
            .filter(events::starts_at.gt(now))
            .filter(events::tzdata_version.ne(running))
            .select(store::events::EventRow::as_select())
            .load(conn)?;
        for old in stale_events {
            let (Some(local), Some(zone), Some(starts_at)) =
                (old.start_local, old.time_zone.clone(), old.starts_at)
            else {
                continue;
            };
            let Some(new_start) = instant(local, &zone, starts_at) else {
                continue;
            };
            let new_end = match (old.end_local, old.ends_at) {
                (Some(end_local), Some(ends_at)) => instant(end_local, &zone, ends_at),
                _ => None,
            };
            let mut new = old.clone();
            new.starts_at = Some(new_start);
            new.ends_at = new_end.or(old.ends_at);
            new.tzdata_version = Some(running.to_string());
            new.version += 1;
            new.updated_at = now;
            if new.starts_at != old.starts_at || new.ends_at != old.ends_at {
                // Calendar clients must see the move (RFC 5545 SEQUENCE).
                new.sequence += 1;
                changed.push(Recomputed {
                    entity: "event",
                    id: old.id.clone(),
                    before: starts_at,
                    after: new_start,
                });
            }
            diesel::update(events::table.find(&old.id))
                .set(&new)
                .execute(conn)?;
            store::audit::record(
                conn,
                &ctx,
                "update",
                "event",
                &old.id,
                Some(&old),
                Some(&new),
            )?;
        }
        // Moved occurrences of recurring events carry instants of their own.
        for (old, zone) in store::occurrences::stale_instants(conn, now, running)? {
            let (Some(zone), Some(starts_at)) = (zone, old.starts_at) else {
                continue;
            };
            let Some(new_start) = instant(old.start_local, &zone, starts_at) else {
                continue;
            };
            let new_end = match (old.end_local, old.ends_at) {
                (Some(end_local), Some(ends_at)) => instant(end_local, &zone, ends_at),
                _ => None,
            };
            let mut new = old.clone();
            new.starts_at = Some(new_start);
            new.ends_at = new_end.or(old.ends_at);
            new.tzdata_version = Some(running.to_string());
            new.version += 1;
            new.updated_at = now;
            if new.starts_at != old.starts_at || new.ends_at != old.ends_at {
                new.sequence += 1;
                changed.push(Recomputed {
                    entity: "event_occurrence",
                    id: old.audit_id(),
                    before: starts_at,
                    after: new_start,
                });
            }
            store::occurrences::write(conn, &ctx, Some(&old), &new)?;
        }
        let stale_meetings: Vec<store::bodies::MeetingRow> = meetings::table
            .filter(meetings::starts_at.gt(now))
            .filter(meetings::tzdata_version.ne(running))
            .select(store::bodies::MeetingRow::as_select())
            .load(conn)?;
        for old in stale_meetings {
            let (Some(local), Some(starts_at)) = (old.start_local, old.starts_at) else {
                continue;
            };
            let Some(new_start) = instant(local, &old.time_zone, starts_at) else {
                continue;
            };
            let mut new = old.clone();
            new.starts_at = Some(new_start);
            new.tzdata_version = Some(running.to_string());
            new.version += 1;
            new.updated_at = now;
            if new.starts_at != old.starts_at {
                changed.push(Recomputed {
                    entity: "meeting",
                    id: old.id.clone(),
                    before: starts_at,
                    after: new_start,
                });
            }
            diesel::update(meetings::table.find(&old.id))
                .set(&new)
                .execute(conn)?;
            store::audit::record(
                conn,
                &ctx,
                "update",
                "meeting",
                &old.id,
                Some(&old),
                Some(&new),
            )?;
        }
        Ok(changed)
    })
}
