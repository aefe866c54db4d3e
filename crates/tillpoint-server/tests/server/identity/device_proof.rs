//! A sign-in measures its device's clock only when it proves it holds the device's key: the
//! device id and public key are no secret, so without the proof anyone in the organisation
//! could reset another till's clock offset (issue 17, low).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::json;
use tillpoint_protocol::auth::sign_in_proof_message;
use tillpoint_protocol::DeviceId;
use tillpoint_server::testing::{new_device, spawn_server, TestServer};

use super::{post_json, query, PASSWORD};

/// Signs in `username` on `device` presenting `key`'s public half, claiming the till's
/// clock reads `device_time`, with `proof` (standard base64) if given.
async fn sign_in(
    server: &TestServer,
    username: &str,
    device: DeviceId,
    key: &SigningKey,
    device_time: i64,
    proof: Option<String>,
) {
    let mut body = json!({
        "username": username, "password": PASSWORD, "device_id": device,
        "device_key": STANDARD.encode(key.verifying_key().to_bytes()),
        "device_time": device_time,
    });
    if let Some(proof) = proof {
        body["device_proof"] = json!(proof);
    }
    let response = post_json(server, "api/v1/auth/login", &body).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

fn proof(key: &SigningKey, username: &str, device: DeviceId, device_time: i64) -> String {
    let message = sign_in_proof_message(username, device, Some(device_time));
    STANDARD.encode(key.sign(&message).to_bytes())
}

async fn clock_offset(server: &TestServer, device: DeviceId) -> Option<i64> {
    query(server, move |c| {
        c.query_row(
            "SELECT clock_offset_secs FROM devices WHERE id = ?1",
            [device.to_string()],
            |r| r.get(0),
        )
    })
    .await
}

#[tokio::test]
async fn only_a_sign_in_proving_the_device_key_sets_the_devices_clock_offset() {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    server
        .create_user(&org, "till-owner", "Cashier", PASSWORD)
        .await;
    server
        .create_user(&org, "colleague", "Cashier", PASSWORD)
        .await;
    let (device, key) = (new_device(), SigningKey::from_bytes(&[3u8; 32]));
    let now = server.clock.now().timestamp();

    let at = now - 7200;
    sign_in(
        &server,
        "till-owner",
        device,
        &key,
        at,
        Some(proof(&key, "till-owner", device, at)),
    )
    .await;
    let measured = clock_offset(&server, device).await.expect("measured");
    assert!((7199..=7201).contains(&measured), "{measured}");

    // A colleague presents the till's id and public key with a made-up time: without a
    // proof, with one by another key, or with the owner's proof replayed, nothing moves.
    let forged_at = now - 90_000;
    let other_key = SigningKey::from_bytes(&[4u8; 32]);
    for attempt in [
        None,
        Some(proof(&other_key, "colleague", device, forged_at)),
        Some(proof(&key, "till-owner", device, at)),
        Some("not a signature".into()),
    ] {
        sign_in(&server, "colleague", device, &key, forged_at, attempt).await;
        assert_eq!(clock_offset(&server, device).await, Some(measured));
    }
}
