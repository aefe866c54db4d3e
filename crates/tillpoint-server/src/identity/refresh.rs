//! Refresh tokens (RFC 9700 §4.14): 256 random bits, stored only as a SHA-256 hash, bound to
//! one user on one device, and rotated on every use. Each sign-in starts a *family*; every
//! rotation adds to it. Presenting a token that was already rotated means two parties hold
//! the family — the whole family is revoked at once and the event is logged.
//!
//! A family ends after [`IDLE_LIFETIME_SECS`] without use or [`ABSOLUTE_LIFETIME_SECS`] after
//! the sign-in, whichever comes first; then the person signs in again.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::Rng;
use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use tillpoint_protocol::{DeviceId, OrgId, UserId};

use super::{new_id, time_text};

pub const IDLE_LIFETIME_SECS: i64 = 14 * 24 * 3600;
pub const ABSOLUTE_LIFETIME_SECS: i64 = 60 * 24 * 3600;

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Starts a new family for a sign-in and returns its first token.
pub fn start_family(
    conn: &Connection,
    org: OrgId,
    user: UserId,
    device: DeviceId,
    now: DateTime<Utc>,
) -> rusqlite::Result<String> {
    let family = new_id().to_string();
    let family_expires = now + chrono::Duration::seconds(ABSOLUTE_LIFETIME_SECS);
    insert(conn, &family, org, user, device, now, family_expires)
}

fn insert(
    conn: &Connection,
    family: &str,
    org: OrgId,
    user: UserId,
    device: DeviceId,
    now: DateTime<Utc>,
    family_expires: DateTime<Utc>,
) -> rusqlite::Result<String> {
    let token = new_token();
    let idle = (now + chrono::Duration::seconds(IDLE_LIFETIME_SECS)).min(family_expires);
    conn.execute(
        "INSERT INTO refresh_tokens
           (id, family_id, org_id, user_id, device_id, token_hash, created_at, idle_expires_at, family_expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        (
            new_id().to_string(),
            family,
            org.to_string(),
            user.to_string(),
            device.to_string(),
            hash(&token),
            time_text(now),
            time_text(idle),
            time_text(family_expires),
        ),
    )?;
    Ok(token)
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// A new token replaces the presented one.
    Rotated {
        token: String,
        org: OrgId,
        user: UserId,
        family: String,
    },
    /// The token was already used: its whole family is now revoked.
    ReuseDetected {
        org: OrgId,
        user: UserId,
        family: String,
    },
    /// Unknown, expired, revoked, or presented from another device.
    Refused { reason: &'static str },
}

struct Row {
    id: String,
    family: String,
    org: OrgId,
    user: UserId,
    device: String,
    idle_expires: String,
    family_expires: String,
    rotated: bool,
    revoked: bool,
}

/// Rotates `token` presented by `device`. Call inside a `BEGIN IMMEDIATE` transaction, so
/// two concurrent uses of one token are serialised and the second is seen as reuse.
pub fn rotate(
    conn: &Connection,
    token: &str,
    device: DeviceId,
    now: DateTime<Utc>,
) -> rusqlite::Result<Rotation> {
    let row = conn
        .query_row(
            "SELECT id, family_id, org_id, user_id, device_id, idle_expires_at, family_expires_at,
                    rotated_at IS NOT NULL, revoked_at IS NOT NULL
               FROM refresh_tokens WHERE token_hash = ?1",
            [hash(token)],
            |r| {
                let org: String = r.get(2)?;
                let user: String = r.get(3)?;
                Ok(Row {
                    id: r.get(0)?,
                    family: r.get(1)?,
                    org: org.parse().map_err(|_| rusqlite::Error::InvalidQuery)?,
                    user: user.parse().map_err(|_| rusqlite::Error::InvalidQuery)?,
                    device: r.get(4)?,
                    idle_expires: r.get(5)?,
                    family_expires: r.get(6)?,
                    rotated: r.get(7)?,
                    revoked: r.get(8)?,
                })
            },
        )
        .optional()?;
    let Some(row) = row else {
        return Ok(Rotation::Refused {
            reason: "unknown refresh token",
        });
    };
    if row.revoked {
        return Ok(Rotation::Refused {
            reason: "refresh token revoked",
        });
    }
    if row.rotated {
        revoke_family(conn, &row.family, now)?;
        return Ok(Rotation::ReuseDetected {
            org: row.org,
            user: row.user,
            family: row.family,
        });
    }
    if row.device != device.to_string() {
        // A token lifted from one till and presented by another: treat as theft.
        revoke_family(conn, &row.family, now)?;
        return Ok(Rotation::ReuseDetected {
            org: row.org,
            user: row.user,
            family: row.family,
        });
    }
    let now_text = time_text(now);
    if now_text >= row.idle_expires || now_text >= row.family_expires {
        return Ok(Rotation::Refused {
            reason: "refresh token expired",
        });
    }
    conn.execute(
        "UPDATE refresh_tokens SET rotated_at = ?1 WHERE id = ?2",
        (&now_text, &row.id),
    )?;
    let family_expires = DateTime::parse_from_rfc3339(&row.family_expires)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| rusqlite::Error::InvalidQuery)?;
    let token = insert(
        conn,
        &row.family,
        row.org,
        row.user,
        device,
        now,
        family_expires,
    )?;
    Ok(Rotation::Rotated {
        token,
        org: row.org,
        user: row.user,
        family: row.family,
    })
}

pub fn revoke_family(
    conn: &Connection,
    family: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = ?1 WHERE family_id = ?2 AND revoked_at IS NULL",
        (time_text(now), family),
    )
}

/// Revokes the family `token` belongs to (logout). Returns the family's owner if found.
pub fn revoke_family_of(
    conn: &Connection,
    token: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<(OrgId, UserId, String)>> {
    let found: Option<(String, String, String)> = conn
        .query_row(
            "SELECT family_id, org_id, user_id FROM refresh_tokens WHERE token_hash = ?1",
            [hash(token)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((family, org, user)) = found else {
        return Ok(None);
    };
    revoke_family(conn, &family, now)?;
    Ok(org
        .parse()
        .ok()
        .zip(user.parse().ok())
        .map(|(o, u)| (o, u, family)))
}

/// Ends every refresh of `user` (disabled, or password reset).
pub fn revoke_user(conn: &Connection, user: UserId, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL",
        (time_text(now), user.to_string()),
    )
}

/// Ends every refresh on `device` (revoked).
pub fn revoke_device(
    conn: &Connection,
    org: OrgId,
    device: DeviceId,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = ?1 WHERE org_id = ?2 AND device_id = ?3 AND revoked_at IS NULL",
        (time_text(now), org.to_string(), device.to_string()),
    )
}
