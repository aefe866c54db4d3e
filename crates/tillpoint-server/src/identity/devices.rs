//! Devices (tills, laptops) as the server knows them: seen at sign-in, revocable by an
//! administrator. A revoked device cannot sign in or refresh, and its grants are listed as
//! revoked for sync to refuse.

use crate::store::Connection;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior};
use serde::Serialize;
use serde_json::json;
use tillpoint_protocol::{DeviceId, OrgId, UserId};

use super::admin::{AdminError, Administrator};
use super::audit::AuditEvent;
use super::{refresh, time_text};
use crate::tenancy::Tenant;

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
         ON CONFLICT (org_id, id) DO UPDATE SET last_seen = ?3, last_user = ?4 WHERE devices.revoked_at IS NULL",
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

/// The largest clock offset believed: a till more than a year off is broken or lying, and
/// its sign-in measures nothing (the offset stays what it was).
pub const MAX_CLOCK_OFFSET_SECS: i64 = 366 * 24 * 3600;

/// Records the device's clock offset (`now` − `device_time`, seconds) measured at a sign-in
/// that sent the till's time. Returns the offset stored, or `None` when the till sent no
/// time or an absurd one (nothing is stored then).
pub fn record_clock_offset(
    conn: &Connection,
    org: OrgId,
    device: DeviceId,
    device_time: Option<i64>,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    let Some(offset) = device_time
        .and_then(|t| now.timestamp().checked_sub(t))
        .filter(|offset| offset.abs() <= MAX_CLOCK_OFFSET_SECS)
    else {
        return Ok(None);
    };
    conn.execute(
        "UPDATE devices SET clock_offset_secs = ?1, clock_measured_at = ?2
          WHERE org_id = ?3 AND id = ?4",
        (offset, time_text(now), org.to_string(), device.to_string()),
    )?;
    Ok(Some(offset))
}

/// The device's clock offset measured at its last sign-in (server − device, seconds), if
/// one was ever measured.
pub fn clock_offset(
    conn: &Connection,
    org: OrgId,
    device: DeviceId,
) -> rusqlite::Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT clock_offset_secs FROM devices WHERE org_id = ?1 AND id = ?2",
            (org.to_string(), device.to_string()),
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten())
}

/// What binding a presented device key to a device found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyBinding {
    /// The device had no key; it has this one now.
    Bound,
    /// The device already holds this key.
    Same,
    /// No key was presented (an older till): nothing changes, and the device cannot push
    /// until a sign-in presents one.
    Absent,
    /// The device holds another key: a device id is never re-keyed.
    Mismatch,
}

/// Binds `key` to the device the first time the device is seen with a key; afterwards only
/// that key is accepted.
pub fn bind_key(
    conn: &Connection,
    org: OrgId,
    device: DeviceId,
    key: Option<&[u8; 32]>,
    now: DateTime<Utc>,
) -> rusqlite::Result<KeyBinding> {
    let Some(key) = key else {
        return Ok(KeyBinding::Absent);
    };
    match public_key(conn, org, device)? {
        Some(held) if &held == key => Ok(KeyBinding::Same),
        Some(_) => Ok(KeyBinding::Mismatch),
        None => {
            conn.execute(
                "UPDATE devices SET public_key = ?1, key_bound_at = ?2
                  WHERE org_id = ?3 AND id = ?4 AND public_key IS NULL",
                (
                    key.as_slice(),
                    time_text(now),
                    org.to_string(),
                    device.to_string(),
                ),
            )?;
            Ok(KeyBinding::Bound)
        }
    }
}

/// The public key bound to a device of `org`, if it has one.
pub fn public_key(
    conn: &Connection,
    org: OrgId,
    device: DeviceId,
) -> rusqlite::Result<Option<[u8; 32]>> {
    let key: Option<Option<Vec<u8>>> = conn
        .query_row(
            "SELECT public_key FROM devices WHERE org_id = ?1 AND id = ?2",
            (org.to_string(), device.to_string()),
            |r| r.get(0),
        )
        .optional()?;
    Ok(key.flatten().and_then(|k| k.try_into().ok()))
}

/// A device as an administrator sees it. Times are RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeviceSummary {
    pub id: DeviceId,
    pub first_seen: String,
    pub last_seen: String,
    /// Who signed in on it last.
    pub last_user: Option<UserId>,
    pub revoked: bool,
    pub revoked_at: Option<String>,
}

const DEVICE_COLUMNS: &str = "id, first_seen, last_seen, last_user, revoked_at";

fn read_device(row: &crate::store::Row<'_, '_>) -> rusqlite::Result<DeviceSummary> {
    let bad = |i: usize| {
        move |e: uuid::Error| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        }
    };
    let id: String = row.get(0)?;
    let last_user: Option<String> = row.get(3)?;
    let revoked_at: Option<String> = row.get(4)?;
    Ok(DeviceSummary {
        id: id.parse().map_err(bad(0))?,
        first_seen: row.get(1)?,
        last_seen: row.get(2)?,
        last_user: last_user.map(|u| u.parse()).transpose().map_err(bad(3))?,
        revoked: revoked_at.is_some(),
        revoked_at,
    })
}

/// The devices of the tenant's organisation, most recently seen first.
pub fn list(conn: &Connection, tenant: &Tenant) -> rusqlite::Result<Vec<DeviceSummary>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE org_id = ?1 ORDER BY last_seen DESC, id"
    ))?;

    stmt.query_map([tenant.org().to_string()], read_device)?
        .collect()
}

fn find(conn: &Connection, tenant: &Tenant, id: DeviceId) -> Result<DeviceSummary, AdminError> {
    conn.query_row(
        &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE org_id = ?1 AND id = ?2"),
        (tenant.org().to_string(), id.to_string()),
        read_device,
    )
    .optional()?
    .ok_or(AdminError::NotFound("device"))
}

/// Revokes a device: it can no longer sign in or refresh, every refresh token issued to it
/// ends now, and its offline grants are marked revoked for sync to refuse. Revoking a
/// revoked device changes nothing.
pub fn revoke(
    conn: &mut Connection,
    admin: &Administrator,
    id: DeviceId,
) -> Result<DeviceSummary, AdminError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let tenant = admin.tenant();
    let device = find(&tx, tenant, id)?;
    if device.revoked {
        return Ok(device);
    }
    let (org, now) = (tenant.org(), admin.now());
    tx.execute(
        "UPDATE devices SET revoked_at = ?1 WHERE org_id = ?2 AND id = ?3",
        (time_text(now), org.to_string(), id.to_string()),
    )?;
    let refresh_tokens = refresh::revoke_device(&tx, org, id, now)?;
    let grants = super::grants::revoke_device(&tx, org, id, now)?;
    admin.audit(
        &tx,
        AuditEvent::DeviceRevoked,
        Some(id),
        json!({"device": id, "refresh_tokens_revoked": refresh_tokens, "grants_revoked": grants}),
    )?;
    let revoked = find(&tx, tenant, id)?;
    tx.commit()?;
    Ok(revoked)
}
