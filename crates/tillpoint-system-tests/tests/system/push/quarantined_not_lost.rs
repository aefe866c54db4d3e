//! Quarantined, not lost: records the server cannot accept as they are (a creator of another
//! organisation, a forged, foreign or expired grant, a time outside the grant on the server's
//! clock, sales beyond the grant's limits) are kept for a manager, never dropped.

use super::{
    another_sale_like, batch, device_key, device_of, edit_payload, go_offline, journal, push_ok,
    records_on_server, relink, sales_on_server, sell, server_scalar, shop, Shop, PASSWORD,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::Value;
use tillpoint_protocol::auth::LoginRequest;
use tillpoint_protocol::journal::GENESIS_HASH;
use tillpoint_protocol::sync::Outcome;
use tillpoint_protocol::DeviceId;
use tillpoint_system_tests::sync::{outcomes, reason};
use tillpoint_system_tests::{new_device, TestServer};

#[tokio::test]
async fn a_creator_of_another_organisation_is_quarantined_not_lost() {
    let shop = shop().await;
    let other = shop.server.create_organisation("Elsewhere").await;
    let outsider = shop
        .server
        .create_user(&other, "mallory", "Cashier", "mallory-password-1")
        .await;
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    let mut records = journal(&shop.till);
    records[1].creator_id = outsider;
    relink(&mut records, GENESIS_HASH);
    let token = shop.token().await;
    let answer = push_ok(&shop.server, &token, &batch(&shop.till, records)).await;
    assert_eq!(
        outcomes(&answer),
        [Outcome::Accepted, Outcome::Quarantined, Outcome::Accepted],
        "{answer:?}"
    );
    assert!(reason(&answer, 1).contains("not a user of this organisation"));
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 3);
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 1);
}

#[tokio::test]
async fn forged_foreign_and_expired_grants_are_quarantined_not_lost() {
    let shop = shop().await;
    // rudo's grant on this device, and tendai's grant on another device.
    shop.server
        .create_user(&shop.org, "rudo", "Cashier", "rudo-password-1")
        .await;
    let device = device_of(&shop.till);
    let rudo_grant = shop.server.login("rudo", "rudo-password-1", device).await;
    let elsewhere = shop.server.login("tendai", PASSWORD, new_device()).await;
    let jti_of = |grant: &str| -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(grant.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        claims["jti"].as_str().unwrap().to_owned()
    };
    let foreign_user = jti_of(&rudo_grant.offline_grant);
    let foreign_device = jti_of(&elsewhere.offline_grant);

    go_offline(&shop.till, "tendai", PASSWORD).await;
    for _ in 0..5 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    let mut records = journal(&shop.till);
    records[1].grant_jti = Some("forged-jti".into());
    records[2].grant_jti = Some(foreign_user);
    records[3].grant_jti = Some(foreign_device);
    // The last sale dated after the grant's end (a record after it dated back again would be
    // quarantined as running backwards in time).
    let after_expiry = chrono::Utc::now() + chrono::Duration::hours(80);
    records[5].created_at = after_expiry.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    relink(&mut records, GENESIS_HASH);
    let token = shop.token().await;
    let answer = push_ok(&shop.server, &token, &batch(&shop.till, records)).await;
    assert_eq!(
        outcomes(&answer),
        [
            Outcome::Accepted,
            Outcome::Quarantined,
            Outcome::Quarantined,
            Outcome::Quarantined,
            Outcome::Accepted,
            Outcome::Quarantined,
        ],
        "{answer:?}"
    );
    assert!(reason(&answer, 1).contains("unknown grant"), "{answer:?}");
    assert!(reason(&answer, 2).contains("another user"), "{answer:?}");
    assert!(reason(&answer, 3).contains("another device"), "{answer:?}");
    assert!(reason(&answer, 5).contains("expired"), "{answer:?}");
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 6);
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 1);
    // Still held, and counted as under review.
    let under_review = server_scalar(
        &shop.server,
        "SELECT COUNT(*) FROM sync_records WHERE org_id = ?1 AND status = 'quarantined'",
        shop.org.id.to_string(),
    )
    .await;
    assert_eq!(under_review, 4);
}

/// The device's clock offset as the server recorded it, if it has one.
async fn clock_offset(server: &TestServer, device: DeviceId) -> Option<i64> {
    let measured = server_scalar(
        server,
        "SELECT COUNT(*) FROM devices WHERE id = ?1 AND clock_offset_secs IS NOT NULL
            AND clock_measured_at IS NOT NULL",
        device.to_string(),
    )
    .await;
    if measured == 0 {
        return None;
    }
    Some(
        server_scalar(
            server,
            "SELECT clock_offset_secs FROM devices WHERE id = ?1",
            device.to_string(),
        )
        .await,
    )
}

