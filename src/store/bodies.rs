//! Commissions, sub-commissions and working groups; their meetings and the
//! decisions those meetings adopt.

use diesel::prelude::*;
use serde::Serialize;

use super::obligations::ObligationRow;
use super::{
    delete_versioned, insert_audited, update_versioned, upsert_versioned, versioned_record,
    Outcome, Versioned, WriteContext,
};
use crate::db::schema::{bodies, body_parties, decision_effects, decisions, meetings};
use crate::db::Conn;

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = bodies, treat_none_as_null = true)]
pub struct BodyRow {
    pub id: String,
    pub key: String,
    pub kind: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub agreement_id: Option<String>,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(BodyRow, "body");

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = body_parties)]
pub struct BodyPartyRow {
    pub body_id: String,
    pub party_id: String,
    pub co_chair: Option<String>,
}

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = meetings, treat_none_as_null = true)]
pub struct MeetingRow {
    pub id: String,
    pub body_id: String,
    pub number: i32,
    pub title: String,
    pub held_on: chrono::NaiveDate,
    pub start_local: Option<chrono::NaiveDateTime>,
    pub time_zone: String,
    pub starts_at: Option<chrono::NaiveDateTime>,
    pub tzdata_version: Option<String>,
    pub city: Option<String>,
    pub status: String,
    pub source: Option<String>,
    pub note: Option<String>,
    pub version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}
versioned_record!(MeetingRow, "meeting");

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = decisions, treat_none_as_null = true)]
pub struct DecisionRow {
    pub id: String,
    pub meeting_id: String,
    pub number: String,
    pub kind: String,
    pub text: String,
    pub created_at: chrono::NaiveDateTime,
}

