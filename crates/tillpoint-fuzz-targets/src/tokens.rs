//! Access tokens and offline grants: the one verifier both sides use
//! (`tillpoint_protocol::token`), with the server's real key ring (keys made and stored as the
//! server makes them), and the till's grant check (`tillpoint_core::sign_in::grant::verify`,
//! with the keys as the till holds them: read from the JWKS the server serves).
//!
//! The first input byte picks the mode, the rest is what the mode reads:
//! - even: a token exactly as it arrives in a header or a grant file — the refusals of a
//!   header (`alg: none`, HMAC, a foreign `kid`, `jku`…) and of a broken token are exercised;
//! - odd: `typ`, a NUL, then the claims' JSON, signed by the server's current key — what the
//!   verifier does with claims it can only meet from a signer (expired, not yet valid,
//!   another audience, missing fields) is exercised.
//!
//! The next eight bytes (both modes) are the verifier's clock, Unix seconds.
//!
//! What must hold:
//! - nothing panics;
//! - a token accepted is signed by one of the server's keys over exactly its first two
//!   segments (checked with ed25519-dalek, not through the verifier), and its header names
//!   EdDSA, the expected `typ` and a known `kid`;
//! - an accepted token's `iss` and `aud` are ours and its times hold at the clock, within the
//!   leeway;
//! - no token is accepted both as an access token and as an offline grant;
//! - a signed token whose claims read as the kind expected and satisfy every rule above is
//!   accepted (the verifier refuses nothing it should take);
//! - the till takes a grant only when the verifier does and it names the till's organisation
//!   and device.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;
use tillpoint_core::sign_in::grant::{verify as till_verifies_grant, GrantError};
use tillpoint_protocol::auth::{
    AccessClaims, OfflineGrantClaims, ACCESS_AUDIENCE, ACCESS_TOKEN_TYP, GRANT_AUDIENCE, ISSUER,
    LEEWAY_SECS, OFFLINE_GRANT_TYP,
};
use tillpoint_protocol::token::{verify_access_token, verify_offline_grant, PublicKeys};
use tillpoint_protocol::{DeviceId, OrgId};
use tillpoint_server::identity::keys::KeyRing;
use tillpoint_server::identity::master_key::{MasterKey, MasterKeySource};
use tillpoint_server::store::Database;

/// The organisation and device the till in this target belongs to; the corpus's grants name
/// them.
pub const TILL_ORG: &str = "0190f000-0000-7000-8000-0000000000a1";
pub const TILL_DEVICE: &str = "0190f000-0000-7000-8000-00000000d001";

struct Keys {
    _dir: tempfile::TempDir,
    ring: KeyRing,
    /// As the server verifies.
    server: PublicKeys,
    /// As the till verifies: from the JWKS.
    till: PublicKeys,
    /// Every key's public half by kid, for the independent signature check.
    raw: Vec<(String, VerifyingKey)>,
}

/// The server's key ring over a fresh database, made once per process.
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary folder");
        let db = Database::open(&dir.path().join("server.db")).expect("server database");
        let master = MasterKey::load(&MasterKeySource::Base64(
            "ZnV6ei1tYXN0ZXIta2V5LTMyLWJ5dGVzLWxvbmcuLi4=".into(),
        ))
        .expect("master key");
        let ring = KeyRing::open(&db, master).expect("key ring");
        let jwks = ring.jwks();
        let raw = jwks
            .keys
            .iter()
            .map(|jwk| {
                let x: [u8; 32] = URL_SAFE_NO_PAD
                    .decode(&jwk.x)
                    .expect("jwk x")
                    .try_into()
                    .expect("32 bytes");
                (jwk.kid.clone(), VerifyingKey::from_bytes(&x).expect("key"))
            })
            .collect();
        Keys {
            _dir: dir,
            server: ring.public_keys(),
            till: jwks.public_keys().expect("jwks"),
            ring,
            raw,
        }
    })
}

/// Whether `token` is signed over its first two segments by one of `keys`, and its header
/// says what an accepted header must.
fn genuinely_signed(token: &str, keys: &Keys, typ: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some(header) = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
    else {
        return false;
    };
    let Some(signature) = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|s| Signature::from_slice(&s).ok())
    else {
        return false;
    };
    let signed = format!("{}.{claims}", token.split('.').next().unwrap_or_default());
    header["alg"] == "EdDSA"
        && header["typ"] == typ
        && keys.raw.iter().any(|(kid, key)| {
            header["kid"] == kid.as_str()
                && key.verify_strict(signed.as_bytes(), &signature).is_ok()
        })
}

