//! Identity over real HTTP (ARCHITECTURE.md §2–3, RFC 8725, RFC 9700): sign-in and its
//! answer, every way an access token can be wrong, refresh-token rotation, reuse detection
//! and expiry, sign-out, signing-key rotation, the offline grant, rate limits on guessing,
//! bad input at the boundary, password-hash upgrades and the API document.
//!
//! Every test starts its own server (`spawn_server()`) and speaks HTTP to it; each refusal is
//! its own test, and each forged-token test first shows that the same token, unforged, is
//! accepted — so a refusal is always for the reason the test names. Each behaviour is a
//! module below; this one holds what they share.

mod access_tokens;
mod api_document;
mod bad_input;
mod device_proof;
mod guessing_limits;
mod instances;
mod key_rotation;
mod offline_grant;
mod password_hashes;
mod refresh_tokens;
mod sign_in;
mod tokens_that_end_early;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::WWW_AUTHENTICATE;
use reqwest::{Client, Response};
use serde_json::{json, Value};
use tillpoint_protocol::auth::{AccessClaims, TokenResponse, UserInfo, ACCESS_AUDIENCE, ISSUER};
use tillpoint_protocol::token::{Jwks, PublicKeys};
use tillpoint_protocol::{DeviceId, ErrorBody, ErrorCode, OrgId, Permission, RoleId, UserId};
use tillpoint_server::identity::keys;
use tillpoint_server::store::DbError;
use tillpoint_server::testing::{new_device, spawn_server, TestOrg, TestServer};

/// Offline grants neither revoked nor superseded.
async fn live_grants(server: &TestServer) -> i64 {
    query(server, |c| {
        c.query_row(
            "SELECT COUNT(*) FROM offline_grants WHERE revoked_at IS NULL AND superseded_at IS NULL",
            (),
            |r| r.get(0),
        )
    })
    .await
}

async fn audit_rows(server: &TestServer) -> i64 {
    query(server, |c| {
        c.query_row("SELECT COUNT(*) FROM audit_log", (), |r| r.get(0))
    })
    .await
}

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
        dev: DeviceId::from_uuid(uuid::Uuid::now_v7()),
        iat,
        iat_ms: iat * 1000,
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
    mut work: impl FnMut(&tillpoint_server::store::Connection) -> rusqlite::Result<T> + Send + 'static,
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
