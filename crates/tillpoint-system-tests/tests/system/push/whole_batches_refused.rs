//! Whole batches refused: a record of another organisation, a bad signature, another
//! device's batch, a device without a key or revoked, no token, no sales permission or an
//! oversized batch refuse the batch and store nothing of it.

use super::{
    audit_events, batch, device_key, device_of, journal, login_with_key, push, records_on_server,
    relink, sales_on_server, sell, shop, signed, token_on, Shop, PASSWORD,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use reqwest::StatusCode;
use tillpoint_protocol::journal::{JournalRecord, GENESIS_HASH};
use tillpoint_protocol::sync::{push_signing_bytes, MAX_PUSH_RECORDS, PUSH_PATH};
use tillpoint_system_tests::new_device;

#[tokio::test]
async fn a_record_of_another_organisation_refuses_the_whole_batch() {
    let shop = shop().await;
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    let other = shop.server.create_organisation("Elsewhere").await;
    let mut records = journal(&shop.till);
    records[1].org_id = other.id;
    relink(&mut records, GENESIS_HASH);
    let token = shop.token().await;
    let response = push(&shop.server, &token, &batch(&shop.till, records)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("another organisation"));
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 0);
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 0);
    assert_eq!(audit_events(&shop.server, "push_refused").await, 1);
}

#[tokio::test]
async fn a_bad_signature_or_another_devices_batch_is_refused() {
    let shop = shop().await;
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    let records = journal(&shop.till);
    let token = shop.token().await;
    let device = device_of(&shop.till);

    let stranger = SigningKey::from_bytes(&[7; 32]);
    let forged = signed(device, &stranger, records.clone());
    let response = push(&shop.server, &token, &forged).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The right key over another hash.
    let mut wrong_hash = batch(&shop.till, records.clone());
    wrong_hash.signature = STANDARD.encode(
        device_key(&shop.till)
            .sign(&push_signing_bytes(
                shop.org.id,
                device,
                records[0].seq,
                records[records.len() - 1].seq,
                &records[0].hash,
            ))
            .to_bytes(),
    );
    assert_eq!(
        push(&shop.server, &token, &wrong_hash).await.status(),
        StatusCode::FORBIDDEN
    );
    let mut garbage = batch(&shop.till, records.clone());
    garbage.signature = "not base64!".into();
    assert_eq!(
        push(&shop.server, &token, &garbage).await.status(),
        StatusCode::FORBIDDEN
    );

    // Records of this device sent as another (known, keyed) device's batch.
    let other = new_device();
    let other_key = SigningKey::from_bytes(&[9; 32]);
    login_with_key(&shop.server, "tendai", PASSWORD, other, &other_key).await;
    let response = push(&shop.server, &token, &signed(other, &other_key, records)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("another device"));

    assert_eq!(records_on_server(&shop.server, &shop.org).await, 0);
    assert_eq!(audit_events(&shop.server, "push_refused").await, 4);
}

#[tokio::test]
async fn a_device_without_a_key_or_a_revoked_device_cannot_push() {
    let shop = shop().await;
    // An old client: signed in without a key. Allowed, but it cannot push.
    let device = new_device();
    let token = token_on(&shop.server, "tendai", PASSWORD, device).await;
    let key = SigningKey::from_bytes(&[5; 32]);
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    let mut records = journal(&shop.till);
    for r in &mut records {
        r.device_id = device;
    }
    relink(&mut records, GENESIS_HASH);
    let response = push(&shop.server, &token, &signed(device, &key, records)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("no key"));

    // A revoked device.
    let admin = shop.admin_token().await;
    let revoked = reqwest::Client::new()
        .post(shop.server.at(&format!(
            "api/v1/admin/devices/{}/revoke",
            device_of(&shop.till)
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let token = shop.token_after_revocation().await;
    let response = push(
        &shop.server,
        &token,
        &batch(&shop.till, journal(&shop.till)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("revoked"));
}

impl Shop {
    /// An access token for the cashier from another device (this till's is revoked).
    async fn token_after_revocation(&self) -> String {
        token_on(&self.server, "tendai", PASSWORD, new_device()).await
    }
}

#[tokio::test]
async fn pushing_needs_a_token_the_sales_permission_and_a_bounded_batch() {
    let shop = shop().await;
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    let records = journal(&shop.till);
    let request = batch(&shop.till, records.clone());
    let unauthenticated = reqwest::Client::new()
        .post(shop.server.at(PUSH_PATH))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    // A Stock Manager does not sell.
    shop.server
        .create_user(&shop.org, "farai", "Stock Manager", "stock-password-1")
        .await;
    let stock = token_on(&shop.server, "farai", "stock-password-1", new_device()).await;
    assert_eq!(
        push(&shop.server, &stock, &request).await.status(),
        StatusCode::FORBIDDEN
    );

    let token = shop.token().await;
    let too_many: Vec<JournalRecord> = (0..=MAX_PUSH_RECORDS).map(|_| records[1].clone()).collect();
    let response = push(&shop.server, &token, &batch(&shop.till, too_many)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let empty = push(&shop.server, &token, &batch(&shop.till, Vec::new())).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 0);
}
