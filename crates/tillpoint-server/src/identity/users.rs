//! Users of an organisation. A user's role must belong to the same organisation: the
//! schema's composite foreign key refuses anything else.

use rusqlite::{OptionalExtension, Transaction};
use tillpoint_protocol::{OrgId, RoleId, UserId};

use super::password::hash_password;
use super::{new_id, now_text};

pub struct NewUser<'a> {
    pub org_id: OrgId,
    pub username: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub role_id: RoleId,
    pub password: &'a str,
}

/// Creates a user, hashing the password (argon2id). Call it off the async runtime.
pub fn create_user(tx: &Transaction<'_>, user: &NewUser<'_>) -> rusqlite::Result<UserId> {
    let id = UserId::from_uuid(new_id());
    tx.execute(
        "INSERT INTO users (id, org_id, username, name, email, role_id, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        (
            id.to_string(),
            user.org_id.to_string(),
            user.username,
            user.name,
            user.email,
            user.role_id.to_string(),
            hash_password(user.password),
            now_text(),
        ),
    )?;
    Ok(id)
}

/// Sets a new password for `username`, returning whether such a user exists.
pub fn set_password(
    tx: &Transaction<'_>,
    username: &str,
    password: &str,
) -> rusqlite::Result<bool> {
    let changed = tx.execute(
        "UPDATE users SET password_hash = ?1 WHERE username = ?2",
        (hash_password(password), username),
    )?;
    Ok(changed == 1)
}

/// The organisation a username belongs to, if it exists.
pub fn organisation_of(tx: &Transaction<'_>, username: &str) -> rusqlite::Result<Option<OrgId>> {
    let org: Option<String> = tx
        .query_row(
            "SELECT org_id FROM users WHERE username = ?1",
            [username],
            |row| row.get(0),
        )
        .optional()?;
    Ok(org.and_then(|o| o.parse().ok()))
}
