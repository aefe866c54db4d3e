//! Signing-key rotation: tokens signed before a rotation still verify, the JWKS lists both
//! keys while sign-ins use the new one, a retired key goes once its verify-until passed, and
//! a revoked key (it may have leaked) goes at once.

use super::{
    access_claims, assert_token_accepted, assert_token_refused, now, refreshed, rotate_signing_key,
    segment, served_jwks, served_keys, signed_in, DAY, PASSWORD,
};
use serde_json::json;
use tillpoint_protocol::auth::ACCESS_TOKEN_TYP;
use tillpoint_protocol::token::verify_access_token;
use tillpoint_server::identity::keys;
use tillpoint_server::identity::keys::RETIRED_KEY_VERIFIES_SECS;
use tillpoint_server::testing::{new_device, spawn_server};

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

#[tokio::test]
async fn a_revoked_key_verifies_nothing_at_once_and_a_new_key_takes_over() {
    let s = signed_in("Cashier").await;
    let leaked = s.server.identity.keys.current().kid.clone();
    assert_token_accepted(&s.server, &s.tokens.access_token).await;
    let master = s.server.identity.keys.master().clone();
    let (at, kid) = (s.server.clock.now(), leaked.clone());
    let revoked = s
        .server
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let revoked = keys::revoke(&tx, &master, &kid, at)?;
            tx.commit()?;
            Ok::<_, keys::KeyError>(revoked)
        })
        .await
        .expect("the key is revoked");
    s.server.identity.keys.reload().await.unwrap();

    assert_token_refused(&s.server, &s.tokens.access_token).await;
    let kids: Vec<String> = served_jwks(&s.server)
        .await
        .keys
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert!(!kids.contains(&leaked), "{kids:?}");
    let new_kid = revoked.new_current.expect("it was current");
    assert_eq!(kids, std::slice::from_ref(&new_kid));
    // The holder refreshes (refresh tokens are not signed) and gets a token of the new key.
    let renewed = refreshed(&s.server, &s.tokens.refresh_token, s.device).await;
    assert_eq!(segment(&renewed.access_token, 0)["kid"], json!(new_kid));
    assert_token_accepted(&s.server, &renewed.access_token).await;
}
