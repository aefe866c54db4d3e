//! Checking an offline grant on the till, with nothing but the server keys cached at the last
//! online sign-in: the protocol's verifier (signature, `alg`, `typ`, `kid`, `iss`, `aud`,
//! times against the till's own clock) plus what only the till knows — that the grant names
//! THIS device and THIS till's organisation.

use chrono::Utc;
use rusqlite::Connection;
use tillpoint_protocol::auth::OfflineGrantClaims;
use tillpoint_protocol::token::{verify_offline_grant, Jwks, PublicKeys, TokenError};
use tillpoint_protocol::{DeviceId, OrgId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("the offline grant is not valid: {0}")]
    Token(#[from] TokenError),
    #[error("the offline grant belongs to another organisation")]
    OtherOrganisation,
    #[error("the offline grant was issued to another device")]
    OtherDevice,
}

/// Verifies `token` at the till's time `now` for the till (`org`, `device`).
pub fn verify(
    token: &str,
    keys: &PublicKeys,
    org: OrgId,
    device: DeviceId,
    now: i64,
) -> Result<OfflineGrantClaims, GrantError> {
    let claims = verify_offline_grant(token, keys, now)?;
    if claims.org != org {
        return Err(GrantError::OtherOrganisation);
    }
    if claims.device != device {
        return Err(GrantError::OtherDevice);
    }
    Ok(claims)
}

/// Replaces the cached server keys with `jwks` (only Ed25519 signing keys are accepted).
pub fn cache_keys(
    conn: &Connection,
    jwks: &Jwks,
) -> Result<(), tillpoint_protocol::token::JwksError> {
    // Validate the whole set before touching the cache.
    jwks.public_keys()?;
    let now = Utc::now().to_rfc3339();
    let write = || -> rusqlite::Result<()> {
        conn.execute("DELETE FROM server_keys", [])?;
        for jwk in &jwks.keys {
            let key = jwk_bytes(jwk).expect("validated above");
            conn.execute(
                "INSERT INTO server_keys (kid, public_key, fetched_at, seal)
                 VALUES (?1, ?2, ?3, till_seal('server_keys', ?1, ?2))",
                (&jwk.kid, key.as_slice(), &now),
            )?;
        }
        Ok(())
    };
    write().map_err(|e| tillpoint_protocol::token::JwksError(e.to_string()))
}

fn jwk_bytes(jwk: &tillpoint_protocol::token::Jwk) -> Option<[u8; 32]> {
    jwk_x_bytes(&jwk.x)
}

/// An Ed25519 public key from a JWK's `x` (base64url, 32 bytes), as keys arrive by pull.
pub(crate) fn jwk_x_bytes(x: &str) -> Option<[u8; 32]> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(x)
        .ok()?
        .try_into()
        .ok()
}

/// The server keys cached at the last online sign-in (or pull). A key whose seal does not
/// verify ([`crate::seal`]) — planted or edited in SQLite — is not one: a grant it signed is
/// refused as signed by an unknown key.
pub fn cached_keys(conn: &Connection) -> rusqlite::Result<PublicKeys> {
    let mut stmt = conn.prepare(
        "SELECT kid, public_key, seal = till_seal('server_keys', kid, public_key)
           FROM server_keys",
    )?;
    let mut keys = PublicKeys::default();
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, Option<bool>>(2)?,
        ))
    })?;
    for row in rows {
        let (kid, key, sealed) = row?;
        if sealed != Some(true) {
            tracing::warn!(
                kid,
                "a cached server key was changed outside Tillpoint; ignored"
            );
            continue;
        }
        if let Ok(key) = <[u8; 32]>::try_from(key) {
            keys.insert(kid, &key);
        }
    }
    Ok(keys)
}
