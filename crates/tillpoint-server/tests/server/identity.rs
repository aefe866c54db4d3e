//! Identity over real HTTP (ARCHITECTURE.md §2–3, RFC 8725, RFC 9700): sign-in and its
//! answer, every way an access token can be wrong, refresh-token rotation, reuse detection
//! and expiry, sign-out, signing-key rotation, the offline grant, rate limits on guessing,
//! bad input at the boundary, password-hash upgrades and the API document.
//!
//! Every test starts its own server (`spawn_server()`) and speaks HTTP to it; each refusal is
//! its own test, and each forged-token test first shows that the same token, unforged, is
//! accepted — so a refusal is always for the reason the test names.

use tillpoint_server::identity::keys::RETIRED_KEY_VERIFIES_SECS;
use tillpoint_server::identity::refresh::RETRY_GRACE_SECS;

/// Offline grants neither revoked nor superseded.
async fn live_grants(server: &TestServer) -> i64 {
    query(server, |c| {
        c.query_row(
            "SELECT COUNT(*) FROM offline_grants WHERE revoked_at IS NULL AND superseded_at IS NULL",
            [],
            |r| r.get(0),
        )
    })
    .await
}

async fn audit_rows(server: &TestServer) -> i64 {
    query(server, |c| {
        c.query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))
    })
    .await
}

use argon2::password_hash::{PasswordHasher, SaltString};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use tillpoint_protocol::auth::{
    AccessClaims, TokenResponse, UserInfo, ACCESS_AUDIENCE, ACCESS_TOKEN_TYP, GRANT_AUDIENCE,
    ISSUER, OFFLINE_GRANT_TYP,
};
use tillpoint_protocol::token::{verify_access_token, verify_offline_grant, Jwks, PublicKeys};
use tillpoint_protocol::{
    CurrencyCode, DeviceId, ErrorBody, ErrorCode, OrgId, Permission, RoleId, UserId,
};
use tillpoint_server::identity::keys;
use tillpoint_server::store::DbError;
use tillpoint_server::testing::{new_device, spawn_server, TestOrg, TestServer};

const PASSWORD: &str = "correct horse battery staple";
const DAY: i64 = 24 * 3600;
/// What a new organisation lets a till do offline (identity::settings defaults), sorted.
const OFFLINE_SET: &[&str] = &[
    "pos:discounts:apply",
    "pos:sales:create",
    "pos:sales:refund",
    "pos:sales:view",
    "pos:sessions:manage",
    "stock:inventory:view",
];
const CASHIER_PERMISSIONS: &[&str] = &[
    "pos:sales:create",
    "pos:sales:view",
    "pos:sessions:manage",
    "stock:inventory:view",
];

// ---------------------------------------------------------------------------------------------
// Helpers

fn perms(texts: &[&str]) -> Vec<Permission> {
    texts
        .iter()
        .map(|p| Permission::parse(p).unwrap())
        .collect()
}

async fn post_json(server: &TestServer, path: &str, body: &Value) -> Response {
    Client::new()
        .post(server.at(path))
        .json(body)
        .send()
        .await
        .expect("the server answers")
}

async fn login_attempt(
    server: &TestServer,
    username: &str,
    password: &str,
    device: DeviceId,
) -> Response {
    post_json(
        server,
        "api/v1/auth/login",
        &json!({"username": username, "password": password, "device_id": device}),
    )
    .await
}

async fn refresh(server: &TestServer, refresh_token: &str, device: DeviceId) -> Response {
    post_json(
        server,
        "api/v1/auth/refresh",
        &json!({"refresh_token": refresh_token, "device_id": device}),
    )
    .await
}

async fn refreshed(server: &TestServer, refresh_token: &str, device: DeviceId) -> TokenResponse {
    let response = refresh(server, refresh_token, device).await;
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "refresh failed: {body}");
    serde_json::from_str(&body).expect("a token response")
}

async fn logout(server: &TestServer, refresh_token: &str) -> Response {
    post_json(
        server,
        "api/v1/auth/logout",
        &json!({"refresh_token": refresh_token}),
    )
    .await
}

async fn me(server: &TestServer, access_token: &str) -> Response {
    Client::new()
        .get(server.at("api/v1/me"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("the server answers")
}

/// Asserts `response` is `status` in the error shape with `code`, and returns the body.
async fn assert_error(response: Response, status: u16, code: ErrorCode) -> ErrorBody {
    let got = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "unexpected answer: {body}");
    let parsed: ErrorBody =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("not the error shape ({e}): {body}"));
    assert_eq!(parsed.error.code, code, "{body}");
    assert!(!parsed.error.message.is_empty());
    parsed
}

async fn assert_refresh_refused(response: Response) {
    assert_error(response, 401, ErrorCode::Unauthenticated).await;
}

/// `/me` accepts `token` and answers who it names.
async fn assert_token_accepted(server: &TestServer, token: &str) -> UserInfo {
    let response = me(server, token).await;
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "the token should be accepted: {body}");
    serde_json::from_str(&body).expect("a UserInfo")
}

