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

/// A user as sign-in needs them: identity, role, permissions, password hash.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub org_id: OrgId,
    pub username: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub role_id: RoleId,
    pub permissions: Vec<tillpoint_protocol::Permission>,
    pub password_hash: String,
    pub disabled: bool,
}

const USER_COLUMNS: &str =
    "u.id, u.org_id, u.username, u.name, u.email, r.name, r.id, u.password_hash, u.disabled";

fn read_user(conn: &rusqlite::Connection, row: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    let parse_err = |i: usize| {
        move |_| {
            rusqlite::Error::FromSqlConversionFailure(
                i,
                rusqlite::types::Type::Text,
                "bad id".into(),
            )
        }
    };
    let id: String = row.get(0)?;
    let org: String = row.get(1)?;
    let role_id: String = row.get(6)?;
    let role_id: RoleId = role_id.parse().map_err(parse_err(6))?;
    let mut stmt = conn.prepare_cached(
        "SELECT permission FROM role_permissions WHERE role_id = ?1 ORDER BY permission",
    )?;
    let permissions = stmt
        .query_map([role_id.to_string()], |r| r.get::<_, String>(0))?
        .filter_map(|p| {
            p.ok()
                .and_then(|p| tillpoint_protocol::Permission::parse(&p).ok())
        })
        .collect();
    Ok(UserRecord {
        id: id.parse().map_err(parse_err(0))?,
        org_id: org.parse().map_err(parse_err(1))?,
        username: row.get(2)?,
        name: row.get(3)?,
        email: row.get(4)?,
        role: row.get(5)?,
        role_id,
        permissions,
        password_hash: row.get(7)?,
        disabled: row.get(8)?,
    })
}

/// The user signing in as `username` (case-insensitive), in any organisation.
pub fn find_by_username(
    conn: &rusqlite::Connection,
    username: &str,
) -> rusqlite::Result<Option<UserRecord>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN roles r ON r.id = u.role_id WHERE u.username = ?1"
    );
    conn.query_row(&sql, [username], |row| read_user(conn, row))
        .optional()
}

/// The user `id` of organisation `org`.
pub fn find_in_org(
    conn: &rusqlite::Connection,
    org: OrgId,
    id: UserId,
) -> rusqlite::Result<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u JOIN roles r ON r.id = u.role_id WHERE u.org_id = ?1 AND u.id = ?2");
    conn.query_row(&sql, (org.to_string(), id.to_string()), |row| {
        read_user(conn, row)
    })
    .optional()
}

/// Replaces a hash made with weaker parameters (called after a successful login).
pub fn store_upgraded_hash(
    conn: &rusqlite::Connection,
    id: UserId,
    hash: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET password_hash = ?1 WHERE id = ?2",
        (hash, id.to_string()),
    )?;
    Ok(())
}
