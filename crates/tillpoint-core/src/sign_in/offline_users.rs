//! The people who signed in online on this till, and what lets each unlock it offline: their
//! latest grant (public, verified on every use) and an argon2id verifier of the password they
//! signed in with. Wrong offline passwords back off exponentially — 1 s, 2 s, 4 s … up to
//! [`MAX_BACKOFF_SECS`] — and every attempt is recorded.
//!
//! A verifier is an offline-crackable copy of a server password, so it is kept only while it
//! serves: for a person whose grant allows something offline, until that grant expires or is
//! revoked. Otherwise the row keeps the person's name and grant, with [`NO_VERIFIER`].

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension};
use tillpoint_protocol::auth::UserInfo;
use tillpoint_protocol::UserId;

pub const MAX_BACKOFF_SECS: i64 = 300;

/// The stored verifier of someone who may not unlock offline: matches no password.
pub const NO_VERIFIER: &str = "";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineUser {
    pub user_id: UserId,
    pub username: String,
    pub name: String,
    pub role: String,
    pub grant_token: String,
    pub grant_expires_at: i64,
    /// [`NO_VERIFIER`] when they may not unlock offline (see [`OfflineUser::may_unlock`]).
    pub password_verifier: String,
    pub failed_unlocks: u32,
    pub locked_until: Option<i64>,
}

impl OfflineUser {
    /// Whether a verifier is kept for them, i.e. their grant lets them work offline.
    pub fn may_unlock(&self) -> bool {
        self.password_verifier != NO_VERIFIER
    }
}

/// Remembers (or refreshes) a person after an online sign-in, clearing their failures. A
/// `password_verifier` of `None` (their grant allows nothing offline) drops any kept before.
pub fn remember(
    conn: &Connection,
    user: &UserInfo,
    username: &str,
    grant_token: &str,
    grant_expires_at: i64,
    password_verifier: Option<&str>,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO offline_users
           (user_id, username, name, role, grant_token, grant_expires_at, password_verifier, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (user_id) DO UPDATE SET
           username = ?2, name = ?3, role = ?4, grant_token = ?5, grant_expires_at = ?6,
           password_verifier = ?7, failed_unlocks = 0, locked_until = NULL, updated_at = ?8",
        (
            user.id.to_string(),
            username,
            &user.name,
            &user.role,
            grant_token,
            grant_expires_at,
            password_verifier.unwrap_or(NO_VERIFIER),
            Utc::now().to_rfc3339(),
        ),
    )?;
    Ok(())
}

/// A newer grant from a refresh (the password verifier stays).
pub fn update_grant(
    conn: &Connection,
    user: UserId,
    grant_token: &str,
    expires_at: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE offline_users SET grant_token = ?2, grant_expires_at = ?3, updated_at = ?4 WHERE user_id = ?1",
        (user.to_string(), grant_token, expires_at, Utc::now().to_rfc3339()),
    )?;
    Ok(())
}

pub fn find(conn: &Connection, username: &str) -> rusqlite::Result<Option<OfflineUser>> {
    conn.query_row(
        "SELECT user_id, username, name, role, grant_token, grant_expires_at, password_verifier,
                failed_unlocks, locked_until
           FROM offline_users WHERE username = ?1",
        [username.trim()],
        |r| {
            let id: String = r.get(0)?;
            Ok(OfflineUser {
                user_id: id.parse().map_err(|_| {
                    rusqlite::Error::FromSqlConversionFailure(
                        0,
                        rusqlite::types::Type::Text,
                        "bad user id".into(),
                    )
                })?,
                username: r.get(1)?,
                name: r.get(2)?,
                role: r.get(3)?,
                grant_token: r.get(4)?,
                grant_expires_at: r.get(5)?,
                password_verifier: r.get(6)?,
                failed_unlocks: r.get(7)?,
                locked_until: r.get(8)?,
            })
        },
    )
    .optional()
}

/// Counts a wrong password at `now`; returns when the next attempt may be made.
pub fn record_failure(conn: &Connection, user: UserId, now: i64) -> rusqlite::Result<i64> {
    let failures: u32 = conn.query_row(
        "UPDATE offline_users SET failed_unlocks = failed_unlocks + 1 WHERE user_id = ?1
         RETURNING failed_unlocks",
        [user.to_string()],
        |r| r.get(0),
    )?;
    let wait = (1_i64 << failures.saturating_sub(1).min(20)).min(MAX_BACKOFF_SECS);
    conn.execute(
        "UPDATE offline_users SET locked_until = ?2 WHERE user_id = ?1",
        (user.to_string(), now + wait),
    )?;
    Ok(now + wait)
}

pub fn record_success(conn: &Connection, user: UserId) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE offline_users SET failed_unlocks = 0, locked_until = NULL WHERE user_id = ?1",
        [user.to_string()],
    )?;
    Ok(())
}

/// Drops a person's verifier (their grant expired or was revoked): they sign in online next.
pub fn drop_verifier(conn: &Connection, user: UserId) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE offline_users SET password_verifier = ?2 WHERE user_id = ?1",
        (user.to_string(), NO_VERIFIER),
    )?;
    Ok(())
}

/// Forgets a person the server refused (revoked, disabled): they cannot unlock offline.
pub fn forget(conn: &Connection, user: UserId) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM offline_users WHERE user_id = ?1",
        [user.to_string()],
    )?;
    Ok(())
}

pub fn record_attempt(
    conn: &Connection,
    username: &str,
    at: i64,
    succeeded: bool,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO unlock_attempts (username, at, succeeded) VALUES (?1, ?2, ?3)",
        (username.trim(), at, succeeded),
    )?;
    Ok(())
}

/// What the latest pull says against working offline under a grant, if anything: the
/// server's word narrows a grant, never widens it. Nothing pulled yet about a person (a till
/// that has not pulled since they were added) leaves the grant alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// This till was revoked by an administrator.
    DeviceRevoked,
    /// The grant (by its jti) was revoked.
    GrantRevoked,
    /// The person is disabled.
    Disabled,
    /// The person's role no longer gives this permission.
    PermissionRemoved,
}

/// Checks `user`'s grant `jti` on `device` against what the last pull brought, and — when
/// given — that their role still gives `permission`.
pub fn standing(
    conn: &Connection,
    user: UserId,
    jti: &str,
    device: tillpoint_protocol::DeviceId,
    permission: Option<&tillpoint_protocol::Permission>,
) -> rusqlite::Result<Option<Standing>> {
    let device_revoked = conn
        .prepare_cached("SELECT 1 FROM revoked_devices WHERE device_id = ?1")?
        .exists([device.to_string()])?;
    if device_revoked {
        return Ok(Some(Standing::DeviceRevoked));
    }
    let grant_revoked = conn
        .prepare_cached("SELECT 1 FROM revoked_grants WHERE jti = ?1")?
        .exists([jti])?;
    if grant_revoked {
        return Ok(Some(Standing::GrantRevoked));
    }
    let pulled: Option<(String, bool)> = conn
        .prepare_cached("SELECT permissions, disabled FROM pulled_users WHERE user_id = ?1")?
        .query_row([user.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((permissions, disabled)) = pulled else {
        return Ok(None);
    };
    if disabled {
        return Ok(Some(Standing::Disabled));
    }
    if let Some(permission) = permission {
        // Unreadable stored permissions refuse rather than allow.
        let held: Vec<tillpoint_protocol::Permission> =
            serde_json::from_str(&permissions).unwrap_or_default();
        if !tillpoint_protocol::permission::any_covers(&held, permission) {
            return Ok(Some(Standing::PermissionRemoved));
        }
    }
    Ok(None)
}
