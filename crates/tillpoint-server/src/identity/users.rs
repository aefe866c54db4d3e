//! Users of an organisation. A user's role must belong to the same organisation: the
//! schema's composite foreign key refuses anything else.
//!
//! Sign-in finds a user by username in any organisation (usernames are unique across the
//! server); everything an administrator does goes through the functions taking an
//! [`Administrator`] or a [`Tenant`], which see only their own organisation's users.

use crate::store::{Connection, Transaction};
use rusqlite::{OptionalExtension, TransactionBehavior};
use serde::Serialize;
use serde_json::json;
use tillpoint_protocol::{OrgId, RoleId, UserId};

use super::admin::{AdminError, Administrator};
use super::audit::AuditEvent;
use super::password::hash_password;
use super::{new_id, now_text, refresh, roles, time_text, token_cutoffs};
use crate::tenancy::Tenant;

/// The longest username; usernames are `[A-Za-z0-9._-]`, unique across the server whatever
/// their case.
pub const MAX_USERNAME_LEN: usize = 64;
pub const MIN_PASSWORD_LEN: usize = 8;
/// As sign-in accepts (longer is refused before hashing).
pub const MAX_PASSWORD_LEN: usize = super::sessions::MAX_PASSWORD_LEN;
pub const MAX_NAME_LEN: usize = 128;
/// RFC 5321's limit on a forward path.
pub const MAX_EMAIL_LEN: usize = 254;

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

/// Sets a new password for `username` of organisation `org`, returning whether such a user
/// exists there.
pub fn set_password(
    tx: &Transaction<'_>,
    org: OrgId,
    username: &str,
    password: &str,
) -> rusqlite::Result<bool> {
    let changed = tx.execute(
        "UPDATE users SET password_hash = ?1 WHERE username = ?2 AND org_id = ?3",
        (hash_password(password), username, org.to_string()),
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

fn read_user(
    conn: &crate::store::Connection,
    row: &crate::store::Row<'_, '_>,
) -> rusqlite::Result<UserRecord> {
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
    conn: &crate::store::Connection,
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
    conn: &crate::store::Connection,
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
    conn: &crate::store::Connection,
    id: UserId,
    hash: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET password_hash = ?1 WHERE id = ?2",
        (hash, id.to_string()),
    )?;
    Ok(())
}

/// A user as an administrator sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub name: String,
    pub email: String,
    pub role_id: RoleId,
    /// The role's name.
    pub role: String,
    pub disabled: bool,
}

impl From<&UserRecord> for UserSummary {
    fn from(user: &UserRecord) -> Self {
        Self {
            id: user.id,
            username: user.username.clone(),
            name: user.name.clone(),
            email: user.email.clone(),
            role_id: user.role_id,
            role: user.role.clone(),
            disabled: user.disabled,
        }
    }
}

/// The details of a new user, each checked (see [`NewAccount::parse`]). Not `Debug`: it
/// holds a password.
#[derive(Clone)]
pub struct NewAccount {
    username: String,
    name: String,
    email: String,
    role_id: RoleId,
    password: String,
}

impl NewAccount {
    pub fn parse(
        username: &str,
        name: &str,
        email: &str,
        role_id: RoleId,
        password: &str,
    ) -> Result<Self, AdminError> {
        let invalid = |m: String| Err(AdminError::Invalid(m));
        if username.is_empty()
            || username.len() > MAX_USERNAME_LEN
            || !username
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return invalid(format!(
                "username must be 1 to {MAX_USERNAME_LEN} characters, each a letter, a digit, `.`, `_` or `-`"
            ));
        }
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_NAME_LEN
            || name.chars().any(char::is_control)
        {
            return invalid(format!(
                "name must be 1 to {MAX_NAME_LEN} characters, without control characters"
            ));
        }
        let email = email.trim();
        let plausible_email = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
        if !plausible_email
            || email.len() > MAX_EMAIL_LEN
            || email.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return invalid(format!(
                "email must be an address such as name@example.com, at most {MAX_EMAIL_LEN} characters"
            ));
        }
        check_password(password)?;
        Ok(Self {
            username: username.to_owned(),
            name: name.to_owned(),
            email: email.to_owned(),
            role_id,
            password: password.to_owned(),
        })
    }
}

/// Refuses a password a person may not choose.
pub fn check_password(password: &str) -> Result<(), AdminError> {
    if password.chars().count() < MIN_PASSWORD_LEN || password.len() > MAX_PASSWORD_LEN {
        return Err(AdminError::Invalid(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters (and at most {MAX_PASSWORD_LEN} bytes)"
        )));
    }
    Ok(())
}