pub fn by_key(conn: &mut Conn, key: &str) -> QueryResult<Option<BodyRow>> {
    bodies::table
        .filter(bodies::key.eq(key))
        .select(BodyRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<BodyRow>> {
    bodies::table
        .find(id)
        .select(BodyRow::as_select())
        .first(conn)
        .optional()
}

pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: BodyRow,
    members: &[BodyPartyRow],
) -> QueryResult<(BodyRow, Outcome)> {
    let stored = by_key(conn, &row.key)?;
    let (row, outcome) = upsert_versioned!(conn, ctx, bodies::table, stored, row);
    replace_members(conn, ctx, &row.id, members)?;
    Ok((row, outcome))
}

/// Makes a body's parties (with their co-chairs) exactly `members`, auditing
/// each change; true when any changed.
pub fn replace_members(
    conn: &mut Conn,
    ctx: &WriteContext,
    body_id: &str,
    members: &[BodyPartyRow],
) -> QueryResult<bool> {
    let existing: Vec<BodyPartyRow> = body_parties::table
        .filter(body_parties::body_id.eq(body_id))
        .select(BodyPartyRow::as_select())
        .load(conn)?;
    let wanted: Vec<BodyPartyRow> = members
        .iter()
        .map(|m| BodyPartyRow {
            body_id: body_id.to_string(),
            ..m.clone()
        })
        .collect();
    let mut changed = false;
    for old in existing.iter().filter(|e| !wanted.contains(e)) {
        diesel::delete(
            body_parties::table
                .filter(body_parties::body_id.eq(&old.body_id))
                .filter(body_parties::party_id.eq(&old.party_id)),
        )
        .execute(conn)?;
        changed = true;
        super::audit::record(
            conn,
            ctx,
            "delete",
            "body_party",
            &format!("{}/{}", old.body_id, old.party_id),
            Some(old),
            None::<&()>,
        )?;
    }
    for new in wanted.iter().filter(|w| !existing.contains(w)) {
        diesel::insert_into(body_parties::table)
            .values(new)
            .execute(conn)?;
        changed = true;
        super::audit::record(
            conn,
            ctx,
            "create",
            "body_party",
            &format!("{}/{}", new.body_id, new.party_id),
            None::<&()>,
            Some(new),
        )?;
    }
    Ok(changed)
}

pub fn meeting_by_number(
    conn: &mut Conn,
    body_id: &str,
    number: i32,
) -> QueryResult<Option<MeetingRow>> {
    meetings::table
        .filter(meetings::body_id.eq(body_id))
        .filter(meetings::number.eq(number))
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()
}

pub fn upsert_meeting(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: MeetingRow,
) -> QueryResult<(MeetingRow, Outcome)> {
    let stored = meeting_by_number(conn, &row.body_id, row.number)?;
    Ok(upsert_versioned!(conn, ctx, meetings::table, stored, row))
}

/// Decisions are the record of what a meeting adopted: created once, and
/// corrected in place only when the text of the protocol is corrected.
pub fn upsert_decision(
    conn: &mut Conn,
    ctx: &WriteContext,
    mut row: DecisionRow,
) -> QueryResult<(DecisionRow, Outcome)> {
    let stored = decision_by_number(conn, &row.meeting_id, &row.number)?;
    match stored {
        None => {
            diesel::insert_into(decisions::table)
                .values(&row)
                .execute(conn)?;
            super::audit::record(
                conn,
                ctx,
                "create",
                "decision",
                &row.id,
                None::<&()>,
                Some(&row),
            )?;
            Ok((row, Outcome::Created))
        }
        Some(old) => {
            row.id = old.id.clone();
            row.created_at = old.created_at;
            if row == old {
                return Ok((row, Outcome::Unchanged));
            }
            diesel::update(decisions::table.find(&row.id))
                .set(&row)
                .execute(conn)?;
            super::audit::record(
                conn,
                ctx,
                "update",
                "decision",
                &row.id,
                Some(&old),
                Some(&row),
            )?;
            Ok((row, Outcome::Updated))
        }
    }
}

pub fn decision_by_number(
    conn: &mut Conn,
    meeting_id: &str,
    number: &str,
) -> QueryResult<Option<DecisionRow>> {
    decisions::table
        .filter(decisions::meeting_id.eq(meeting_id))
        .filter(decisions::number.eq(number))
        .select(DecisionRow::as_select())
        .first(conn)
        .optional()
}

pub fn meeting_by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<MeetingRow>> {
    meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()
}

pub fn meetings_of(conn: &mut Conn, body_id: &str) -> QueryResult<Vec<MeetingRow>> {
    meetings::table
        .filter(meetings::body_id.eq(body_id))
        .order(meetings::number.asc())
        .select(MeetingRow::as_select())
        .load(conn)
}

/// Filters of the body list; all optional.
#[derive(Debug, Default, Clone)]
pub struct BodyFilter {
    pub kind: Option<String>,
    pub party_id: Option<String>,
    pub parent_id: Option<String>,
    pub agreement_id: Option<String>,
}

fn filtered_bodies<'a>(filter: &BodyFilter) -> bodies::BoxedQuery<'a, crate::db::MultiBackend> {
    let mut query = bodies::table.into_boxed();
    if let Some(kind) = &filter.kind {
        query = query.filter(bodies::kind.eq(kind.clone()));
    }
    if let Some(party) = &filter.party_id {
        let members = body_parties::table
            .filter(body_parties::party_id.eq(party.clone()))
            .select(body_parties::body_id);
        query = query.filter(bodies::id.eq_any(members));
    }
    if let Some(parent) = &filter.parent_id {
        query = query.filter(bodies::parent_id.eq(parent.clone()));
    }
    if let Some(agreement) = &filter.agreement_id {
        query = query.filter(bodies::agreement_id.eq(agreement.clone()));
    }
    query
}

/// One page of bodies in key order after `after_key`, and how many match in all.
pub fn search(
    conn: &mut Conn,
    filter: &BodyFilter,
    after_key: Option<&str>,
    limit: i64,
) -> QueryResult<(Vec<BodyRow>, i64)> {
    let total = filtered_bodies(filter).count().get_result(conn)?;
    let mut query = filtered_bodies(filter)
        .select(BodyRow::as_select())
        .order(bodies::key.asc())
        .limit(limit);
    if let Some(after) = after_key {
        query = query.filter(bodies::key.gt(after.to_string()));
    }
    Ok((query.load(conn)?, total))
}

/// A body's member parties with their co-chairs: (body id, party code, co-chair), by code.
pub fn members_of(
    conn: &mut Conn,
    body_ids: &[String],
) -> QueryResult<Vec<(String, String, Option<String>)>> {
    use crate::db::schema::parties;
    body_parties::table
        .inner_join(parties::table)
        .filter(body_parties::body_id.eq_any(body_ids))
        .order((body_parties::body_id.asc(), parties::code.asc()))
        .select((body_parties::body_id, parties::code, body_parties::co_chair))
        .load(conn)
}

/// A new body with its member parties, each audited.
pub fn insert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: BodyRow,
    members: &[BodyPartyRow],
) -> QueryResult<BodyRow> {
    let row = insert_audited!(conn, ctx, bodies::table, row);
    replace_members(conn, ctx, &row.id, members)?;
    Ok(row)
}

