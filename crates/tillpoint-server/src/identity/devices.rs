//! Devices (tills, laptops) as the server knows them: seen at sign-in, revocable by an
//! administrator. A revoked device cannot sign in or refresh, and its grants are listed as
//! revoked for sync to refuse.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use tillpoint_protocol::{DeviceId, OrgId, UserId};

use super::time_text;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceStatus {
    Active,
    Revoked,
}

/// Records that `device` was used by `user` of `org` now, creating it on first sight.
/// Returns whether the device may be used.
pub fn touch(
    conn: &Connection,
    org: OrgId,
    device: DeviceId,
    user: UserId,
    now: DateTime<Utc>,
) -> rusqlite::Result<DeviceStatus> {
    let now = time_text(now);
    conn.execute(
        "INSERT INTO devices (org_id, id, first_seen, last_seen, last_user) VALUES (?1, ?2, ?3, ?3, ?4)
         ON CONFLICT (org_id, id) DO UPDATE SET last_seen = ?3, last_user = ?4 WHERE revoked_at IS NULL",
        (org.to_string(), device.to_string(), &now, user.to_string()),
    )?;
    status(conn, org, device).map(|s| s.unwrap_or(DeviceStatus::Revoked))
}

pub fn status(
    conn: &Connection,
    org: OrgId,
    device: DeviceId,
) -> rusqlite::Result<Option<DeviceStatus>> {
    let revoked: Option<Option<String>> = conn
        .query_row(
            "SELECT revoked_at FROM devices WHERE org_id = ?1 AND id = ?2",
            (org.to_string(), device.to_string()),
            |r| r.get(0),
        )
        .optional()?;
    Ok(revoked.map(|r| match r {
        None => DeviceStatus::Active,
        Some(_) => DeviceStatus::Revoked,
    }))
}
