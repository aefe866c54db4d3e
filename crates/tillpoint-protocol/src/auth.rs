//! Sign-in on the wire: the requests and answers of `/api/v1/auth/*`, and the claims inside
//! the two kinds of signed token the server issues.
//!
//! An access token and an offline grant may be signed by the same key; they are told apart
//! by their header `typ`, their audience and their claim sets, all of which a verifier must
//! pin (jsonwebtoken checks none of `typ`, and `aud` only when told to).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{CurrencyCode, DeviceId, OrgId, Permission, UserId};

/// `iss` of every token this server signs.
pub const ISSUER: &str = "tillpoint-server";
/// `aud` of access tokens: the API.
pub const ACCESS_AUDIENCE: &str = "tillpoint-api";
/// `aud` of offline grants: the till.
pub const GRANT_AUDIENCE: &str = "tillpoint-till";
/// Header `typ` of access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// Header `typ` of offline grants.
pub const OFFLINE_GRANT_TYP: &str = "offline-grant+jwt";
/// The most clock difference a verifier tolerates on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    pub device_id: DeviceId,
    /// Standard base64 of the device's Ed25519 public key. The server binds it to the device
    /// at the device's first sign-in and checks every later push's signature with it; a
    /// different key for a known device is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
    /// The till's clock (Unix seconds) when it sent this request: the clock its records'
    /// `created_at` come from. The server measures the device's clock offset from it, to
    /// judge offline records' times on its own clock. Absent from older tills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_time: Option<i64>,
    /// Standard base64 of the device key's Ed25519 signature over
    /// [`sign_in_proof_message`]: proof that the till holds the key it presents (a device id
    /// and its public key are no secret). Only a proven sign-in measures the device's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_proof: Option<String>,
}

/// Separates sign-in proofs from every other thing a device key signs (sync batches).
pub const SIGN_IN_PROOF_CONTEXT: &str = "tillpoint sign-in proof v1";

/// The bytes a till signs with its device key when it signs in: the context, the username
/// as the server looks it up (trimmed, lower case), the device id and the till's time, each
/// ended by a NUL (none of them can hold one), so no two sign-ins share a message.
pub fn sign_in_proof_message(
    username: &str,
    device_id: DeviceId,
    device_time: Option<i64>,
) -> Vec<u8> {
    let time = device_time.map_or_else(String::new, |t| t.to_string());
    format!(
        "{SIGN_IN_PROOF_CONTEXT}\0{}\0{device_id}\0{time}\0",
        username.trim().to_lowercase()
    )
    .into_bytes()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    pub refresh_token: String,
    pub device_id: DeviceId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogoutRequest {
    pub refresh_token: String,
}

/// The answer to a successful login or refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    pub refresh_token: String,
    /// A signed offline grant (JWT) for this user on this device.
    pub offline_grant: String,
    pub user: UserInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: String,
    pub permissions: Vec<Permission>,
    pub organisation_id: OrgId,
}

fn no_device() -> DeviceId {
    DeviceId::from_uuid(uuid::Uuid::nil())
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: UserId,
    pub name: String,
    pub email: String,
    pub role: String,
    pub perms: Vec<Permission>,
    pub org: OrgId,
    /// The device the token was issued to: signing out there, or revoking the device, ends
    /// it. (A token from before this claim reads as the nil id, a device no cutoff names;
    /// its user's cutoffs still end it, see `iat_ms`.)
    #[serde(default = "no_device")]
    pub dev: DeviceId,
    pub iat: i64,
    /// `iat` to the millisecond: the server refuses a token issued at or before a cutoff
    /// (user disabled, role changed, signed out…), and a new token issued in the same second
    /// as a cutoff must still pass. Missing, it reads as 0: before every cutoff.
    #[serde(default)]
    pub iat_ms: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

/// What a till may do offline, per currency, in minor units of that currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencyLimits {
    /// The largest total of one sale.
    pub max_sale: i64,
    /// The most this user may sell on this device while offline, all sales together.
    pub max_offline_total: i64,
    /// The largest discount on one sale.
    pub max_discount: i64,
}

/// Offline limits by currency. A currency without limits may not be sold in offline.
pub type GrantLimits = BTreeMap<CurrencyCode, CurrencyLimits>;

/// The claims of an offline grant (ARCHITECTURE.md §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineGrantClaims {
    pub iss: String,
    pub aud: String,
    pub sub: UserId,
    pub name: String,
    pub role: String,
    pub org: OrgId,
    pub device: DeviceId,
    pub perms: Vec<Permission>,
    pub limits: GrantLimits,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}