/// `/me` refuses `token` with 401, `error="invalid_token"` and the error shape.
async fn assert_token_refused(server: &TestServer, token: &str) {
    let response = me(server, token).await;
    let challenge = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|h| h.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_error(response, 401, ErrorCode::Unauthenticated).await;
    assert!(
        challenge.starts_with(r#"Bearer realm="tillpoint""#)
            && challenge.contains(r#"error="invalid_token""#),
        "challenge: {challenge:?}"
    );
}

fn now(server: &TestServer) -> i64 {
    server.clock.now().timestamp()
}

/// The verifying keys, exactly as a client gets them: from the served JWKS.
async fn served_jwks(server: &TestServer) -> Jwks {
    let response = reqwest::get(server.at(".well-known/jwks.json"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.expect("a JWKS")
}

async fn served_keys(server: &TestServer) -> PublicKeys {
    served_jwks(server)
        .await
        .public_keys()
        .expect("only Ed25519 keys")
}

/// The decoded JSON of segment `index` (0 header, 1 payload) of a JWT.
fn segment(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWT segment");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

fn b64(json: &Value) -> String {
    URL_SAFE_NO_PAD.encode(json.to_string())
}

/// Valid access-token claims for a made-up user, as the server would issue them now.
fn access_claims(server: &TestServer) -> Value {
    let iat = now(server);
    serde_json::to_value(AccessClaims {
        iss: ISSUER.into(),
        aud: ACCESS_AUDIENCE.into(),
        sub: UserId::from_uuid(uuid::Uuid::now_v7()),
        name: "Forged Person".into(),
        email: "forged@test.example".into(),
        role: "Cashier".into(),
        perms: perms(CASHIER_PERMISSIONS),
        org: OrgId::from_uuid(uuid::Uuid::now_v7()),
        iat,
        nbf: iat,
        exp: iat + 3600,
        jti: uuid::Uuid::now_v7().to_string(),
    })
    .unwrap()
}

/// Signs `claims` with the server's own current key, as `typ`.
fn server_signed(server: &TestServer, typ: &str, claims: &Value) -> String {
    server.identity.keys.current().sign(typ, claims)
}

/// An Ed25519 key that is not the server's.
fn foreign_key() -> EncodingKey {
    let signing = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    EncodingKey::from_ed_der(signing.to_pkcs8_der().unwrap().as_bytes())
}

fn signed_by(key: &EncodingKey, alg: Algorithm, typ: &str, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.typ = Some(typ.into());
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// Runs `sql` against the server's database.
async fn query<T: Send + 'static>(
    server: &TestServer,
    work: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
) -> T {
    server
        .db
        .call(move |conn| -> Result<T, DbError> { Ok(work(conn)?) })
        .await
        .expect("the query runs")
}

async fn audit_count(server: &TestServer, event: &'static str) -> i64 {
    query(server, move |c| {
        c.query_row(
            "SELECT COUNT(*) FROM audit_log WHERE event = ?1",
            [event],
            |r| r.get(0),
        )
    })
    .await
}

fn role_of(org: &TestOrg, name: &str) -> RoleId {
    org.roles.iter().find(|(n, _)| *n == name).unwrap().1
}

/// A server with one organisation and one user of `role`, signed in on a device.
struct SignedIn {
    server: TestServer,
    org: TestOrg,
    user: UserId,
    device: DeviceId,
    tokens: TokenResponse,
}

async fn signed_in(role: &str) -> SignedIn {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    let username = role.to_lowercase().replace(' ', "-");
    let user = server.create_user(&org, &username, role, PASSWORD).await;
    let device = new_device();
    let tokens = server.login(&username, PASSWORD, device).await;
    SignedIn {
        server,
        org,
        user,
        device,
        tokens,
    }
}

async fn rotate_signing_key(server: &TestServer) -> String {
    let master = server.identity.keys.master().clone();
    let at = server.clock.now();
    let kid = server
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let kid = keys::rotate(&tx, &master, at)?;
            tx.commit()?;
            Ok::<_, keys::KeyError>(kid)
        })
        .await
        .expect("the key rotates");
    server.identity.keys.reload().await.expect("keys reload");
    kid
}

// ---------------------------------------------------------------------------------------------
// Sign-in

#[tokio::test]
async fn login_answers_the_documented_token_response() {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    let user = server
        .create_user(&org, "cashier", "Cashier", PASSWORD)
        .await;
    let response = login_attempt(&server, "cashier", PASSWORD, new_device()).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();

    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "offline_grant",
            "refresh_token",
            "token_type",
            "user"
        ]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let mut user_keys: Vec<&str> = body["user"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    user_keys.sort();
    assert_eq!(
        user_keys,
        [
            "email",
            "id",
            "name",
            "organisation_id",
            "permissions",
            "role"
        ]
    );
    let tokens: TokenResponse = serde_json::from_value(body).unwrap();
    assert_eq!(
        tokens.user,
        UserInfo {
            id: user,
            name: "cashier".into(),
            email: "cashier@test.example".into(),
            role: "Cashier".into(),
            permissions: perms(CASHIER_PERMISSIONS),
            organisation_id: org.id,
        }
    );
    // The refresh token is opaque: 256 random bits, not a JWT.
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(&tokens.refresh_token)
            .expect("base64url")
            .len(),
        32
    );
}

#[tokio::test]
async fn the_access_token_verifies_with_the_served_jwks_and_carries_every_claim() {
    let s = signed_in("Cashier").await;
    let token = &s.tokens.access_token;

    let header = segment(token, 0);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], ACCESS_TOKEN_TYP);
    let kid = header["kid"].as_str().expect("a kid");
    assert_eq!(kid, s.server.identity.keys.current().kid);
    assert!(served_jwks(&s.server)
        .await
        .keys
        .iter()
        .any(|k| k.kid == kid));

    let issued = now(&s.server);
    let claims = verify_access_token(token, &served_keys(&s.server).await, issued)
        .expect("the access token verifies with the served JWKS");
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, ACCESS_AUDIENCE);
    assert_eq!(claims.sub, s.user);
    assert_eq!(claims.name, "cashier");
    assert_eq!(claims.email, "cashier@test.example");
    assert_eq!(claims.role, "Cashier");
    assert_eq!(claims.perms, perms(CASHIER_PERMISSIONS));
    assert_eq!(claims.org, s.org.id);
    assert!((claims.iat - issued).abs() <= 5, "iat {}", claims.iat);
    assert_eq!(claims.nbf, claims.iat);
    assert_eq!(claims.exp, claims.iat + 3600);
    assert!(uuid::Uuid::parse_str(&claims.jti).is_ok());

    let payload = segment(token, 1);
    let mut names: Vec<&str> = payload
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "aud", "email", "exp", "iat", "iss", "jti", "name", "nbf", "org", "perms", "role",
            "sub"
        ]
    );

    assert_eq!(assert_token_accepted(&s.server, token).await, s.tokens.user);
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_get_the_same_answer() {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    server
        .create_user(&org, "cashier", "Cashier", PASSWORD)
        .await;
    let unknown = login_attempt(&server, "nobody", PASSWORD, new_device()).await;
    let wrong = login_attempt(&server, "cashier", "not the password", new_device()).await;
    assert_eq!(unknown.status(), 401);
    assert_eq!(wrong.status(), 401);
    let unknown: Value = unknown.json().await.unwrap();
    let wrong: Value = wrong.json().await.unwrap();
    assert_eq!(unknown, wrong, "the answers must not tell the two apart");
    assert_eq!(unknown["error"]["code"], "unauthenticated");
    assert_eq!(audit_count(&server, "login_failed").await, 2);
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_gets_the_same_answer() {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    let user = server
        .create_user(&org, "cashier", "Cashier", PASSWORD)
        .await;
    let wrong: Value = login_attempt(&server, "cashier", "not the password", new_device())
        .await
        .json()
        .await
        .unwrap();
    query(&server, move |c| {
        c.execute(
            "UPDATE users SET disabled = 1 WHERE id = ?1",
            [user.to_string()],
        )
    })
    .await;
    let disabled = login_attempt(&server, "cashier", PASSWORD, new_device()).await;
    assert_eq!(disabled.status(), 401);
    assert_eq!(disabled.json::<Value>().await.unwrap(), wrong);
}

// ---------------------------------------------------------------------------------------------
// Access tokens at /me

#[tokio::test]
async fn me_without_a_token_is_401_with_a_bearer_challenge() {
    let server = spawn_server().await;
    let response = reqwest::get(server.at("api/v1/me")).await.unwrap();
    assert_eq!(
        response.headers().get(WWW_AUTHENTICATE).unwrap(),
        r#"Bearer realm="tillpoint""#
    );
    assert_error(response, 401, ErrorCode::Unauthenticated).await;
}

#[tokio::test]
async fn me_with_a_token_forged_on_the_server_key_is_accepted() {
    // The control for every forgery below: these claims, signed by the server's key, pass.
    let server = spawn_server().await;
    let claims = access_claims(&server);
    let info =
        assert_token_accepted(&server, &server_signed(&server, ACCESS_TOKEN_TYP, &claims)).await;
    assert_eq!(info.name, "Forged Person");
}

#[tokio::test]
async fn me_refuses_garbage() {
    let server = spawn_server().await;
    for junk in ["garbage", "a.b.c", "....", "eyJhbGciOiJFZERTQSJ9..", "🦀"] {
        assert_token_refused(&server, junk).await;
    }
}

#[tokio::test]
async fn me_refuses_a_non_bearer_authorization() {
    let server = spawn_server().await;
    let token = server_signed(&server, ACCESS_TOKEN_TYP, &access_claims(&server));
    assert_token_accepted(&server, &token).await;
    let response = Client::new()
        .get(server.at("api/v1/me"))
        .header("Authorization", format!("Basic {token}"))
        .send()
        .await
        .unwrap();
    assert_error(response, 401, ErrorCode::Unauthenticated).await;
}

#[tokio::test]
async fn the_bearer_scheme_name_is_case_insensitive() {
    let server = spawn_server().await;
    let token = server_signed(&server, ACCESS_TOKEN_TYP, &access_claims(&server));
    let response = Client::new()
        .get(server.at("api/v1/me"))
        .header("Authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_wrong_method_is_405_in_the_error_shape() {
    let server = spawn_server().await;
    let response = Client::new()
        .get(server.at("api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    assert_error(response, 405, ErrorCode::MethodNotAllowed).await;
}

#[tokio::test]
async fn me_refuses_an_alg_none_token() {
    let server = spawn_server().await;
    let claims = access_claims(&server);
    let signed = server_signed(&server, ACCESS_TOKEN_TYP, &claims);
    assert_token_accepted(&server, &signed).await;
    let kid = server.identity.keys.current().kid.clone();
    let header = b64(&json!({"alg": "none", "typ": ACCESS_TOKEN_TYP, "kid": kid}));
    let signature = signed.rsplit('.').next().unwrap();
    // Unsigned, and with the real signature kept.
    for token in [
        format!("{header}.{}.", b64(&claims)),
        format!("{header}.{}.{signature}", b64(&claims)),
    ] {
        assert_token_refused(&server, &token).await;
    }
}

#[tokio::test]
async fn me_refuses_an_hs256_token_keyed_with_the_servers_public_key() {
    let server = spawn_server().await;
    let jwks = served_jwks(&server).await;
    let jwk = &jwks.keys[0];
    let public = URL_SAFE_NO_PAD.decode(&jwk.x).unwrap();
    let claims = access_claims(&server);
    for secret in [public.as_slice(), jwk.x.as_bytes()] {
        let token = signed_by(
            &EncodingKey::from_secret(secret),
            Algorithm::HS256,
            ACCESS_TOKEN_TYP,
            &jwk.kid,
            &claims,
        );
        assert_token_refused(&server, &token).await;
    }
}

#[tokio::test]
async fn me_refuses_a_token_signed_by_another_key_under_the_servers_kid() {
    let server = spawn_server().await;
    let kid = server.identity.keys.current().kid.clone();
    let token = signed_by(
        &foreign_key(),
        Algorithm::EdDSA,
        ACCESS_TOKEN_TYP,
        &kid,
        &access_claims(&server),
    );
    assert_token_refused(&server, &token).await;
}

#[tokio::test]
async fn me_refuses_a_token_with_an_unknown_kid() {
    let server = spawn_server().await;
    let token = signed_by(
        &foreign_key(),
        Algorithm::EdDSA,
        ACCESS_TOKEN_TYP,
        &uuid::Uuid::now_v7().to_string(),
        &access_claims(&server),
    );
    assert_token_refused(&server, &token).await;
}

#[tokio::test]
async fn me_refuses_a_token_with_a_malformed_kid() {
    let server = spawn_server().await;
    let claims = access_claims(&server);
    for kid in [
        "../../keys/current",
        "' OR 1=1 --",
        "",
        "https://evil.example/jwks.json",
    ] {
        let token = signed_by(
            &foreign_key(),
            Algorithm::EdDSA,
            ACCESS_TOKEN_TYP,
            kid,
            &claims,
        );
        assert_token_refused(&server, &token).await;
    }
}

#[tokio::test]
async fn me_refuses_a_token_without_iss() {
    let server = spawn_server().await;
    let mut claims = access_claims(&server);
    assert_token_accepted(&server, &server_signed(&server, ACCESS_TOKEN_TYP, &claims)).await;
    claims.as_object_mut().unwrap().remove("iss");
    assert_token_refused(&server, &server_signed(&server, ACCESS_TOKEN_TYP, &claims)).await;
}

#[tokio::test]
async fn me_refuses_a_token_from_another_issuer() {
    let server = spawn_server().await;
    let mut claims = access_claims(&server);
    claims["iss"] = json!("https://login.evil.example");
    assert_token_refused(&server, &server_signed(&server, ACCESS_TOKEN_TYP, &claims)).await;
}

#[tokio::test]
async fn me_refuses_an_access_token_for_another_audience() {
    let server = spawn_server().await;
    let mut claims = access_claims(&server);
    claims["aud"] = json!(GRANT_AUDIENCE);
    assert_token_refused(&server, &server_signed(&server, ACCESS_TOKEN_TYP, &claims)).await;
}

#[tokio::test]
async fn me_refuses_a_token_without_aud() {
    let server = spawn_server().await;
    let mut claims = access_claims(&server);
    claims.as_object_mut().unwrap().remove("aud");
    assert_token_refused(&server, &server_signed(&server, ACCESS_TOKEN_TYP, &claims)).await;
}

#[tokio::test]
async fn me_refuses_the_offline_grant_presented_as_an_access_token() {
    let s = signed_in("Cashier").await;
    assert_token_accepted(&s.server, &s.tokens.access_token).await;
    assert_token_refused(&s.server, &s.tokens.offline_grant).await;
}

#[tokio::test]
async fn me_refuses_access_claims_under_another_typ() {
    let server = spawn_server().await;
    let claims = access_claims(&server);
    for typ in ["JWT", OFFLINE_GRANT_TYP] {
        assert_token_refused(&server, &server_signed(&server, typ, &claims)).await;
    }
}

#[tokio::test]
async fn me_refuses_an_expired_token() {
    let s = signed_in("Cashier").await;
    s.server.clock.advance(3600 + 25);
    assert_token_accepted(&s.server, &s.tokens.access_token).await;
    s.server.clock.advance(6);
    assert_token_refused(&s.server, &s.tokens.access_token).await;
}

#[tokio::test]
async fn me_refuses_a_token_without_exp() {
    let server = spawn_server().await;
    let mut claims = access_claims(&server);
    claims.as_object_mut().unwrap().remove("exp");
    assert_token_refused(&server, &server_signed(&server, ACCESS_TOKEN_TYP, &claims)).await;
}

#[tokio::test]
async fn me_refuses_a_token_not_yet_valid() {
    let server = spawn_server().await;
    let mut claims = access_claims(&server);
    claims["nbf"] = json!(now(&server) + 120);
    assert_token_refused(&server, &server_signed(&server, ACCESS_TOKEN_TYP, &claims)).await;
}

#[tokio::test]
async fn me_refuses_a_token_issued_in_the_future() {
    let server = spawn_server().await;
    let mut claims = access_claims(&server);
    claims["iat"] = json!(now(&server) + 600);
    assert_token_refused(&server, &server_signed(&server, ACCESS_TOKEN_TYP, &claims)).await;
}

#[tokio::test]
async fn me_refuses_a_token_with_one_payload_byte_flipped() {
    let s = signed_in("Cashier").await;
    let token = &s.tokens.access_token;
    assert_token_accepted(&s.server, token).await;
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
    // Flip the case bit of the first letter of the name: still valid JSON, other claims intact.
    let at = payload
        .windows(8)
        .position(|w| w == b"\"name\":\"")
        .expect("a name claim")
        + 8;
    payload[at] ^= 0x20;
    let edited: Value = serde_json::from_slice(&payload).expect("still JSON");
    assert_eq!(edited["name"], "Cashier");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(&payload),
        parts[2]
    );
    assert_token_refused(&s.server, &forged).await;
}

// ---------------------------------------------------------------------------------------------
// Refresh tokens

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let s = signed_in("Cashier").await;
    let first = &s.tokens.refresh_token;
    let second = refreshed(&s.server, first, s.device).await;
    assert_ne!(&second.refresh_token, first);
    assert_ne!(second.access_token, s.tokens.access_token);
    assert_eq!(second.token_type, "Bearer");
    assert_eq!(second.user, s.tokens.user);
    assert_token_accepted(&s.server, &second.access_token).await;
    // The new one works once; the old one is spent.
    let third = refreshed(&s.server, &second.refresh_token, s.device).await;
    assert_ne!(third.refresh_token, second.refresh_token);
    assert_refresh_refused(refresh(&s.server, first, s.device).await).await;
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let s = signed_in("Cashier").await;
    let first = &s.tokens.refresh_token;
    let second = refreshed(&s.server, first, s.device).await;
    assert_eq!(audit_count(&s.server, "refresh_reuse_detected").await, 0);

    // Replayed after the retry grace: theft, not a lost answer.
    s.server.clock.advance(RETRY_GRACE_SECS + 1);
    assert_refresh_refused(refresh(&s.server, first, s.device).await).await;
    // The newest token of the family is revoked with it, and so is its offline grant.
    assert_refresh_refused(refresh(&s.server, &second.refresh_token, s.device).await).await;
    assert_eq!(audit_count(&s.server, "refresh_reuse_detected").await, 1);
    assert_eq!(
        live_grants(&s.server).await,
        0,
        "the family's grants are revoked with it"
    );
}

#[tokio::test]
async fn a_retry_after_a_lost_answer_is_not_reuse() {
    // The till refreshed, the answer was lost, it retries with the token it still holds.
    let s = signed_in("Cashier").await;
    let first = &s.tokens.refresh_token;
    let lost = refreshed(&s.server, first, s.device).await;
    let retried = refreshed(&s.server, first, s.device).await;
    assert_ne!(retried.refresh_token, lost.refresh_token);
    // The answer that never arrived is retired; the retried one carries on.
    assert_refresh_refused(refresh(&s.server, &lost.refresh_token, s.device).await).await;
    let next = refreshed(&s.server, &retried.refresh_token, s.device).await;
    assert_token_accepted(&s.server, &next.access_token).await;
    assert_eq!(audit_count(&s.server, "refresh_reuse_detected").await, 0);
}

#[tokio::test]
async fn a_retry_is_reuse_once_the_successor_was_used() {
    let s = signed_in("Cashier").await;
    let first = &s.tokens.refresh_token;
    let second = refreshed(&s.server, first, s.device).await;
    refreshed(&s.server, &second.refresh_token, s.device).await;
    // Within the grace, but the successor already served: someone else holds `first`.
    assert_refresh_refused(refresh(&s.server, first, s.device).await).await;
    assert_eq!(audit_count(&s.server, "refresh_reuse_detected").await, 1);
}

#[tokio::test]
async fn each_refresh_supersedes_the_previous_offline_grant() {
    let s = signed_in("Cashier").await;
    refreshed(&s.server, &s.tokens.refresh_token, s.device).await;
    let (total, current): (i64, i64) = query(&s.server, |c| {
        c.query_row(
            "SELECT COUNT(*), SUM(superseded_at IS NULL AND revoked_at IS NULL) FROM offline_grants",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    })
    .await;
    assert_eq!(
        (total, current),
        (2, 1),
        "one grant in force per user and device"
    );
}

#[tokio::test]
async fn signing_out_revokes_the_offline_grant_too() {
    let s = signed_in("Cashier").await;
    assert_eq!(live_grants(&s.server).await, 1);
    let response = reqwest::Client::new()
        .post(s.server.at("api/v1/auth/logout"))
        .json(&serde_json::json!({"refresh_token": s.tokens.refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(live_grants(&s.server).await, 0);
}

#[tokio::test]
async fn made_up_refresh_tokens_are_refused_without_writing_anything() {
    let s = signed_in("Cashier").await;
    let before = audit_rows(&s.server).await;
    for i in 0..20 {
        assert_refresh_refused(refresh(&s.server, &format!("made-up-{i}"), s.device).await).await;
    }
    assert_eq!(audit_rows(&s.server).await, before);
}

/// Wrong-password sign-ins for distinct accounts, as sent through a proxy for `client`.
async fn fail_logins_via(server: &TestServer, client: &str, count: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..count {
        let response = Client::new()
            .post(server.at("api/v1/auth/login"))
            .header("X-Forwarded-For", format!("198.51.100.1, {client}"))
            .json(&serde_json::json!({
                "username": format!("nobody-{client}-{i}"),
                "password": "wrong",
                "device_id": new_device(),
            }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_has_its_own_limit() {
    let server = tillpoint_server::testing::spawn_server_with(|config| {
        config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let first = fail_logins_via(&server, "203.0.113.5", 21).await;
    assert_eq!(first.iter().filter(|s| **s == 429).count(), 1, "{first:?}");
    assert_eq!(
        *first.last().unwrap(),
        429,
        "the 21st from that client is limited"
    );
    // Another client behind the same proxy is not.
    assert_eq!(fail_logins_via(&server, "203.0.113.6", 1).await, [401]);
}

#[tokio::test]
async fn without_a_trusted_proxy_forwarded_for_is_ignored() {
    let server = spawn_server().await;
    fail_logins_via(&server, "203.0.113.5", 20).await;
    // A client cannot escape its limit by naming another address.
    assert_eq!(fail_logins_via(&server, "203.0.113.99", 1).await, [429]);
}

#[tokio::test]
async fn guesses_sent_in_parallel_cannot_outrun_the_account_limit() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    server
        .create_user(&org, "alice", "Cashier", "alice-password")
        .await;
    let client = reqwest::Client::new();
    let attempts: Vec<_> = (0..30)
        .map(|i| {
            let client = client.clone();
            let url = server.at("api/v1/auth/login");
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&serde_json::json!({
                        "username": "alice",
                        "password": format!("guess-{i}"),
                        "device_id": new_device(),
                    }))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(
        checked <= 5,
        "only 5 guesses may be checked, {checked} were: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert!(audit_count(&server, "login_failed").await <= 5);
}

#[tokio::test]
async fn a_refresh_token_presented_by_another_device_is_refused_and_revokes_its_family() {
    let s = signed_in("Cashier").await;
    let token = &s.tokens.refresh_token;
    assert_refresh_refused(refresh(&s.server, token, new_device()).await).await;
    // Even its own device can no longer use it.
    assert_refresh_refused(refresh(&s.server, token, s.device).await).await;
    assert_eq!(audit_count(&s.server, "refresh_reuse_detected").await, 1);
}

#[tokio::test]
async fn a_refresh_token_unused_for_14_days_expires() {
    let s = signed_in("Cashier").await;
    s.server.clock.advance(13 * DAY);
    let next = refreshed(&s.server, &s.tokens.refresh_token, s.device).await;
    // Idle time counts from the last use.
    s.server.clock.advance(14 * DAY + 60);
    assert_refresh_refused(refresh(&s.server, &next.refresh_token, s.device).await).await;
}

#[tokio::test]
async fn a_refresh_family_ends_60_days_after_sign_in_however_often_it_is_used() {
    let s = signed_in("Cashier").await;
    let mut token = s.tokens.refresh_token.clone();
    for _ in 0..4 {
        s.server.clock.advance(13 * DAY); // days 13, 26, 39, 52
        token = refreshed(&s.server, &token, s.device).await.refresh_token;
    }
    s.server.clock.advance(13 * DAY); // day 65: used 13 days ago, but the family is over
    assert_refresh_refused(refresh(&s.server, &token, s.device).await).await;
}

#[tokio::test]
async fn refresh_rereads_the_users_permissions() {
    let s = signed_in("Cashier").await;
    let role = role_of(&s.org, "Cashier").to_string();
    query(&s.server, move |c| {
        c.execute(
            "INSERT INTO role_permissions (role_id, permission) VALUES (?1, 'pos:sales:refund')",
            [&role],
        )?;
        c.execute(
            "DELETE FROM role_permissions WHERE role_id = ?1 AND permission = 'pos:sales:view'",
            [&role],
        )
    })
    .await;
    let next = refreshed(&s.server, &s.tokens.refresh_token, s.device).await;
    let expected = perms(&[
        "pos:sales:create",
        "pos:sales:refund",
        "pos:sessions:manage",
        "stock:inventory:view",
    ]);
    assert_eq!(next.user.permissions, expected);
    let keys = served_keys(&s.server).await;
    let claims = verify_access_token(&next.access_token, &keys, now(&s.server)).unwrap();
    assert_eq!(claims.perms, expected);
    let grant = verify_offline_grant(&next.offline_grant, &keys, now(&s.server)).unwrap();
    assert_eq!(grant.perms, expected, "the grant follows the new role too");
}

#[tokio::test]
async fn a_disabled_users_refresh_is_refused() {
    let s = signed_in("Cashier").await;
    let user = s.user.to_string();
    query(&s.server, move |c| {
        c.execute("UPDATE users SET disabled = 1 WHERE id = ?1", [&user])
    })
    .await;
    assert_refresh_refused(refresh(&s.server, &s.tokens.refresh_token, s.device).await).await;
    // The family is gone, not merely paused: re-enabling does not bring it back.
    let user = s.user.to_string();
    query(&s.server, move |c| {
        c.execute("UPDATE users SET disabled = 0 WHERE id = ?1", [&user])
    })
    .await;
    assert_refresh_refused(refresh(&s.server, &s.tokens.refresh_token, s.device).await).await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_family() {
    let s = signed_in("Cashier").await;
    let next = refreshed(&s.server, &s.tokens.refresh_token, s.device).await;
    let response = logout(&s.server, &next.refresh_token).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_refresh_refused(refresh(&s.server, &next.refresh_token, s.device).await).await;
    assert_eq!(audit_count(&s.server, "logged_out").await, 1);
}

#[tokio::test]
async fn logout_with_an_unknown_token_still_answers_204() {
    let server = spawn_server().await;
    let random = URL_SAFE_NO_PAD.encode(uuid::Uuid::now_v7().as_bytes().repeat(2));
    for token in ["not-a-token", random.as_str(), ""] {
        let response = logout(&server, token).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{token:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Signing-key rotation

#[tokio::test]
async fn a_token_signed_before_a_key_rotation_still_verifies() {
    let s = signed_in("Cashier").await;
    let new_kid = rotate_signing_key(&s.server).await;
    assert_ne!(segment(&s.tokens.access_token, 0)["kid"], json!(new_kid));
    assert_token_accepted(&s.server, &s.tokens.access_token).await;
}

#[tokio::test]
async fn after_a_rotation_the_jwks_lists_both_keys_and_logins_use_the_new_one() {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    server
        .create_user(&org, "cashier", "Cashier", PASSWORD)
        .await;
    let old_kid = server.identity.keys.current().kid.clone();
    let new_kid = rotate_signing_key(&server).await;
    assert_ne!(old_kid, new_kid);

    let mut kids: Vec<String> = served_jwks(&server)
        .await
        .keys
        .into_iter()
        .map(|k| k.kid)
        .collect();
    kids.sort();
    let mut expected = vec![old_kid, new_kid.clone()];
    expected.sort();
    assert_eq!(kids, expected);

    let tokens = server.login("cashier", PASSWORD, new_device()).await;
    assert_eq!(segment(&tokens.access_token, 0)["kid"], json!(new_kid));
    assert_eq!(segment(&tokens.offline_grant, 0)["kid"], json!(new_kid));
    let keys = served_keys(&server).await;
    assert!(verify_access_token(&tokens.access_token, &keys, now(&server)).is_ok());
}

#[tokio::test]
async fn a_retired_key_is_dropped_once_its_verify_until_has_passed() {
    let server = spawn_server().await;
    let old = server.identity.keys.current();
    let new_kid = rotate_signing_key(&server).await;
    // Retired, the old key still verifies what it signed...
    let token = old.sign(ACCESS_TOKEN_TYP, &access_claims(&server));
    assert_token_accepted(&server, &token).await;

    // A 7-day grant it signed just before retiring is still verifiable when the grant ends.
    server.clock.advance(7 * DAY + 30);
    server.identity.keys.reload().await.unwrap();
    assert_eq!(
        served_jwks(&server).await.keys.len(),
        2,
        "kept through the longest token's life"
    );

    server
        .clock
        .advance(RETIRED_KEY_VERIFIES_SECS - (7 * DAY + 30) + 1);
    server.identity.keys.reload().await.unwrap();
    let kids: Vec<String> = served_jwks(&server)
        .await
        .keys
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, [new_kid]);
    // ...until its verify_until: then not even a fresh token it signs is accepted.
    let token = old.sign(ACCESS_TOKEN_TYP, &access_claims(&server));
    assert_token_refused(&server, &token).await;
}

// ---------------------------------------------------------------------------------------------
// Offline grant

#[tokio::test]
async fn the_offline_grant_is_bound_to_the_user_device_and_organisation() {
    let s = signed_in("Cashier").await;
    let grant = &s.tokens.offline_grant;
    let header = segment(grant, 0);
    assert_eq!(header["typ"], OFFLINE_GRANT_TYP);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], json!(s.server.identity.keys.current().kid));

    let keys = served_keys(&s.server).await;
    let claims = verify_offline_grant(grant, &keys, now(&s.server))
        .expect("the grant verifies with the served JWKS");
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, GRANT_AUDIENCE);
    assert_eq!(claims.sub, s.user);
    assert_eq!(claims.org, s.org.id);
    assert_eq!(claims.device, s.device);
    assert_eq!(claims.role, "Cashier");
    // Cashier ∩ offline set: a cashier cannot refund or discount online, so not offline either.
    assert_eq!(claims.perms, perms(CASHIER_PERMISSIONS));
    let usd = claims
        .limits
        .get(&CurrencyCode::parse("USD").unwrap())
        .expect("limits in the base currency");
    assert!(usd.max_sale > 0 && usd.max_sale <= usd.max_offline_total && usd.max_discount >= 0);
    assert_eq!(claims.nbf, claims.iat);
    assert_eq!(claims.exp, claims.iat + 72 * 3600);
    assert!(
        verify_access_token(grant, &keys, now(&s.server)).is_err(),
        "a grant is never an access token"
    );

    let jti = claims.jti.clone();
    let (user, device, org, issued): (String, String, String, i64) = query(&s.server, move |c| {
        c.query_row(
            "SELECT user_id, device_id, org_id, COUNT(*) OVER ()
                   FROM offline_grants WHERE jti = ?1",
            [&jti],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
    })
    .await;
    assert_eq!(issued, 1);
    assert_eq!(user, s.user.to_string());
    assert_eq!(device, s.device.to_string());
    assert_eq!(org, s.org.id.to_string());
}

#[tokio::test]
async fn a_super_administrators_offline_grant_holds_only_the_offline_set() {
    let s = signed_in("Super Administrator").await;
    assert_eq!(s.tokens.user.permissions, perms(&["*:*:*"]));
    let claims = verify_offline_grant(
        &s.tokens.offline_grant,
        &served_keys(&s.server).await,
        now(&s.server),
    )
    .unwrap();
    assert_eq!(claims.perms, perms(OFFLINE_SET));
    assert!(claims
        .perms
        .iter()
        .all(|p| !p.as_str().starts_with("admin:") && !p.as_str().contains('*')));
}

// ---------------------------------------------------------------------------------------------
// Rate limits on guessing

#[tokio::test]
async fn after_five_wrong_passwords_the_next_sign_in_is_rate_limited_even_with_the_right_one() {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    server.create_user(&org, "alice", "Cashier", PASSWORD).await;
    let device = new_device();
    for _ in 0..5 {
        let response = login_attempt(&server, "alice", "guess", device).await;
        assert_error(response, 401, ErrorCode::Unauthenticated).await;
    }
    let response = login_attempt(&server, "alice", PASSWORD, device).await;
    let retry_after: u64 = response
        .headers()
        .get(RETRY_AFTER)
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("seconds");
    assert!(retry_after >= 1);
    assert_error(response, 429, ErrorCode::RateLimited).await;
    assert_eq!(audit_count(&server, "login_failed").await, 5);
    assert_eq!(audit_count(&server, "login_locked_out").await, 1);
}

#[tokio::test]
async fn padding_or_recasing_a_username_buys_no_extra_guesses() {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    server.create_user(&org, "alice", "Cashier", PASSWORD).await;
    let device = new_device();
    for name in ["alice", " alice", "ALICE", "alice ", "\tAlice\n"] {
        let response = login_attempt(&server, name, "guess", device).await;
        assert_error(response, 401, ErrorCode::Unauthenticated).await;
    }
    let response = login_attempt(&server, "alice", PASSWORD, device).await;
    assert_error(response, 429, ErrorCode::RateLimited).await;
}

#[tokio::test]
async fn another_account_from_the_same_address_is_unaffected_until_the_address_limit() {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    server.create_user(&org, "alice", "Cashier", PASSWORD).await;
    server.create_user(&org, "bob", "Cashier", PASSWORD).await;
    let device = new_device();
    for _ in 0..5 {
        assert_eq!(
            login_attempt(&server, "alice", "guess", device)
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        login_attempt(&server, "alice", PASSWORD, device)
            .await
            .status(),
        429
    );
    assert_eq!(
        login_attempt(&server, "bob", PASSWORD, device)
            .await
            .status(),
        200
    );
    // 19 failures from this address so far after these; still under the limit of 20.
    for i in 0..14 {
        let name = format!("nobody-{i}");
        assert_eq!(
            login_attempt(&server, &name, "guess", device)
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        login_attempt(&server, "bob", PASSWORD, device)
            .await
            .status(),
        200
    );
    // The 20th failure locks the address, for every account.
    assert_eq!(
        login_attempt(&server, "nobody-else", "guess", device)
            .await
            .status(),
        401
    );
    let response = login_attempt(&server, "bob", PASSWORD, device).await;
    assert!(response.headers().contains_key(RETRY_AFTER));
    assert_error(response, 429, ErrorCode::RateLimited).await;
}

// ---------------------------------------------------------------------------------------------
// Bad input at the boundary

async fn post_raw(server: &TestServer, content_type: Option<&str>, body: String) -> Response {
    let mut request = Client::new()
        .post(server.at("api/v1/auth/login"))
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    request.send().await.expect("the server answers")
}

fn login_body(username: &str, password: &str, device_id: &str) -> Value {
    json!({"username": username, "password": password, "device_id": device_id})
}

#[tokio::test]
async fn malformed_json_is_400_bad_request() {
    let server = spawn_server().await;
    let response = post_raw(
        &server,
        Some("application/json"),
        r#"{"username": "alice", "password": "#.into(),
    )
    .await;
    assert_error(response, 400, ErrorCode::BadRequest).await;
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_422_unprocessable() {
    let server = spawn_server().await;
    for body in [
        json!({"username": 42, "password": "x", "device_id": new_device()}),
        json!({"username": "alice"}),
        json!(["alice", "x"]),
    ] {
        let response = post_json(&server, "api/v1/auth/login", &body).await;
        assert_error(response, 422, ErrorCode::Unprocessable).await;
    }
}

#[tokio::test]
async fn unknown_fields_are_422_unprocessable() {
    let server = spawn_server().await;
    let mut body = login_body("alice", "x", &new_device().to_string());
    body["organisation_id"] = json!(uuid::Uuid::now_v7());
    let response = post_json(&server, "api/v1/auth/login", &body).await;
    assert_error(response, 422, ErrorCode::Unprocessable).await;
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_415() {
    let server = spawn_server().await;
    let body = login_body("alice", "x", &new_device().to_string()).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let response = post_raw(&server, content_type, body.clone()).await;
        assert_error(response, 415, ErrorCode::UnsupportedMediaType).await;
    }
}

#[tokio::test]
async fn a_body_over_2_mib_is_413_payload_too_large() {
    let server = spawn_server().await;
    let huge = "a".repeat(2 * 1024 * 1024 + 1);
    let body = login_body(&huge, "x", &new_device().to_string()).to_string();
    let response = post_raw(&server, Some("application/json"), body).await;
    assert_error(response, 413, ErrorCode::PayloadTooLarge).await;
}

#[tokio::test]
async fn a_10000_character_username_is_422() {
    let server = spawn_server().await;
    let body = login_body(&"a".repeat(10_000), "x", &new_device().to_string());
    let response = post_json(&server, "api/v1/auth/login", &body).await;
    assert_error(response, 422, ErrorCode::Unprocessable).await;
}

#[tokio::test]
async fn an_empty_password_is_422() {
    let server = spawn_server().await;
    let body = login_body("alice", "", &new_device().to_string());
    let response = post_json(&server, "api/v1/auth/login", &body).await;
    assert_error(response, 422, ErrorCode::Unprocessable).await;
}

#[tokio::test]
async fn a_device_id_that_is_not_a_uuid_is_422() {
    let server = spawn_server().await;
    for device_id in ["till-1", "", "00000000-0000-0000-0000-00000000000g"] {
        let body = login_body("alice", "x", device_id);
        let response = post_json(&server, "api/v1/auth/login", &body).await;
        assert_error(response, 422, ErrorCode::Unprocessable).await;
    }
}

#[tokio::test]
async fn an_unknown_path_is_a_json_404() {
    let server = spawn_server().await;
    let response = reqwest::get(server.at("api/v1/no-such-thing"))
        .await
        .unwrap();
    assert!(response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|t| t.to_str().unwrap().starts_with("application/json")));
    let body = assert_error(response, 404, ErrorCode::NotFound).await;
    assert_eq!(body.error.message, "no such endpoint");
}

// ---------------------------------------------------------------------------------------------
// Password hashes

#[tokio::test]
async fn a_weaker_password_hash_is_upgraded_at_login() {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    let user = server
        .create_user(&org, "legacy", "Cashier", PASSWORD)
        .await;
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(4096, 1, 1, None).unwrap(),
    )
    .hash_password(
        PASSWORD.as_bytes(),
        &SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap(),
    )
    .unwrap()
    .to_string();
    assert!(weak.starts_with("$argon2id$v=19$m=4096,t=1,p=1$"));
    let stored = weak.clone();
    let id = user.to_string();
    query(&server, move |c| {
        c.execute(
            "UPDATE users SET password_hash = ?1 WHERE id = ?2",
            [&stored, &id],
        )
    })
    .await;

    server.login("legacy", PASSWORD, new_device()).await;
    let id = user.to_string();
    let upgraded: String = query(&server, move |c| {
        c.query_row(
            "SELECT password_hash FROM users WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
    })
    .await;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{upgraded}"
    );
    // The new hash is of the same password.
    server.login("legacy", PASSWORD, new_device()).await;
}

// ---------------------------------------------------------------------------------------------
// The API document

async fn openapi(server: &TestServer) -> Value {
    let response = reqwest::get(server.at("api/v1/openapi.json"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_openapi_document_lists_the_identity_endpoints() {
    let server = spawn_server().await;
    let doc = openapi(&server).await;
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/healthz", "get"),
        ("/.well-known/jwks.json", "get"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not in the API document"
        );
    }
}

#[tokio::test]
async fn every_path_in_the_openapi_document_is_served() {
    let server = spawn_server().await;
    let doc = openapi(&server).await;
    let paths = doc["paths"].as_object().expect("paths");
    let client = Client::new();
    let mut checked = 0;
    for (path, item) in paths {
        let concrete: String = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    uuid::Uuid::now_v7().to_string()
                } else {
                    segment.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let url = server.at(&concrete);
            let request = match method {
                "get" => client.get(&url),
                "post" => client.post(&url).json(&json!({})),
                "put" => client.put(&url).json(&json!({})),
                "patch" => client.patch(&url).json(&json!({})),
                _ => client.delete(&url),
            };
            let response = request.send().await.expect("the server answers");
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{method} {path} is documented but not served");
            let fallback = status == 404
                && serde_json::from_str::<ErrorBody>(&body)
                    .is_ok_and(|b| b.error.message == "no such endpoint");
            assert!(!fallback, "{method} {path} is documented but not served");
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} operations documented");
}
