//! Access tokens at `/me`: every way a bearer token can be wrong (scheme, alg, key, kid, iss,
//! aud, typ, times, one flipped byte) is refused, each forged token having first been shown
//! accepted unforged.

use super::{
    access_claims, assert_error, assert_token_accepted, assert_token_refused, b64, foreign_key,
    now, served_jwks, server_signed, signed_by, signed_in,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::header::WWW_AUTHENTICATE;
use reqwest::Client;
use serde_json::{json, Value};
use tillpoint_protocol::auth::{ACCESS_TOKEN_TYP, GRANT_AUDIENCE, OFFLINE_GRANT_TYP};
use tillpoint_protocol::ErrorCode;
use tillpoint_server::testing::spawn_server;

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