/// Changes a body under the version the caller saw, with its members; a
/// change of members alone moves the version too.
pub fn update(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: BodyRow,
    row: BodyRow,
    expected: i32,
    members: &[BodyPartyRow],
) -> QueryResult<Versioned<BodyRow>> {
    let written = update_versioned!(
        conn,
        ctx,
        bodies::table,
        bodies::version,
        stored,
        row,
        expected
    );
    let row = match written {
        Versioned::Stale => return Ok(Versioned::Stale),
        Versioned::Written(row) | Versioned::Unchanged(row) => row,
    };
    let members_changed = replace_members(conn, ctx, &row.id, members)?;
    if row.version != expected {
        return Ok(Versioned::Written(row));
    }
    if !members_changed {
        return Ok(Versioned::Unchanged(row));
    }
    let n = diesel::update(
        bodies::table
            .find(&row.id)
            .filter(bodies::version.eq(expected)),
    )
    .set((
        bodies::version.eq(expected + 1),
        bodies::updated_at.eq(ctx.at),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(Versioned::Stale);
    }
    Ok(match by_id(conn, &row.id)? {
        Some(row) => Versioned::Written(row),
        None => Versioned::Stale,
    })
}

/// What still refers to a body: its meetings, programmes, child bodies and
/// the users whose secretariat serves it.
#[derive(Debug, Clone, Copy, Default)]
pub struct BodyReferences {
    pub meetings: i64,
    pub programmes: i64,
    pub children: i64,
    pub users: i64,
}

pub fn references(conn: &mut Conn, body_id: &str) -> QueryResult<BodyReferences> {
    use crate::db::schema::{programmes, user_bodies};
    Ok(BodyReferences {
        meetings: meetings::table
            .filter(meetings::body_id.eq(body_id))
            .count()
            .get_result(conn)?,
        programmes: programmes::table
            .filter(programmes::body_id.eq(body_id))
            .count()
            .get_result(conn)?,
        children: bodies::table
            .filter(bodies::parent_id.eq(body_id))
            .count()
            .get_result(conn)?,
        users: user_bodies::table
            .filter(user_bodies::body_id.eq(body_id))
            .count()
            .get_result(conn)?,
    })
}

/// Deletes a body of version `expected`, its member links first (audited).
/// False when it changed meanwhile.
pub fn delete(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: BodyRow,
    expected: i32,
) -> QueryResult<bool> {
    if stored.version != expected {
        return Ok(false);
    }
    replace_members(conn, ctx, &stored.id, &[])?;
    Ok(delete_versioned!(
        conn,
        ctx,
        bodies::table,
        bodies::version,
        stored,
        expected
    ))
}

/// Filters of a body's meeting list.
#[derive(Debug, Default, Clone)]
pub struct MeetingFilter {
    pub status: Option<String>,
    pub held_from: Option<chrono::NaiveDate>,
    pub held_to: Option<chrono::NaiveDate>,
}

fn filtered_meetings<'a>(
    body_id: &str,
    filter: &MeetingFilter,
) -> meetings::BoxedQuery<'a, crate::db::MultiBackend> {
    let mut query = meetings::table
        .filter(meetings::body_id.eq(body_id.to_string()))
        .into_boxed();
    if let Some(status) = &filter.status {
        query = query.filter(meetings::status.eq(status.clone()));
    }
    if let Some(from) = filter.held_from {
        query = query.filter(meetings::held_on.ge(from));
    }
    if let Some(to) = filter.held_to {
        query = query.filter(meetings::held_on.le(to));
    }
    query
}

/// One page of a body's meetings by number after `after_number`, and how many match.
pub fn meetings_page(
    conn: &mut Conn,
    body_id: &str,
    filter: &MeetingFilter,
    after_number: Option<i32>,
    limit: i64,
) -> QueryResult<(Vec<MeetingRow>, i64)> {
    let total = filtered_meetings(body_id, filter)
        .count()
        .get_result(conn)?;
    let mut query = filtered_meetings(body_id, filter)
        .select(MeetingRow::as_select())
        .order(meetings::number.asc())
        .limit(limit);
    if let Some(after) = after_number {
        query = query.filter(meetings::number.gt(after));
    }
    Ok((query.load(conn)?, total))
}

pub fn insert_meeting(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: MeetingRow,
) -> QueryResult<MeetingRow> {
    Ok(insert_audited!(conn, ctx, meetings::table, row))
}

pub fn update_meeting(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: MeetingRow,
    row: MeetingRow,
    expected: i32,
) -> QueryResult<Versioned<MeetingRow>> {
    Ok(update_versioned!(
        conn,
        ctx,
        meetings::table,
        meetings::version,
        stored,
        row,
        expected
    ))
}

