//! Dashboard sessions. A sign-in through the dashboard's form issues an
//! ordinary API token (labelled [`SESSION_LABEL`], expiring after
//! [`SESSION_HOURS`]) that the browser keeps in an HttpOnly cookie; signing
//! out revokes it. No table of its own: tokens are already hashed, revocable,
//! audited and checked by `users::principal_by_token`.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::{users, WriteContext};
use crate::db::Conn;
use crate::domain::credentials::{decoy_hash, new_token, verify_password};

pub const SESSION_LABEL: &str = "dashboard session";
/// A working day: a dashboard left open on a shared laptop does not stay signed in for long.
pub const SESSION_HOURS: i64 = 12;

/// How many failed sign-ins a user name may have since when before it is refused
/// (the API's login limit, shared: failures through either count together).
pub struct Throttle {
    pub allowed: i64,
    pub since: NaiveDateTime,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SignIn {
    /// The secret to hand out (only its hash is stored).
    Opened {
        token: String,
        token_id: String,
        expires_at: NaiveDateTime,
    },
    Refused,
    Throttled,
}

/// Checks the password (against a decoy for unknown names: same cost, same
/// answer) and opens a dashboard session, or records the failure.
pub fn open(
    conn: &mut Conn,
    username: &str,
    password: &str,
    throttle: &Throttle,
    now: NaiveDateTime,
    request_id: Option<String>,
) -> QueryResult<SignIn> {
    sign_in(
        conn,
        username,
        password,
        Some(SESSION_LABEL.to_string()),
        Duration::hours(SESSION_HOURS),
        throttle,
        now,
        request_id,
    )
}

/// The one sign-in, for API tokens (`POST /api/v1/auth/token`) and dashboard
/// sessions alike: throttled per user name, checked against a decoy hash for
/// unknown names, a failure recorded, a success clearing the failures and
/// issuing a token labelled `label` that lives `lifetime` (audited).
#[allow(clippy::too_many_arguments)]
pub fn sign_in(
    conn: &mut Conn,
    username: &str,
    password: &str,
    label: Option<String>,
    lifetime: Duration,
    throttle: &Throttle,
    now: NaiveDateTime,
    request_id: Option<String>,
) -> QueryResult<SignIn> {
    if users::login_failures_since(conn, username, throttle.since)? >= throttle.allowed {
        return Ok(SignIn::Throttled);
    }
    let user = users::by_username(conn, username)?;
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.as_str())
        .unwrap_or(decoy_hash());
    let valid = verify_password(password, hash);
    let user = match user {
        Some(u) if valid && u.active => u,
        _ => {
            users::record_login_failure(conn, username, now)?;
            return Ok(SignIn::Refused);
        }
    };
    let (token, token_hash) = new_token();
    let row = users::TokenRow {
        id: super::new_id(),
        user_id: user.id.clone(),
        token_hash,
        label,
        created_at: now,
        expires_at: now + lifetime,
        revoked_at: None,
    };
    let ctx = WriteContext {
        actor: format!("user:{}", user.username),
        at: now,
        request_id,
    };
    crate::db::write_transaction(conn, |conn| {
        users::clear_login_failures(conn, &user.username)?;
        users::add_token(conn, &ctx, &row)
    })?;
    Ok(SignIn::Opened {
        token,
        token_id: row.id,
        expires_at: row.expires_at,
    })
}

/// Ends a session: its token is revoked (audited). False when it already was.
pub fn close(conn: &mut Conn, ctx: &WriteContext, token_id: &str) -> QueryResult<bool> {
    crate::db::write_transaction(conn, |conn| users::revoke_token(conn, ctx, token_id))
}
