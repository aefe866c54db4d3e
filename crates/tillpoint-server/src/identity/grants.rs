//! The offline grants issued, as sync will check them: each recorded with the refresh family
//! (sign-in) it was issued under, revoked whenever that sign-in, its user or its device is
//! revoked, and superseded by the next grant for the same user on the same device. A record
//! a till made offline is judged against the grant in force at the record's time.

use crate::store::Connection;
use chrono::{DateTime, Utc};
use tillpoint_protocol::auth::OfflineGrantClaims;
use tillpoint_protocol::{DeviceId, OrgId, UserId};

use super::time_text;

/// Records a new grant and supersedes the earlier ones for that user on that device.
pub fn record(
    conn: &Connection,
    claims: &OfflineGrantClaims,
    family: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let now_text = time_text(now);
    conn.execute(
        "UPDATE offline_grants SET superseded_at = ?1
          WHERE org_id = ?2 AND user_id = ?3 AND device_id = ?4 AND superseded_at IS NULL",
        (
            &now_text,
            claims.org.to_string(),
            claims.sub.to_string(),
            claims.device.to_string(),
        ),
    )?;
    conn.execute(
        "INSERT INTO offline_grants (jti, org_id, user_id, device_id, issued_at, expires_at, claims, family_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        (
            &claims.jti,
            claims.org.to_string(),
            claims.sub.to_string(),
            claims.device.to_string(),
            &now_text,
            time_text(DateTime::from_timestamp(claims.exp, 0).unwrap_or(now)),
            serde_json::to_string(claims).expect("serialisable"),
            family,
        ),
    )?;
    Ok(())
}

pub fn revoke_family(
    conn: &Connection,
    family: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE offline_grants SET revoked_at = ?1 WHERE family_id = ?2 AND revoked_at IS NULL",
        (time_text(now), family),
    )
}

pub fn revoke_user(conn: &Connection, user: UserId, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE offline_grants SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL",
        (time_text(now), user.to_string()),
    )
}

pub fn revoke_device(
    conn: &Connection,
    org: OrgId,
    device: DeviceId,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE offline_grants SET revoked_at = ?1 WHERE org_id = ?2 AND device_id = ?3 AND revoked_at IS NULL",
        (time_text(now), org.to_string(), device.to_string()),
    )
}
