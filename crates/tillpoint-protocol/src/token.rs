//! Verifying the tokens this system signs — one implementation for both sides, so the server
//! (access tokens) and the till (offline grants, from its cached JWKS) can never disagree.
//!
//! What is checked, in order, and refused with its own [`TokenError`]:
//! the header's `alg` is EdDSA (never `none`, never HMAC, whatever the header says); its `typ`
//! is the kind expected; its `kid` is present, well-formed (a UUID) and in OUR key set — `jku`,
//! `x5u` and `jwk` in a header are never followed; the signature verifies with that key; `iss`
//! and `aud` are exactly ours; `exp`, `nbf` and `iat` hold against the caller's `now` within
//! [`LEEWAY_SECS`]. The time comes from the caller because a till offline must use its own
//! monotonic notion of time, not the system clock jsonwebtoken would read.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::auth::{
    AccessClaims, OfflineGrantClaims, ACCESS_AUDIENCE, ACCESS_TOKEN_TYP, GRANT_AUDIENCE, ISSUER,
    LEEWAY_SECS, OFFLINE_GRANT_TYP,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm {0:?} is not accepted (only EdDSA)")]
    Algorithm(String),
    #[error("the token's type {found:?} is not {expected:?}")]
    Type {
        expected: &'static str,
        found: Option<String>,
    },
    #[error("the token names no key (kid)")]
    MissingKid,
    #[error("the token's key id is malformed")]
    MalformedKid,
    #[error("the token was signed by a key this system does not know")]
    UnknownKid,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token's claims are missing or malformed: {0}")]
    Claims(String),
    #[error("the token was issued by {0:?}, not by this server")]
    Issuer(String),
    #[error("the token is meant for {0:?}, not for this use")]
    Audience(String),
    #[error("the token expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token claims to be issued in the future")]
    IssuedInFuture,
}

/// Which kind of token a verifier expects. Each pins its header `typ` and its audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    OfflineGrant,
}

impl TokenKind {
    pub fn typ(self) -> &'static str {
        match self {
            Self::Access => ACCESS_TOKEN_TYP,
            Self::OfflineGrant => OFFLINE_GRANT_TYP,
        }
    }

    pub fn audience(self) -> &'static str {
        match self {
            Self::Access => ACCESS_AUDIENCE,
            Self::OfflineGrant => GRANT_AUDIENCE,
        }
    }
}

/// The public keys a verifier trusts, by `kid`. Every key is Ed25519.
#[derive(Clone, Default)]
pub struct PublicKeys {
    keys: HashMap<String, DecodingKey>,
}

