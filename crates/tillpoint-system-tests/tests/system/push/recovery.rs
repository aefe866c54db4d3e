//! Recovering a till whose chain on the server was damaged: an administrator re-bases the
//! server's copy of the device's chain onto a record of that device it holds, after which the
//! till's records flow again and the ones quarantined meanwhile are released one by one.

use super::managers_settle_quarantine::{held_ids, release};
use super::{
    audit_events, batch, device_of, journal, push_ok, sales_on_server, sell, server_scalar, shop,
    token_on, Shop,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tillpoint_protocol::sync::Outcome;
use tillpoint_system_tests::new_device;
use tillpoint_system_tests::sync::outcomes;

/// Re-bases the till's device chain onto stored record `record`, as `token`'s holder.
async fn rebase(shop: &Shop, token: &str, body: Value) -> reqwest::Response {
    let device = device_of(&shop.till);
    reqwest::Client::new()
        .post(
            shop.server
                .at(&format!("api/v1/admin/devices/{device}/chain/rebase")),
        )
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Sets the end of the till's chain on the server where a forged record with a huge seq put
/// it before batches had to be intact: every later genuine record is then a fork.
async fn poison_the_chain(shop: &Shop) {
    let (org, device) = (shop.org.id.to_string(), device_of(&shop.till).to_string());
    shop.server
        .db
        .call(
            move |conn| -> Result<(), tillpoint_server::store::DbError> {
                conn.execute(
                    "UPDATE device_chains SET last_seq = 1000000, last_hash = ?3
                  WHERE org_id = ?1 AND device_id = ?2",
                    (org.clone(), device.clone(), "f".repeat(64)),
                )?;
                Ok(())
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_administrator_rebases_a_damaged_chain_and_the_till_flows_again() {
    let shop = shop().await;
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    let summary = shop.till.till.push_outbox(|_| {}).await.unwrap();
    assert_eq!(summary.accepted, 2);

    poison_the_chain(&shop).await;
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    let summary = shop.till.till.push_outbox(|_| {}).await.unwrap();
    assert_eq!(summary.quarantined, 2, "forks: {summary:?}");

    let admin = shop.admin_token().await;
    let held = held_ids(&shop, &admin).await;
    assert_eq!(held.iter().map(|h| h.0).collect::<Vec<_>>(), [3, 4]);
    let last_genuine = held[1].1.clone();

    // Needs admin:devices:manage: a cashier, or an accountant who settles the quarantine, may
    // not; a note is required; the record must be one of this device's.
    let cashier = shop.token().await;
    let body = json!({"record": last_genuine, "note": "seq 1000000 was forged; reviewed"});
    assert_eq!(
        rebase(&shop, &cashier, body.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    shop.server
        .create_user(&shop.org, "nyasha", "Accountant", "nyasha-password-1")
        .await;
    let accountant = token_on(&shop.server, "nyasha", "nyasha-password-1", new_device()).await;
    assert_eq!(
        rebase(&shop, &accountant, body.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    let no_note = rebase(&shop, &admin, json!({"record": last_genuine, "note": " "})).await;
    assert_eq!(no_note.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = json!({"record": uuid::Uuid::now_v7(), "note": "reviewed"});
    assert_eq!(
        rebase(&shop, &admin, unknown).await.status(),
        StatusCode::NOT_FOUND
    );
    // A stored copy whose hash is not its own (as one edited before batches had to be intact
    // could be) is no place for the chain to end.
    let edited = held[0].1.clone();
    server_scalar(
        &shop.server,
        "UPDATE sync_records SET content_hash = 'edited' WHERE id = ?1 RETURNING 0",
        edited.clone(),
    )
    .await;
    let conflict = rebase(&shop, &admin, json!({"record": edited, "note": "reviewed"})).await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    server_scalar(
        &shop.server,
        "UPDATE sync_records SET content_hash = hash WHERE id = ?1 RETURNING 0",
        edited,
    )
    .await;
    assert_eq!(audit_events(&shop.server, "device_chain_rebased").await, 0);

    // The administrator re-bases onto the last record the till sent.
    let rebased = rebase(&shop, &admin, body).await;
    assert_eq!(rebased.status(), StatusCode::OK);
    let end: Value = rebased.json().await.unwrap();
    assert_eq!(end["last_seq"], 4);
    assert_eq!(audit_events(&shop.server, "device_chain_rebased").await, 1);

    // The till's next record follows it.
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    let summary = shop.till.till.push_outbox(|_| {}).await.unwrap();
    assert_eq!(summary.accepted, 1, "{summary:?}");
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 2);

    // The forks held meanwhile are released one by one, and now pass every re-run check.
    for (_, id) in &held {
        let released = release(&shop, id, &admin).await;
        assert_eq!(released.status(), StatusCode::OK);
        let released: Value = released.json().await.unwrap();
        assert_eq!(released["still_failing"], json!([]), "{released}");
    }
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 4);
}

/// A release re-runs the chain's check against what the server holds: a record after one the
/// server never received is released only knowingly.
#[tokio::test]
async fn a_release_says_when_the_record_does_not_link_to_what_the_server_holds() {
    let shop = shop().await;
    for _ in 0..3 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    let records = journal(&shop.till);
    let token = shop.token().await;
    // Record 3 never reaches the server: 4 is quarantined as following a gap.
    push_ok(
        &shop.server,
        &token,
        &batch(&shop.till, records[..2].to_vec()),
    )
    .await;
    let answer = push_ok(
        &shop.server,
        &token,
        &batch(&shop.till, records[3..].to_vec()),
    )
    .await;
    assert_eq!(outcomes(&answer), [Outcome::Quarantined]);
    let admin = shop.admin_token().await;
    let held = held_ids(&shop, &admin).await;
    let released: Value = release(&shop, &held[0].1, &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(released["status"], "released");
    assert_eq!(
        released["still_failing"],
        json!(["broken chain: the server holds no record 3 of this device that it links to"])
    );
}