/// The users of the tenant's organisation, by username.
pub fn list(conn: &Connection, tenant: &Tenant) -> rusqlite::Result<Vec<UserSummary>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN roles r ON r.id = u.role_id
          WHERE u.org_id = ?1 ORDER BY u.username"
    );
    let mut stmt = conn.prepare(&sql)?;

    stmt.query_map([tenant.org().to_string()], |row| read_user(conn, row))?
        .map(|user| user.map(|u| UserSummary::from(&u)))
        .collect()
}

/// The user `id` of the tenant's organisation.
pub fn get(conn: &Connection, tenant: &Tenant, id: UserId) -> Result<UserSummary, AdminError> {
    Ok(UserSummary::from(&managed_user(conn, tenant, id)?))
}

fn managed_user(conn: &Connection, tenant: &Tenant, id: UserId) -> Result<UserRecord, AdminError> {
    find_in_org(conn, tenant.org(), id)?.ok_or(AdminError::NotFound("user"))
}

/// A user the administrator may manage: of their organisation, holding nothing they lack.
fn manageable_user(
    conn: &Connection,
    admin: &Administrator,
    id: UserId,
) -> Result<UserRecord, AdminError> {
    let user = managed_user(conn, admin.tenant(), id)?;
    admin.may_grant(&user.permissions)?;
    Ok(user)
}

/// Creates a user in the administrator's organisation. 409 territory: the username is taken
/// (in any organisation, and the answer does not say which).
pub fn create(
    conn: &mut Connection,
    admin: &Administrator,
    account: &NewAccount,
) -> Result<UserSummary, AdminError> {
    // Before the write lock: hashing takes ~10 ms that no other writer should wait for.
    let password_hash = hash_password(&account.password);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let tenant = admin.tenant();
    let role = roles::find(&tx, tenant, account.role_id)?.ok_or_else(no_such_role)?;
    admin.may_grant(&role.permissions)?;
    // In any organisation: usernames are unique server-wide, as sign-in finds them by name.
    let taken: bool = tx.across_organisations(|tx| {
        tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM users WHERE username = ?1)",
            [&account.username],
            |r| r.get(0),
        )
    })?;
    if taken {
        return Err(AdminError::Conflict(format!(
            "the username {} is taken; choose another",
            account.username
        )));
    }
    let id = UserId::from_uuid(new_id());
    tx.execute(
        "INSERT INTO users (id, org_id, username, name, email, role_id, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        (
            id.to_string(),
            tenant.org().to_string(),
            &account.username,
            &account.name,
            &account.email,
            role.id.to_string(),
            password_hash,
            time_text(admin.now()),
        ),
    )?;
    admin.audit(
        &tx,
        AuditEvent::UserCreated,
        None,
        json!({"user": id, "username": account.username, "role": role.id}),
    )?;
    let created = managed_user(&tx, tenant, id)?;
    tx.commit()?;
    Ok(UserSummary::from(&created))
}

/// Nobody changes their own role or enabled state: an organisation could lose its last
/// administrator, and a demoted or disabled one could restore themselves.
fn refuse_own_account(
    admin: &Administrator,
    user: &UserRecord,
    change: &str,
) -> Result<(), AdminError> {
    if user.id == admin.tenant().actor() {
        return Err(AdminError::Invalid(format!(
            "you cannot {change}; ask another administrator"
        )));
    }
    Ok(())
}

fn no_such_role() -> AdminError {
    AdminError::Invalid("role_id names no role of this organisation".into())
}

/// Disables a user: they cannot sign in, and every refresh token they hold ends now.
/// Nobody disables themselves (an organisation could lose its last administrator).
pub fn disable(
    conn: &mut Connection,
    admin: &Administrator,
    id: UserId,
) -> Result<UserSummary, AdminError> {
    set_disabled(conn, admin, id, true)
}

/// Lets a disabled user sign in again.
pub fn enable(
    conn: &mut Connection,
    admin: &Administrator,
    id: UserId,
) -> Result<UserSummary, AdminError> {
    set_disabled(conn, admin, id, false)
}

