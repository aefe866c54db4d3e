//! Refresh tokens (RFC 9700 §4.14): 256 random bits, stored only as a SHA-256 hash, bound to
//! one user on one device, and rotated on every use. Each sign-in starts a *family*; every
//! rotation adds to it. Presenting a token that was already rotated means two parties hold
//! the family — the whole family is revoked at once and the event is logged.
//!
//! A family ends after [`IDLE_LIFETIME_SECS`] without use or [`ABSOLUTE_LIFETIME_SECS`] after
//! the sign-in, whichever comes first; then the person signs in again.

use crate::store::Connection;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::Rng;
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};
use tillpoint_protocol::{DeviceId, OrgId, UserId};

use super::token_cutoffs::{cut, Subject};
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
/// A new sign-in's first token and the family it starts.
pub struct NewFamily {
    pub token: String,
    pub family: String,
}

/// Starts a new family for a sign-in and returns its first token.
pub fn start_family(
    conn: &Connection,
    org: OrgId,
    user: UserId,
    device: DeviceId,
    now: DateTime<Utc>,
) -> rusqlite::Result<NewFamily> {
    let family = new_id().to_string();
    let family_expires = now + chrono::Duration::seconds(ABSOLUTE_LIFETIME_SECS);
    let (token, _) = insert(conn, &family, org, user, device, now, family_expires)?;
    Ok(NewFamily { token, family })
}

/// Inserts a token of `family`; returns the token and its row id.
fn insert(
    conn: &Connection,
    family: &str,
    org: OrgId,
    user: UserId,
    device: DeviceId,
    now: DateTime<Utc>,
    family_expires: DateTime<Utc>,
) -> rusqlite::Result<(String, String)> {
    let token = new_token();
    let id = new_id().to_string();
    let idle = (now + chrono::Duration::seconds(IDLE_LIFETIME_SECS)).min(family_expires);
    conn.execute(
        "INSERT INTO refresh_tokens
           (id, family_id, org_id, user_id, device_id, token_hash, created_at, idle_expires_at, family_expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        (
            &id,
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
    Ok((token, id))
}

/// How long after a rotation the same device may present the previous token again, as long
/// as its successor has not been used: a till whose refresh answer was lost on a bad network
/// retries with the token it still holds, and must not be treated as a thief (RFC 9700
/// §4.14.2 allows this trade-off).
pub const RETRY_GRACE_SECS: i64 = 60;

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
    /// The token was already used (or came from another device): its whole family is now
    /// revoked, offline grants included.
    ReuseDetected {
        org: OrgId,
        user: UserId,
        family: String,
    },
    /// Expired or revoked; `owner` when the token is known, for the audit log.
    Refused {
        reason: &'static str,
        owner: Option<(OrgId, UserId)>,
    },
}

struct Row {
    id: String,
    family: String,
    org: OrgId,
    user: UserId,
    device: String,
    idle_expires: String,
    family_expires: String,
    rotated_at: Option<String>,
    replaced_by: Option<String>,
    revoked: bool,
}

fn find(conn: &Connection, token: &str) -> rusqlite::Result<Option<Row>> {
    conn.query_row(
        "SELECT id, family_id, org_id, user_id, device_id, idle_expires_at, family_expires_at,
                rotated_at, replaced_by, revoked_at IS NOT NULL
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
                rotated_at: r.get(7)?,
                replaced_by: r.get(8)?,
                revoked: r.get(9)?,
            })
        },
    )
    .optional()
}

/// Whether `token` is a refresh token this server issued (revoked or not). Read-only: lets
/// the caller refuse junk without taking the write lock or writing anything.
pub fn is_known(conn: &Connection, token: &str) -> rusqlite::Result<bool> {
    Ok(find(conn, token)?.is_some())
}

/// Whether the successor `id` is still unused and unrevoked.
fn successor_unused(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT rotated_at IS NULL AND revoked_at IS NULL FROM refresh_tokens WHERE id = ?1",
        [id],
        |r| r.get(0),
    )
    .optional()
    .map(|unused| unused.unwrap_or(false))
}

