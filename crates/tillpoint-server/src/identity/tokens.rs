//! Minting the two signed tokens of a sign-in: the access token the API accepts, and the
//! offline grant the till keeps (ARCHITECTURE.md §2–3). Both are built from the user's
//! CURRENT role and the organisation's CURRENT settings, so a change takes effect at the next
//! login or refresh.

use chrono::{DateTime, Utc};
use tillpoint_protocol::auth::{
    AccessClaims, OfflineGrantClaims, ACCESS_AUDIENCE, ACCESS_TOKEN_TYP, GRANT_AUDIENCE, ISSUER,
    OFFLINE_GRANT_TYP,
};
use tillpoint_protocol::permission::intersect_sets;
use tillpoint_protocol::DeviceId;

use super::keys::SigningKey;
use super::new_id;
use super::settings::{OrgSettings, MAX_ACCESS_TOKEN_TTL_SECS, MAX_OFFLINE_GRANT_TTL_SECS};
use super::users::UserRecord;

pub struct IssuedAccess {
    pub token: String,
    pub expires_in: u64,
}

pub fn issue_access_token(
    key: &SigningKey,
    user: &UserRecord,
    device: DeviceId,
    settings: &OrgSettings,
    now: DateTime<Utc>,
) -> IssuedAccess {
    let ttl = settings
        .access_token_ttl_secs
        .min(MAX_ACCESS_TOKEN_TTL_SECS);
    let iat = now.timestamp();
    let claims = AccessClaims {
        iss: ISSUER.into(),
        aud: ACCESS_AUDIENCE.into(),
        sub: user.id,
        name: user.name.clone(),
        email: user.email.clone(),
        role: user.role.clone(),
        perms: user.permissions.clone(),
        org: user.org_id,
        dev: device,
        iat,
        iat_ms: now.timestamp_millis(),
        nbf: iat,
        exp: iat + i64::from(ttl),
        jti: new_id().to_string(),
    };
    IssuedAccess {
        token: key.sign(ACCESS_TOKEN_TYP, &claims),
        expires_in: u64::from(ttl),
    }
}

/// An offline grant for `user` on `device`: their permissions narrowed to the organisation's
/// offline set, its limits, and a lifetime capped by the server.
pub fn issue_offline_grant(
    key: &SigningKey,
    user: &UserRecord,
    device: DeviceId,
    settings: &OrgSettings,
    now: DateTime<Utc>,
) -> (String, OfflineGrantClaims) {
    let ttl = settings
        .offline_grant_ttl_secs
        .min(MAX_OFFLINE_GRANT_TTL_SECS);
    let iat = now.timestamp();
    let claims = OfflineGrantClaims {
        iss: ISSUER.into(),
        aud: GRANT_AUDIENCE.into(),
        sub: user.id,
        name: user.name.clone(),
        role: user.role.clone(),
        org: user.org_id,
        device,
        perms: intersect_sets(&user.permissions, &settings.offline_permissions),
        limits: settings.offline_limits.clone(),
        iat,
        nbf: iat,
        exp: iat + i64::from(ttl),
        jti: new_id().to_string(),
    };
    (key.sign(OFFLINE_GRANT_TYP, &claims), claims)
}
