//! Signing in: the documented token response, an access token the served JWKS verifies
//! with every claim, and the same answer for an unknown user, a wrong password and a
//! disabled account.

use super::{
    assert_token_accepted, audit_count, login_attempt, now, perms, query, segment, served_jwks,
    served_keys, signed_in, CASHIER_PERMISSIONS, PASSWORD,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use tillpoint_protocol::auth::{
    TokenResponse, UserInfo, ACCESS_AUDIENCE, ACCESS_TOKEN_TYP, ISSUER,
};
use tillpoint_protocol::token::verify_access_token;
use tillpoint_server::testing::{new_device, spawn_server};

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
    assert_eq!(claims.dev, s.device);
    assert!((claims.iat - issued).abs() <= 5, "iat {}", claims.iat);
    assert_eq!(claims.iat_ms / 1000, claims.iat);
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
            "aud", "dev", "email", "exp", "iat", "iat_ms", "iss", "jti", "name", "nbf", "org",
            "perms", "role", "sub"
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