impl PublicKeys {
    pub fn insert(&mut self, kid: String, public_key: &[u8; 32]) {
        self.keys.insert(kid, DecodingKey::from_ed_der(public_key));
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The times every token carries, for the checks jsonwebtoken leaves to us.
trait Timed {
    fn iss(&self) -> &str;
    fn aud(&self) -> &str;
    fn iat(&self) -> i64;
    fn nbf(&self) -> i64;
    fn exp(&self) -> i64;
}

macro_rules! timed {
    ($t:ty) => {
        impl Timed for $t {
            fn iss(&self) -> &str {
                &self.iss
            }
            fn aud(&self) -> &str {
                &self.aud
            }
            fn iat(&self) -> i64 {
                self.iat
            }
            fn nbf(&self) -> i64 {
                self.nbf
            }
            fn exp(&self) -> i64 {
                self.exp
            }
        }
    };
}
timed!(AccessClaims);
timed!(OfflineGrantClaims);

/// Verifies an access token at time `now` (Unix seconds).
pub fn verify_access_token(
    token: &str,
    keys: &PublicKeys,
    now: i64,
) -> Result<AccessClaims, TokenError> {
    verify(token, keys, TokenKind::Access, now)
}

/// Verifies an offline grant at time `now` (Unix seconds).
pub fn verify_offline_grant(
    token: &str,
    keys: &PublicKeys,
    now: i64,
) -> Result<OfflineGrantClaims, TokenError> {
    verify(token, keys, TokenKind::OfflineGrant, now)
}

fn verify<C: DeserializeOwned + Timed>(
    token: &str,
    keys: &PublicKeys,
    kind: TokenKind,
    now: i64,
) -> Result<C, TokenError> {
    // The header is read from the raw segment first: jsonwebtoken refuses to parse `alg:none`
    // and unknown algorithms with a generic error, and we want to say which it was.
    let header_segment = token.split('.').next().ok_or(TokenError::Malformed)?;
    let raw_header: RawHeader = URL_SAFE_NO_PAD
        .decode(header_segment)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Malformed)?;
    if raw_header.alg != "EdDSA" {
        // Attacker-written text: bounded here, and always shown quoted ({:?}) in messages.
        return Err(TokenError::Algorithm(
            raw_header.alg.chars().take(32).collect(),
        ));
    }
    if raw_header.typ.as_deref() != Some(kind.typ()) {
        return Err(TokenError::Type {
            expected: kind.typ(),
            found: raw_header.typ.map(|t| t.chars().take(32).collect()),
        });
    }
    let kid = raw_header.kid.ok_or(TokenError::MissingKid)?;
    if uuid::Uuid::parse_str(&kid).is_err() {
        return Err(TokenError::MalformedKid);
    }
    let key = keys.keys.get(&kid).ok_or(TokenError::UnknownKid)?;

    let mut validation = Validation::new(Algorithm::EdDSA);
    // Time is checked below against the caller's clock, not the system's.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims: C = jsonwebtoken::decode::<C>(token, key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::Signature,
            jsonwebtoken::errors::ErrorKind::Json(err) => TokenError::Claims(err.to_string()),
            jsonwebtoken::errors::ErrorKind::Base64(_)
            | jsonwebtoken::errors::ErrorKind::Utf8(_)
            | jsonwebtoken::errors::ErrorKind::InvalidToken => TokenError::Malformed,
            other => TokenError::Claims(format!("{other:?}")),
        })?
        .claims;

    if claims.iss() != ISSUER {
        return Err(TokenError::Issuer(claims.iss().chars().take(64).collect()));
    }
    if claims.aud() != kind.audience() {
        return Err(TokenError::Audience(
            claims.aud().chars().take(64).collect(),
        ));
    }
    let leeway = LEEWAY_SECS as i64;
    if now > claims.exp().saturating_add(leeway) {
        return Err(TokenError::Expired);
    }
    if now.saturating_add(leeway) < claims.nbf() {
        return Err(TokenError::NotYetValid);
    }
    if now.saturating_add(leeway) < claims.iat() {
        return Err(TokenError::IssuedInFuture);
    }
    Ok(claims)
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    typ: Option<String>,
    kid: Option<String>,
}

/// A JSON Web Key Set of Ed25519 public keys, as served at `/.well-known/jwks.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