fn set_disabled(
    conn: &mut Connection,
    admin: &Administrator,
    id: UserId,
    disabled: bool,
) -> Result<UserSummary, AdminError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut user = manageable_user(&tx, admin, id)?;
    let change = if disabled { "disable" } else { "enable" };
    refuse_own_account(admin, &user, &format!("{change} your own account"))?;
    // Asking for the state the user is already in changes nothing, and logs nothing.
    if user.disabled != disabled {
        tx.execute(
            "UPDATE users SET disabled = ?1 WHERE org_id = ?2 AND id = ?3",
            (disabled, admin.tenant().org().to_string(), id.to_string()),
        )?;
        note_disabled(&tx, id, disabled, admin.now())?;
        let (event, detail) = if disabled {
            let revoked = refresh::revoke_user(&tx, id, admin.now())?;
            (
                AuditEvent::UserDisabled,
                json!({"user": id, "refresh_tokens_revoked": revoked}),
            )
        } else {
            (AuditEvent::UserEnabled, json!({"user": id}))
        };
        admin.audit(&tx, event, None, detail)?;
        user.disabled = disabled;
    }
    tx.commit()?;
    Ok(UserSummary::from(&user))
}

/// Sets a user's password (checked with [`check_password`] first) and ends every refresh
/// token they hold, so whoever knew the old one is signed out.
pub fn reset_password(
    conn: &mut Connection,
    admin: &Administrator,
    id: UserId,
    password: &str,
) -> Result<(), AdminError> {
    check_password(password)?;
    let password_hash = hash_password(password);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    manageable_user(&tx, admin, id)?;
    tx.execute(
        "UPDATE users SET password_hash = ?1 WHERE org_id = ?2 AND id = ?3",
        (
            password_hash,
            admin.tenant().org().to_string(),
            id.to_string(),
        ),
    )?;
    let revoked = refresh::revoke_user(&tx, id, admin.now())?;
    admin.audit(
        &tx,
        AuditEvent::PasswordReset,
        None,
        json!({"user": id, "refresh_tokens_revoked": revoked}),
    )?;
    tx.commit()?;
    Ok(())
}

/// Gives a user another role of the same organisation. Their tokens show it from their next
/// refresh.
pub fn assign_role(
    conn: &mut Connection,
    admin: &Administrator,
    id: UserId,
    role_id: RoleId,
) -> Result<UserSummary, AdminError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let tenant = admin.tenant();
    let user = manageable_user(&tx, admin, id)?;
    let role = roles::find(&tx, tenant, role_id)?.ok_or_else(no_such_role)?;
    admin.may_grant(&role.permissions)?;
    refuse_own_account(admin, &user, "change your own role")?;
    if user.role_id != role.id {
        // Tokens carry the role's permissions: the old ones end, the next refresh has the new.
        token_cutoffs::cut(&tx, token_cutoffs::Subject::User(id), admin.now())?;
        tx.execute(
            "UPDATE users SET role_id = ?1 WHERE org_id = ?2 AND id = ?3",
            (
                role.id.to_string(),
                tenant.org().to_string(),
                id.to_string(),
            ),
        )?;
        admin.audit(
            &tx,
            AuditEvent::RoleAssigned,
            None,
            json!({"user": id, "from_role": user.role_id, "to_role": role.id}),
        )?;
    }
    let updated = managed_user(&tx, tenant, id)?;
    tx.commit()?;
    Ok(UserSummary::from(&updated))
}

/// Notes when `id` was disabled (`disabled`), or clears it (enabled): sync push quarantines
/// the records a user made after being disabled (`users.disabled_at`, migration 0010).
pub fn note_disabled(
    conn: &Connection,
    id: UserId,
    disabled: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> rusqlite::Result<()> {
    let at = disabled.then(|| super::time_text(now));
    conn.execute(
        "UPDATE users SET disabled_at = ?1 WHERE id = ?2",
        (at, id.to_string()),
    )?;
    Ok(())
}

/// When user `id` of `org` was disabled, if they are.
pub fn disabled_since(
    conn: &Connection,
    org: OrgId,
    id: UserId,
) -> rusqlite::Result<Option<chrono::DateTime<chrono::Utc>>> {
    let at: Option<Option<String>> = conn
        .prepare_cached("SELECT disabled_at FROM users WHERE org_id = ?1 AND id = ?2")?
        .query_row((org.to_string(), id.to_string()), |r| r.get(0))
        .optional()?;
    Ok(at
        .flatten()
        .and_then(|text| chrono::DateTime::parse_from_rfc3339(&text).ok())
        .map(|at| at.with_timezone(&chrono::Utc)))
}