/// Rotates `token` presented by `device`. Call inside a `BEGIN IMMEDIATE` transaction, so
/// two concurrent uses of one token are serialised and the second is seen as reuse.
pub fn rotate(
    conn: &Connection,
    token: &str,
    device: DeviceId,
    now: DateTime<Utc>,
) -> rusqlite::Result<Rotation> {
    let Some(row) = find(conn, token)? else {
        return Ok(Rotation::Refused {
            reason: "unknown refresh token",
            owner: None,
        });
    };
    let owner = Some((row.org, row.user));
    if row.revoked {
        return Ok(Rotation::Refused {
            reason: "refresh token revoked",
            owner,
        });
    }
    let reuse = |conn: &Connection| -> rusqlite::Result<Rotation> {
        revoke_family(conn, &row.family, now)?;
        Ok(Rotation::ReuseDetected {
            org: row.org,
            user: row.user,
            family: row.family.clone(),
        })
    };
    if row.device != device.to_string() {
        // A token lifted from one till and presented by another: treat as theft.
        return reuse(conn);
    }
    if let Some(rotated_at) = &row.rotated_at {
        let grace_start = time_text(now - chrono::Duration::seconds(RETRY_GRACE_SECS));
        let retry = *rotated_at >= grace_start
            && match &row.replaced_by {
                Some(successor) => successor_unused(conn, successor)?,
                None => false,
            };
        if !retry {
            return reuse(conn);
        }
        // The answer to the first use was lost: retire the unused successor, issue anew.
        conn.execute(
            "UPDATE refresh_tokens SET revoked_at = ?1 WHERE id = ?2",
            (time_text(now), row.replaced_by.as_deref()),
        )?;
    }
    let now_text = time_text(now);
    if now_text >= row.idle_expires || now_text >= row.family_expires {
        return Ok(Rotation::Refused {
            reason: "refresh token expired",
            owner,
        });
    }
    let family_expires = DateTime::parse_from_rfc3339(&row.family_expires)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| rusqlite::Error::InvalidQuery)?;
    let (token, successor) = insert(
        conn,
        &row.family,
        row.org,
        row.user,
        device,
        now,
        family_expires,
    )?;
    conn.execute(
        "UPDATE refresh_tokens SET rotated_at = COALESCE(rotated_at, ?1), replaced_by = ?2 WHERE id = ?3",
        (&now_text, &successor, &row.id),
    )?;
    Ok(Rotation::Rotated {
        token,
        org: row.org,
        user: row.user,
        family: row.family,
    })
}

/// Revokes a whole family (reuse, sign-out) and the offline grants issued under it.
pub fn revoke_family(
    conn: &Connection,
    family: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    super::grants::revoke_family(conn, family, now)?;
    // The family's access tokens end with it: that person on that device only.
    let mut holders = conn.prepare_cached(
        "SELECT DISTINCT user_id, device_id FROM refresh_tokens WHERE family_id = ?1",
    )?;
    let holders = holders
        .query_map([family], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (user, device) in holders {
        if let (Ok(user), Ok(device)) = (user.parse(), device.parse()) {
            cut(conn, Subject::Session(user, device), now)?;
        }
    }
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
    let Some(row) = find(conn, token)? else {
        return Ok(None);
    };
    revoke_family(conn, &row.family, now)?;
    Ok(Some((row.org, row.user, row.family)))
}

/// Ends every sign-in of `user` (disabled, or password reset), offline grants included.
pub fn revoke_user(conn: &Connection, user: UserId, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    super::grants::revoke_user(conn, user, now)?;
    cut(conn, Subject::User(user), now)?;
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL",
        (time_text(now), user.to_string()),
    )
}

/// Ends every refresh on `device` (revoked). Its grants are revoked by the caller with
/// [`super::grants::revoke_device`], which reports their count.
pub fn revoke_device(
    conn: &Connection,
    org: OrgId,
    device: DeviceId,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    cut(conn, Subject::Device(org, device), now)?;
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = ?1 WHERE org_id = ?2 AND device_id = ?3 AND revoked_at IS NULL",
        (time_text(now), org.to_string(), device.to_string()),
    )
}