impl Jwk {
    pub fn ed25519(kid: &str, public_key: &[u8; 32]) -> Self {
        Self {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: URL_SAFE_NO_PAD.encode(public_key),
            kid: kid.into(),
            alg: "EdDSA".into(),
            use_: "sig".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the key set holds a key that is not an Ed25519 signing key: {0}")]
pub struct JwksError(pub String);

impl Jwks {
    /// The verifying keys in this set; refuses anything but Ed25519 signing keys, so a key
    /// set can never smuggle in an HMAC secret or another algorithm.
    pub fn public_keys(&self) -> Result<PublicKeys, JwksError> {
        let mut keys = PublicKeys::default();
        for jwk in &self.keys {
            if jwk.kty != "OKP" || jwk.crv != "Ed25519" || jwk.alg != "EdDSA" || jwk.use_ != "sig" {
                return Err(JwksError(jwk.kid.clone()));
            }
            let x: [u8; 32] = URL_SAFE_NO_PAD
                .decode(&jwk.x)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| JwksError(jwk.kid.clone()))?;
            keys.insert(jwk.kid.clone(), &x);
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    //! Every way a token can be wrong, each refused for its own reason.

    use super::*;
    use crate::auth::GrantLimits;
    use crate::{DeviceId, OrgId, Permission, UserId};
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    use jsonwebtoken::{EncodingKey, Header};
    use rand::Rng;

    const NOW: i64 = 1_800_000_000;

    struct TestKey {
        kid: String,
        signing: ed25519_dalek::SigningKey,
    }

    impl TestKey {
        fn new() -> Self {
            let seed: [u8; 32] = rand::rng().random();
            Self {
                kid: uuid::Uuid::from_bytes(rand::rng().random()).to_string(),
                signing: ed25519_dalek::SigningKey::from_bytes(&seed),
            }
        }
        fn public(&self) -> [u8; 32] {
            self.signing.verifying_key().to_bytes()
        }
        fn encoding(&self) -> EncodingKey {
            EncodingKey::from_ed_der(self.signing.to_pkcs8_der().unwrap().as_bytes())
        }
        fn keys(&self) -> PublicKeys {
            let mut keys = PublicKeys::default();
            keys.insert(self.kid.clone(), &self.public());
            keys
        }
        fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> String {
            let mut header = Header::new(Algorithm::EdDSA);
            header.typ = Some(typ.into());
            header.kid = Some(self.kid.clone());
            jsonwebtoken::encode(&header, claims, &self.encoding()).unwrap()
        }
    }

    fn access_claims() -> AccessClaims {
        AccessClaims {
            iss: ISSUER.into(),
            aud: ACCESS_AUDIENCE.into(),
            sub: UserId::from_uuid(uuid::Uuid::nil()),
            name: "Cashier One".into(),
            email: "c1@example.com".into(),
            role: "Cashier".into(),
            perms: vec![Permission::parse("pos:sales:create").unwrap()],
            org: OrgId::from_uuid(uuid::Uuid::max()),
            dev: DeviceId::from_uuid(uuid::Uuid::nil()),
            iat: NOW - 10,
            iat_ms: (NOW - 10) * 1000,
            nbf: NOW - 10,
            exp: NOW + 3600,
            jti: "j1".into(),
        }
    }

    fn grant_claims() -> OfflineGrantClaims {
        OfflineGrantClaims {
            iss: ISSUER.into(),
            aud: GRANT_AUDIENCE.into(),
            sub: UserId::from_uuid(uuid::Uuid::nil()),
            name: "Cashier One".into(),
            role: "Cashier".into(),
            org: OrgId::from_uuid(uuid::Uuid::max()),
            device: DeviceId::from_uuid(uuid::Uuid::nil()),
            perms: vec![],
            limits: GrantLimits::new(),
            iat: NOW,
            nbf: NOW,
            exp: NOW + 72 * 3600,
            jti: "g1".into(),
        }
    }

    /// Replaces one segment of a JWT with the base64url of `json`.
    fn with_segment(token: &str, index: usize, json: &serde_json::Value) -> String {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[index] = URL_SAFE_NO_PAD.encode(json.to_string());
        parts.join(".")
    }

    #[test]
    fn a_good_access_token_verifies() {
        let key = TestKey::new();
        let token = key.sign(ACCESS_TOKEN_TYP, &access_claims());
        assert_eq!(
            verify_access_token(&token, &key.keys(), NOW).unwrap(),
            access_claims()
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let key = TestKey::new();
        let token = key.sign(ACCESS_TOKEN_TYP, &access_claims());
        let none = with_segment(
            &token,
            0,
            &serde_json::json!({"alg": "none", "typ": ACCESS_TOKEN_TYP, "kid": key.kid}),
        );
        let unsigned = format!("{}.", none.rsplit_once('.').unwrap().0);
        for t in [none, unsigned] {
            assert_eq!(
                verify_access_token(&t, &key.keys(), NOW),
                Err(TokenError::Algorithm("none".into()))
            );
        }
    }

    #[test]
    fn an_hmac_token_keyed_with_the_public_key_is_refused() {
        // The classic confusion attack: HS256 with the server's public key as the secret.
        let key = TestKey::new();
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(ACCESS_TOKEN_TYP.into());
        header.kid = Some(key.kid.clone());
        let token = jsonwebtoken::encode(
            &header,
            &access_claims(),
            &EncodingKey::from_secret(&key.public()),
        )
        .unwrap();
        assert_eq!(
            verify_access_token(&token, &key.keys(), NOW),
            Err(TokenError::Algorithm("HS256".into()))
        );
    }

    #[test]
    fn a_token_from_another_servers_key_is_refused() {
        let ours = TestKey::new();
        let theirs = TestKey {
            kid: ours.kid.clone(),
            ..TestKey::new()
        };
        let token = theirs.sign(ACCESS_TOKEN_TYP, &access_claims());
        assert_eq!(
            verify_access_token(&token, &ours.keys(), NOW),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn an_unknown_missing_or_malformed_kid_is_refused() {
        let key = TestKey::new();
        let other = TestKey::new();
        let token = other.sign(ACCESS_TOKEN_TYP, &access_claims());
        assert_eq!(
            verify_access_token(&token, &key.keys(), NOW),
            Err(TokenError::UnknownKid)
        );
        let no_kid = with_segment(
            &token,
            0,
            &serde_json::json!({"alg": "EdDSA", "typ": ACCESS_TOKEN_TYP}),
        );
        assert_eq!(
            verify_access_token(&no_kid, &key.keys(), NOW),
            Err(TokenError::MissingKid)
        );
        for bad in ["../../etc/passwd", "", "1 OR 1=1"] {
            let t = with_segment(
                &token,
                0,
                &serde_json::json!({"alg": "EdDSA", "typ": ACCESS_TOKEN_TYP, "kid": bad}),
            );
            assert_eq!(
                verify_access_token(&t, &key.keys(), NOW),
                Err(TokenError::MalformedKid)
            );
        }
    }

    #[test]
    fn any_change_to_the_payload_breaks_the_signature() {
        let key = TestKey::new();
        let token = key.sign(ACCESS_TOKEN_TYP, &access_claims());
        let mut claims = serde_json::to_value(access_claims()).unwrap();
        claims["perms"] = serde_json::json!(["*:*:*"]);
        let edited = with_segment(&token, 1, &claims);
        assert_eq!(
            verify_access_token(&edited, &key.keys(), NOW),
            Err(TokenError::Signature)
        );

        let mut sig_flipped = token.clone().into_bytes();
        let last = sig_flipped.len() - 2;
        sig_flipped[last] = if sig_flipped[last] == b'A' {
            b'B'
        } else {
            b'A'
        };
        let sig_flipped = String::from_utf8(sig_flipped).unwrap();
        assert!(verify_access_token(&sig_flipped, &key.keys(), NOW).is_err());
    }

    #[test]
    fn wrong_or_missing_issuer_is_refused() {
        let key = TestKey::new();
        let mut claims = access_claims();
        claims.iss = "someone-else".into();
        let token = key.sign(ACCESS_TOKEN_TYP, &claims);
        assert_eq!(
            verify_access_token(&token, &key.keys(), NOW),
            Err(TokenError::Issuer("someone-else".into()))
        );
        let mut value = serde_json::to_value(access_claims()).unwrap();
        value.as_object_mut().unwrap().remove("iss");
        let token = key.sign(ACCESS_TOKEN_TYP, &value);
        assert!(matches!(
            verify_access_token(&token, &key.keys(), NOW),
            Err(TokenError::Claims(_))
        ));
    }

    #[test]
    fn wrong_or_missing_audience_is_refused() {
        let key = TestKey::new();
        let mut claims = access_claims();
        claims.aud = GRANT_AUDIENCE.into();
        let token = key.sign(ACCESS_TOKEN_TYP, &claims);
        assert_eq!(
            verify_access_token(&token, &key.keys(), NOW),
            Err(TokenError::Audience(GRANT_AUDIENCE.into()))
        );
        let mut value = serde_json::to_value(access_claims()).unwrap();
        value.as_object_mut().unwrap().remove("aud");
        let token = key.sign(ACCESS_TOKEN_TYP, &value);
        assert!(matches!(
            verify_access_token(&token, &key.keys(), NOW),
            Err(TokenError::Claims(_))
        ));
    }

    #[test]
    fn expiry_is_enforced_with_at_most_thirty_seconds_leeway() {
        let key = TestKey::new();
        let token = key.sign(ACCESS_TOKEN_TYP, &access_claims());
        let exp = access_claims().exp;
        assert!(verify_access_token(&token, &key.keys(), exp + 30).is_ok());
        assert_eq!(
            verify_access_token(&token, &key.keys(), exp + 31),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_token_not_yet_valid_is_refused() {
        let key = TestKey::new();
        let mut claims = access_claims();
        claims.nbf = NOW + 120;
        claims.iat = NOW - 10;
        let token = key.sign(ACCESS_TOKEN_TYP, &claims);
        assert_eq!(
            verify_access_token(&token, &key.keys(), NOW),
            Err(TokenError::NotYetValid)
        );
        assert!(verify_access_token(&token, &key.keys(), NOW + 90).is_ok());
    }

    #[test]
    fn a_token_issued_in_the_future_is_refused() {
        let key = TestKey::new();
        let mut claims = access_claims();
        claims.iat = NOW + 600;
        let token = key.sign(ACCESS_TOKEN_TYP, &claims);
        assert_eq!(
            verify_access_token(&token, &key.keys(), NOW),
            Err(TokenError::IssuedInFuture)
        );
    }

    #[test]
    fn a_grant_is_not_an_access_token_and_vice_versa() {
        let key = TestKey::new();
        let grant = key.sign(OFFLINE_GRANT_TYP, &grant_claims());
        assert!(verify_offline_grant(&grant, &key.keys(), NOW).is_ok());
        assert!(matches!(
            verify_access_token(&grant, &key.keys(), NOW),
            Err(TokenError::Type { .. })
        ));
        // Even relabelled as an access token, a grant's audience gives it away.
        let relabelled = key.sign(ACCESS_TOKEN_TYP, &grant_claims());
        assert!(verify_access_token(&relabelled, &key.keys(), NOW).is_err());
        let access = key.sign(ACCESS_TOKEN_TYP, &access_claims());
        assert!(matches!(
            verify_offline_grant(&access, &key.keys(), NOW),
            Err(TokenError::Type { .. })
        ));
    }

    #[test]
    fn garbage_is_malformed() {
        let key = TestKey::new();
        for junk in ["", "abc", "a.b.c", "....", "eyJhbGciOiJFZERTQSJ9"] {
            assert!(
                verify_access_token(junk, &key.keys(), NOW).is_err(),
                "{junk:?}"
            );
        }
    }

    #[test]
    fn a_jwks_round_trips_and_refuses_other_key_types() {
        let key = TestKey::new();
        let jwks = Jwks {
            keys: vec![Jwk::ed25519(&key.kid, &key.public())],
        };
        let keys = jwks.public_keys().unwrap();
        let token = key.sign(ACCESS_TOKEN_TYP, &access_claims());
        assert!(verify_access_token(&token, &keys, NOW).is_ok());

        let mut hmac = jwks.clone();
        hmac.keys[0].kty = "oct".into();
        assert!(hmac.public_keys().is_err());
        let mut short = jwks.clone();
        short.keys[0].x = URL_SAFE_NO_PAD.encode([1u8; 16]);
        assert!(short.public_keys().is_err());
    }
}