/// A sign-in of `user` on the till's device, proving its key, claiming the till's clock
/// reads `device_time`.
async fn login_at(shop: &Shop, user: &str, password: &str, device_time: i64) {
    use ed25519_dalek::Signer as _;
    let (device, key) = (device_of(&shop.till), device_key(&shop.till));
    let proof = key.sign(&tillpoint_protocol::auth::sign_in_proof_message(
        user,
        device,
        Some(device_time),
    ));
    let response = reqwest::Client::new()
        .post(shop.server.at("api/v1/auth/login"))
        .json(&LoginRequest {
            username: user.into(),
            password: password.into(),
            device_id: device,
            device_key: Some(STANDARD.encode(key.verifying_key().to_bytes())),
            device_time: Some(device_time),
            device_proof: Some(STANDARD.encode(proof.to_bytes())),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn offline_records_are_judged_on_the_servers_clock_by_the_offset_measured_at_sign_in() {
    let shop = shop().await;
    let device = device_of(&shop.till);
    // The till's own sign-in sent its clock: about the server's.
    let measured = clock_offset(&shop.server, device).await.expect("measured");
    assert!(measured.abs() <= 2, "{measured}");
    // The till's clock is two hours behind.
    let now = chrono::Utc::now().timestamp();
    login_at(&shop, "tendai", PASSWORD, now - 7200).await;
    let measured = clock_offset(&shop.server, device).await.expect("measured");
    assert!((7199..=7201).contains(&measured), "{measured}");
    // An absurd time, or none (an older till), changes nothing.
    login_at(&shop, "tendai", PASSWORD, now - 2 * 366 * 24 * 3600).await;
    let token = shop.token().await;
    assert_eq!(clock_offset(&shop.server, device).await, Some(measured));

    go_offline(&shop.till, "tendai", PASSWORD).await;
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    let mut records = journal(&shop.till);
    let jti = records[1].grant_jti.clone().expect("an offline sale");
    let claims: String = shop
        .server
        .db
        .call(
            move |conn| -> Result<String, tillpoint_server::store::DbError> {
                Ok(conn.query_row(
                    "SELECT claims FROM offline_grants WHERE jti = ?1",
                    [&jti],
                    |r| r.get(0),
                )?)
            },
        )
        .await
        .unwrap();
    let exp = serde_json::from_str::<Value>(&claims).unwrap()["exp"]
        .as_i64()
        .expect("the grant's expiry");
    let on_device_clock = |secs: i64| {
        chrono::DateTime::from_timestamp(secs - 7200, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    // The till opened a moment earlier, by the same slow clock (and after its sign-in: a
    // record made online must fall inside a sign-in of its creator on the device).
    records[0].created_at = on_device_clock(now - 1);
    // Made now, by a clock reading two hours ago: before the grant on the till's own time,
    // inside it on the server's.
    records[1].created_at = on_device_clock(now);
    // Made ten minutes after the grant expired, by a clock reading 1 h 50 min before then.
    records[2].created_at = on_device_clock(exp + 600);
    relink(&mut records, GENESIS_HASH);
    let answer = push_ok(&shop.server, &token, &batch(&shop.till, records)).await;
    assert_eq!(
        outcomes(&answer),
        [Outcome::Accepted, Outcome::Accepted, Outcome::Quarantined],
        "{answer:?}"
    );
    assert!(reason(&answer, 2).contains("expired"), "{answer:?}");
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 1);
}

#[tokio::test]
async fn sales_beyond_the_grants_limits_are_quarantined_not_lost() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    // Ten sales of 500.00 use the grant's 5,000.00 offline total exactly.
    for _ in 0..10 {
        sell(&shop.till, &shop.catalog.tv, "2", "500.00").await;
    }
    let mut records = journal(&shop.till);
    let template = records[1].clone();
    // A tampered till goes on selling: one more 500.00, and one single sale of 600.00.
    let over_total = another_sale_like(&template, 12);
    let mut too_big = another_sale_like(&template, 13);
    edit_payload(&mut too_big, |p| p["total_minor"] = Value::from(60_000));
    records.push(over_total);
    records.push(too_big);
    relink(&mut records, GENESIS_HASH);
    let token = shop.token().await;
    let answer = push_ok(&shop.server, &token, &batch(&shop.till, records)).await;
    let accepted = answer
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Accepted)
        .count();
    assert_eq!(accepted, 11, "the opening and ten sales: {answer:?}");
    assert_eq!(answer.results[11].outcome, Outcome::Quarantined);
    assert!(reason(&answer, 11).contains("offline total"), "{answer:?}");
    assert_eq!(answer.results[12].outcome, Outcome::Quarantined);
    assert!(reason(&answer, 12).contains("largest sale"), "{answer:?}");
    let used = server_scalar(
        &shop.server,
        "SELECT total_minor FROM grant_usage WHERE org_id = ?1",
        shop.org.id.to_string(),
    )
    .await;
    assert_eq!(used, 500_000);
}
