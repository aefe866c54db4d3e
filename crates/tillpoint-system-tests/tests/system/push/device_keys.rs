//! Device keys at sign-in: a device's key, once registered, cannot be replaced by the next
//! sign-in, and a malformed key is refused.

use super::{
    audit_events, device_key, device_of, journal, login_with_key, push, sell, shop, signed,
    PASSWORD,
};
use ed25519_dalek::SigningKey;
use reqwest::StatusCode;
use tillpoint_protocol::auth::LoginRequest;

#[tokio::test]
async fn a_device_cannot_be_re_keyed_at_sign_in() {
    let shop = shop().await;
    let device = device_of(&shop.till);
    let own = device_key(&shop.till);
    // The till's own key again: fine.
    let same = login_with_key(&shop.server, "tendai", PASSWORD, device, &own).await;
    assert_eq!(same.status(), StatusCode::OK);
    // A thief with the device id and another key: refused, and logged.
    let thief = SigningKey::from_bytes(&[3; 32]);
    let refused = login_with_key(&shop.server, "tendai", PASSWORD, device, &thief).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(audit_events(&shop.server, "device_key_mismatch").await, 1);
    // The thief's key does not sign batches for the device either.
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    let token = shop.token().await;
    let response = push(
        &shop.server,
        &token,
        &signed(device, &thief, journal(&shop.till)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // A malformed key is the client's mistake.
    let malformed = reqwest::Client::new()
        .post(shop.server.at("api/v1/auth/login"))
        .json(&LoginRequest {
            username: "tendai".into(),
            password: PASSWORD.into(),
            device_id: device,
            device_key: Some("c2hvcnQ=".into()),
            device_time: None,
            device_proof: None,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
