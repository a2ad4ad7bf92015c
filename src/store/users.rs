//! Users, their scope, tokens and failed logins.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::{upsert_versioned, versioned_record, Outcome, WriteContext};
use crate::db::schema::{api_tokens, login_failures, organisations, user_bodies, users};
use crate::db::Conn;
use crate::domain::access::{Principal, Role};

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable, Serialize,
)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// Never leaves the store in an audit entry: see `audited`.
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub role: String,
    pub organisation_id: Option<String>,
    pub active: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
versioned_record!(UserRow, "user");

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = api_tokens)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    #[serde(skip_serializing)]
    pub token_hash: String,
    pub label: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn by_username(conn: &mut Conn, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// Creates or updates a user by username, with the bodies it serves.
pub fn upsert(
    conn: &mut Conn,
    ctx: &WriteContext,
    row: UserRow,
    body_ids: &[String],
) -> QueryResult<(UserRow, Outcome)> {
    let stored = by_username(conn, &row.username)?;
    let (row, outcome) = upsert_versioned!(conn, ctx, users::table, stored, row);
    super::replace_links!(
        conn,
        ctx,
        user_bodies,
        user_id,
        &row.id,
        body_id,
        body_ids,
        "user_body"
    )?;
    Ok((row, outcome))
}

pub fn add_token(conn: &mut Conn, ctx: &WriteContext, token: &TokenRow) -> QueryResult<()> {
    diesel::insert_into(api_tokens::table)
        .values(token)
        .execute(conn)?;
    super::audit::record(
        conn,
        ctx,
        "create",
        "api_token",
        &token.id,
        None::<&()>,
        Some(token),
    )
}

/// The principal behind a token, if the token is known, unrevoked, unexpired
/// and its user active. Also returns the token's id.
///
/// Every authenticated request asks this first, so it is one query: a row per
/// body the user serves (one row with no body for most users).
pub fn principal_by_token(
    conn: &mut Conn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(String, Principal)>> {
    let found: Vec<(String, UserRow, Option<String>, Option<String>)> = api_tokens::table
        .inner_join(
            users::table
                .left_join(organisations::table)
                .left_join(user_bodies::table),
        )
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(now))
        .filter(users::active.eq(true))
        .order(user_bodies::body_id.asc())
        .select((
            api_tokens::id,
            UserRow::as_select(),
            organisations::party_id.nullable(),
            user_bodies::body_id.nullable(),
        ))
        .load(conn)?;
    let mut rows = found.into_iter();
    let Some((token_id, user, party_id, first_body)) = rows.next() else {
        return Ok(None);
    };
    let Some(role) = Role::parse(&user.role) else {
        return Ok(None);
    };
    let bodies = first_body
        .into_iter()
        .chain(rows.filter_map(|(_, _, _, body)| body))
        .collect();
    Ok(Some((
        token_id,
        Principal {
            user_id: user.id,
            username: user.username,
            role,
            organisation_id: user.organisation_id,
            party_id,
            bodies,
        },
    )))
}

pub fn revoke_token(conn: &mut Conn, ctx: &WriteContext, token_id: &str) -> QueryResult<bool> {
    let n = diesel::update(
        api_tokens::table
            .find(token_id)
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(ctx.at)))
    .execute(conn)?;
    if n > 0 {
        super::audit::record(
            conn,
            ctx,
            "update",
            "api_token",
            token_id,
            None::<&()>,
            Some(&serde_json::json!({"revoked_at": ctx.at})),
        )?;
    }
    Ok(n > 0)
}

pub fn record_login_failure(conn: &mut Conn, username: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::id.eq(super::new_id()),
            login_failures::username.eq(username),
            login_failures::at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn login_failures_since(
    conn: &mut Conn,
    username: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::username.eq(username))
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)
}

pub fn clear_login_failures(conn: &mut Conn, username: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::username.eq(username)))
        .execute(conn)?;
    Ok(())
}