/// The claims' JSON of a token, read without the verifier.
fn claims_of(token: &str) -> Option<Value> {
    let segment = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).ok()?).ok()
}

/// Whether `claims` satisfy the issuer, audience and time rules at `now`.
fn rules_hold(claims: &Value, audience: &str, now: i64) -> bool {
    let leeway = LEEWAY_SECS as i128;
    let time = |name: &str| claims[name].as_i64().map(i128::from);
    let (Some(exp), Some(nbf), Some(iat)) = (time("exp"), time("nbf"), time("iat")) else {
        return false;
    };
    let now = i128::from(now);
    claims["iss"] == ISSUER
        && claims["aud"] == audience
        && now <= exp + leeway
        && nbf <= now + leeway
        && iat <= now + leeway
}

pub fn tokens(data: &[u8]) {
    verdicts(data);
}

/// Whether the token the input makes is accepted as an access token, as an offline grant by
/// the server's verifier, and as a grant by the till; `None` when the input makes no token.
/// Asserts the properties on the way (see the module).
pub fn verdicts(data: &[u8]) -> Option<[bool; 3]> {
    let (&mode, rest) = data.split_first()?;
    if rest.len() < 8 {
        return None;
    }
    let (clock, rest) = rest.split_at(8);
    let now = i64::from_le_bytes(clock.try_into().expect("eight bytes"));
    let text = std::str::from_utf8(rest).ok()?;
    let keys = keys();
    let token = if mode % 2 == 0 {
        text.to_owned()
    } else {
        let (typ, claims) = text.split_once('\0')?;
        let claims = serde_json::from_str::<Value>(claims).ok()?;
        keys.ring.current().sign(typ, &claims)
    };

    let access = verify_access_token(&token, &keys.server, now);
    let grant = verify_offline_grant(&token, &keys.server, now);
    assert!(
        !(access.is_ok() && grant.is_ok()),
        "accepted as both an access token and a grant"
    );
    for (accepted, typ, audience) in [
        (access.is_ok(), ACCESS_TOKEN_TYP, ACCESS_AUDIENCE),
        (grant.is_ok(), OFFLINE_GRANT_TYP, GRANT_AUDIENCE),
    ] {
        if accepted {
            assert!(
                genuinely_signed(&token, keys, typ),
                "accepted unsigned: {token}"
            );
            let claims = claims_of(&token).expect("accepted claims read");
            assert!(
                rules_hold(&claims, audience, now),
                "accepted against the rules: {claims}"
            );
        }
    }

    // What must be accepted: genuinely signed, readable as the kind, within the rules.
    if let Some(claims) = claims_of(&token) {
        if genuinely_signed(&token, keys, ACCESS_TOKEN_TYP)
            && rules_hold(&claims, ACCESS_AUDIENCE, now)
            && serde_json::from_value::<AccessClaims>(claims.clone()).is_ok()
        {
            assert!(
                access.is_ok(),
                "refused a good access token: {access:?} {claims}"
            );
        }
        if genuinely_signed(&token, keys, OFFLINE_GRANT_TYP)
            && rules_hold(&claims, GRANT_AUDIENCE, now)
            && serde_json::from_value::<OfflineGrantClaims>(claims.clone()).is_ok()
        {
            assert!(grant.is_ok(), "refused a good grant: {grant:?} {claims}");
        }
    }

    // The till's check: with the keys it got from the JWKS, for its own org and device.
    let org: OrgId = TILL_ORG.parse().expect("org");
    let device: DeviceId = TILL_DEVICE.parse().expect("device");
    let on_till = till_verifies_grant(&token, &keys.till, org, device, now);
    match (&grant, &on_till) {
        (Ok(claims), Ok(till)) => {
            assert_eq!(claims, till, "the till read the grant otherwise");
            assert!(claims.org == org && claims.device == device);
        }
        (Ok(claims), Err(GrantError::OtherOrganisation)) => assert_ne!(claims.org, org),
        (Ok(claims), Err(GrantError::OtherDevice)) => {
            assert!(claims.org == org && claims.device != device)
        }
        (Err(server), Err(GrantError::Token(till))) => assert_eq!(server, till),
        (server, till) => panic!("the till and the server disagree: {server:?} / {till:?}"),
    }
    Some([access.is_ok(), grant.is_ok(), on_till.is_ok()])
}