/// How many decisions and protocol items a meeting has.
pub fn meeting_references(conn: &mut Conn, meeting_id: &str) -> QueryResult<(i64, i64)> {
    use crate::db::schema::obligations;
    let decisions = decisions::table
        .filter(decisions::meeting_id.eq(meeting_id))
        .count()
        .get_result(conn)?;
    let items = obligations::table
        .filter(obligations::meeting_id.eq(meeting_id))
        .count()
        .get_result(conn)?;
    Ok((decisions, items))
}

pub fn delete_meeting(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: MeetingRow,
    expected: i32,
) -> QueryResult<bool> {
    Ok(delete_versioned!(
        conn,
        ctx,
        meetings::table,
        meetings::version,
        stored,
        expected
    ))
}

pub fn decision_by_id(conn: &mut Conn, id: &str) -> QueryResult<Option<DecisionRow>> {
    decisions::table
        .find(id)
        .select(DecisionRow::as_select())
        .first(conn)
        .optional()
}

/// One page of a meeting's decisions by number after `after_number`, and how many it has.
pub fn decisions_page(
    conn: &mut Conn,
    meeting_id: &str,
    after_number: Option<&str>,
    limit: i64,
) -> QueryResult<(Vec<DecisionRow>, i64)> {
    let total = decisions::table
        .filter(decisions::meeting_id.eq(meeting_id))
        .count()
        .get_result(conn)?;
    let mut query = decisions::table
        .filter(decisions::meeting_id.eq(meeting_id.to_string()))
        .select(DecisionRow::as_select())
        .order(decisions::number.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after_number {
        query = query.filter(decisions::number.gt(after.to_string()));
    }
    Ok((query.load(conn)?, total))
}

/// A new decision, audited.
pub fn insert_decision(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: DecisionRow,
) -> QueryResult<DecisionRow> {
    diesel::insert_into(decisions::table)
        .values(&row)
        .execute(conn)?;
    super::audit::record(
        conn,
        ctx,
        "create",
        "decision",
        &row.id,
        None::<&()>,
        Some(&row),
    )?;
    Ok(row)
}

/// What a decision did to one obligation.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = decision_effects)]
pub struct DecisionEffectRow {
    pub decision_id: String,
    pub obligation_id: String,
    pub effect: String,
    pub before_lifecycle: String,
    pub after_lifecycle: String,
    pub before_timeframe: String,
    pub after_timeframe: String,
    pub superseded_by: Option<String>,
    pub applied_at: chrono::NaiveDateTime,
}

/// Applies a decision to one obligation: the item changes under its current
/// version (audited, version moves) and the effect is recorded (audited).
/// Stale when the item changed since it was read.
pub fn apply_effect(
    conn: &mut Conn,
    ctx: &WriteContext,
    stored: ObligationRow,
    changed: ObligationRow,
    effect: &DecisionEffectRow,
) -> QueryResult<Versioned<ObligationRow>> {
    use crate::db::schema::obligations;
    let expected = stored.version;
    let written = update_versioned!(
        conn,
        ctx,
        obligations::table,
        obligations::version,
        stored,
        changed,
        expected
    );
    if let Versioned::Written(_) = &written {
        diesel::insert_into(decision_effects::table)
            .values(effect)
            .execute(conn)?;
        super::audit::record(
            conn,
            ctx,
            "create",
            "decision_effect",
            &format!("{}/{}", effect.decision_id, effect.obligation_id),
            None::<&()>,
            Some(effect),
        )?;
    }
    Ok(written)
}

/// The effects of a decision, with each item's number, in item order.
pub fn effects_of_decision(
    conn: &mut Conn,
    decision_id: &str,
) -> QueryResult<Vec<(DecisionEffectRow, String)>> {
    use crate::db::schema::obligations;
    decision_effects::table
        .inner_join(obligations::table.on(obligations::id.eq(decision_effects::obligation_id)))
        .filter(decision_effects::decision_id.eq(decision_id))
        .order((obligations::position.asc(), obligations::id.asc()))
        .select((DecisionEffectRow::as_select(), obligations::number))
        .load(conn)
}

/// The decisions that changed an item, oldest first, with their meetings.
pub fn effects_on_obligation(
    conn: &mut Conn,
    obligation_id: &str,
) -> QueryResult<Vec<(DecisionEffectRow, DecisionRow, MeetingRow)>> {
    decision_effects::table
        .inner_join(decisions::table.inner_join(meetings::table))
        .filter(decision_effects::obligation_id.eq(obligation_id))
        .order((
            decision_effects::applied_at.asc(),
            decision_effects::decision_id.asc(),
        ))
        .select((
            DecisionEffectRow::as_select(),
            DecisionRow::as_select(),
            MeetingRow::as_select(),
        ))
        .load(conn)
}
