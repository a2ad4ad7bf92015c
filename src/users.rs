//! Creating users: one use case shared by the CLI (the first admin) and later the API.

use crate::db::Conn;
use crate::domain::access::Role;
use crate::domain::credentials::hash_password;
use crate::store::{self, Outcome, WriteContext};

pub struct NewUser<'a> {
    pub username: &'a str,
    pub role: &'a str,
    pub display_name: Option<&'a str>,
    pub organisation: Option<&'a str>,
    pub bodies: &'a [String],
    pub password: &'a str,
}

pub fn add_user(conn: &mut Conn, ctx: &WriteContext, new: NewUser<'_>) -> anyhow::Result<Outcome> {
    let username = new.username.trim();
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_alphanumeric() || "._-@".contains(c))
    {
        anyhow::bail!("username: use 1 to 64 letters, digits and . _ - @");
    }
    let role = Role::parse(new.role)
        .ok_or_else(|| anyhow::anyhow!("role: `{}` is not {}", new.role, Role::expected()))?;
    let password_hash =
        hash_password(new.password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    crate::db::write_transaction(conn, |conn| {
        let organisation_id = match new.organisation {
            Some(key) => Some(
                store::organisations::by_key(conn, key)?
                    .ok_or_else(|| anyhow::anyhow!("organisation: `{key}` does not exist"))?
                    .id,
            ),
            None if role == Role::Editor => {
                anyhow::bail!("organisation: an editor needs one (--organisation KEY)")
            }
            None => None,
        };
        let mut body_ids = Vec::new();
        for key in new.bodies {
            body_ids.push(
                store::bodies::by_key(conn, key)?
                    .ok_or_else(|| anyhow::anyhow!("body: `{key}` does not exist"))?
                    .id,
            );
        }
        if role == Role::Secretariat && body_ids.is_empty() {
            anyhow::bail!("body: a secretariat serves at least one body (--body KEY)");
        }
        let row = store::users::UserRow {
            id: store::new_id(),
            username: username.to_string(),
            display_name: new.display_name.unwrap_or(username).to_string(),
            password_hash,
            role: role.as_str().to_string(),
            organisation_id,
            active: true,
            version: 1,
            created_at: ctx.at,
            updated_at: ctx.at,
        };
        let (_, outcome) = store::users::upsert(conn, ctx, row, &body_ids)?;
        Ok(outcome)
    })
}
