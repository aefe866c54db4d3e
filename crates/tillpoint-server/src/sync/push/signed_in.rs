//! Whether a person was signed in on a device at a time: what the creator of a record made
//! online (with no offline grant) must have been.
//!
//! A record without a grant claims it was made while its creator was signed in with the
//! server's say-so. The server's own proof of that is its sign-ins: each sign-in starts a
//! refresh-token family bound to one user on one device (`crate::identity::refresh`), which
//! lives from its first token until it is revoked (sign-out, reuse, the user disabled, the
//! device revoked) or expires (idle or absolute lifetime). Without this check a till could
//! name anyone of the organisation — the administrator — as the creator of what its cashier
//! did, and the record would be judged by their permissions.

use crate::store::Connection;
use chrono::{DateTime, Duration, Utc};
use tillpoint_protocol::{DeviceId, OrgId, UserId};

use crate::identity::time_text;

/// The sign-ins of one user on one device, as `(began, ended)` times (stored text, which
/// orders as time does): read once per batch, then asked about each record.
#[derive(Debug, Clone, Default)]
pub(super) struct SignIns(Vec<(String, String)>);

impl SignIns {
    /// Every sign-in of `user` on `device`.
    pub(super) fn of(
        conn: &Connection,
        org: OrgId,
        user: UserId,
        device: DeviceId,
    ) -> rusqlite::Result<Self> {
        // Per family: it began with its first token; it ended at the earliest of its
        // absolute expiry, the idle expiry of its newest token, and — once no token of it is
        // left unrotated and unrevoked — its revocation.
        conn.prepare_cached(
            "SELECT MIN(created_at), MIN(family_expires_at), MAX(idle_expires_at),
                    CASE WHEN SUM(CASE WHEN rotated_at IS NULL AND revoked_at IS NULL
                                       THEN 1 ELSE 0 END) = 0
                         THEN COALESCE(MAX(revoked_at), MIN(family_expires_at))
                         ELSE MIN(family_expires_at) END
               FROM refresh_tokens
              WHERE org_id = ?1 AND user_id = ?2 AND device_id = ?3
              GROUP BY family_id",
        )?
        .query_map(
            (org.to_string(), user.to_string(), device.to_string()),
            |r| {
                let ends: [String; 3] = [r.get(1)?, r.get(2)?, r.get(3)?];
                let ended = ends.into_iter().min().expect("three ends");
                Ok((r.get(0)?, ended))
            },
        )?
        .collect::<Result<_, _>>()
        .map(Self)
    }

    /// Whether one of them was live at some moment within `tolerance` of `at` (server
    /// time).
    pub(super) fn cover(&self, at: DateTime<Utc>, tolerance: Duration) -> bool {
        let (earliest, latest) = (time_text(at - tolerance), time_text(at + tolerance));
        self.0
            .iter()
            .any(|(began, ended)| *began <= latest && *ended >= earliest)
    }
}
