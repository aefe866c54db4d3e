//! The chain: a batch whose records do not form one intact chain (an entry deleted, edited or
//! re-hashed inside it) is refused whole; a hole between batches is a chain error reported
//! once; a conflicting copy is a security event; an unreadable payload is rejected unstored.

use super::{
    audit_events, batch, edit_payload, go_offline, journal, push, push_ok, records_on_server,
    relink, sales_on_server, sell, shop, till_db, PASSWORD,
};
use reqwest::StatusCode;
use serde_json::Value;
use tillpoint_protocol::journal::GENESIS_HASH;
use tillpoint_protocol::sync::Outcome;
use tillpoint_system_tests::sync::{outcomes, reason};

#[tokio::test]
async fn a_deleted_journal_entry_is_a_chain_error_reported_once() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    for _ in 0..4 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    let mut records = journal(&shop.till);
    records.remove(2); // seq 3 deleted
    let token = shop.token().await;
    // With the hole inside the batch, the signature vouches for nothing: refused whole.
    let refused = push(&shop.server, &token, &batch(&shop.till, records.clone())).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("not one intact chain"));
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 0);

    // Each intact stretch signed on its own: the hole is reported once, on the record after
    // it, and the chain continues from there.
    let before = push_ok(
        &shop.server,
        &token,
        &batch(&shop.till, records[..2].to_vec()),
    )
    .await;
    assert_eq!(outcomes(&before), [Outcome::Accepted; 2]);
    let after = push_ok(
        &shop.server,
        &token,
        &batch(&shop.till, records[2..].to_vec()),
    )
    .await;
    assert_eq!(
        outcomes(&after),
        [Outcome::Quarantined, Outcome::Accepted],
        "{after:?}"
    );
    assert!(reason(&after, 0).contains("gap"), "{after:?}");
    // Stored though quarantined.
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 4);
    // Resent: every record is a duplicate, the quarantined one with its reason.
    let again = push_ok(
        &shop.server,
        &token,
        &batch(&shop.till, records[2..].to_vec()),
    )
    .await;
    assert_eq!(outcomes(&again), [Outcome::Duplicate; 2]);
    assert!(reason(&again, 0).contains("gap"));
}

#[tokio::test]
async fn an_edited_journal_entry_refuses_its_batch_and_a_conflicting_copy_is_a_security_event() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    for _ in 0..3 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    let original = journal(&shop.till);
    // Edited in place (the hash left as it was): caught by the record's own hash, and the
    // whole batch is refused.
    let mut edited = original.clone();
    edit_payload(&mut edited[2], |p| p["total_minor"] = Value::from(1));
    let token = shop.token().await;
    let refused = push(&shop.server, &token, &batch(&shop.till, edited)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let text = refused.text().await.unwrap();
    assert!(text.contains("record 3 was edited"), "{text}");
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 0);
    assert_eq!(audit_events(&shop.server, "push_refused").await, 1);

    // The genuine journal is taken whole.
    let answer = push_ok(&shop.server, &token, &batch(&shop.till, original.clone())).await;
    assert_eq!(outcomes(&answer), [Outcome::Accepted; 4]);
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 3);

    // Someone holding the device's key re-hashes and re-signs an edited record 3 on its own:
    // another copy under an id the server holds, a security event, kept apart, never an
    // overwrite of what the server holds.
    let mut copy = original[2..3].to_vec();
    edit_payload(&mut copy[0], |p| p["total_minor"] = Value::from(1));
    copy[0].hash = copy[0].expected_hash();
    let answer = push_ok(&shop.server, &token, &batch(&shop.till, copy)).await;
    assert_eq!(answer.results[0].outcome, Outcome::Quarantined);
    assert!(
        reason(&answer, 0).contains("conflicting copy"),
        "{answer:?}"
    );
    assert_eq!(audit_events(&shop.server, "sync_conflicting_copy").await, 1);
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 5);
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 3);
}

/// Issue 17, hole 1: a record edited and re-hashed inside a signed batch used to be
/// Accepted (only the record after it was quarantined, as a broken link). The batch no longer
/// forms one chain, so its signature vouches for none of it: refused whole, nothing stored.
#[tokio::test]
async fn a_rehashed_edit_breaks_the_link_and_the_whole_batch_is_refused() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    for _ in 0..3 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    let records = journal(&shop.till);
    let genuine = batch(&shop.till, records);
    // The attacker has a signed batch (a captured push, an export file), not the key: the
    // signature is kept.
    let mut forged = genuine.clone();
    edit_payload(&mut forged.records[1], |p| {
        p["total_minor"] = Value::from(1)
    });
    forged.records[1].hash = forged.records[1].expected_hash();
    let token = shop.token().await;
    let response = push(&shop.server, &token, &forged).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let text = response.text().await.unwrap();
    assert!(text.contains("not one intact chain"), "{text}");
    assert!(text.contains("record 3 does not link"), "{text}");
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 0);
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 0);
    assert_eq!(audit_events(&shop.server, "push_refused").await, 1);
    // The till's own push, later, is taken whole.
    let answer = push_ok(&shop.server, &token, &genuine).await;
    assert_eq!(outcomes(&answer), [Outcome::Accepted; 4]);
}

/// The till never signs a batch that is not one intact chain: a record edited in its own
/// database stays on the till (rejected there, with the reason), and the server reports it
/// missing on the record after it; nothing before or after is held up.
#[tokio::test]
async fn a_till_whose_journal_was_edited_goes_on_syncing_around_the_edit() {
    let shop = shop().await;
    for _ in 0..3 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    till_db(&shop.till)
        .execute_batch(
            "DROP TRIGGER journal_no_update;
             UPDATE journal SET payload = json_set(payload, '$.total_minor', 1) WHERE seq = 3;",
        )
        .unwrap();
    let summary = shop.till.till.push_outbox(|_| {}).await.unwrap();
    assert_eq!(
        (summary.accepted, summary.quarantined, summary.rejected),
        (2, 1, 1),
        "{summary:?}"
    );
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 3);
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 1);
    let status = shop.till.till.sync_status().unwrap();
    assert_eq!(status.pending, 0);
    let reasons: Vec<String> = till_db(&shop.till)
        .prepare("SELECT reason FROM outbox WHERE state <> 'synced' ORDER BY journal_seq")
        .unwrap()
        .query_map((), |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(reasons[0].contains("edited on this till"), "{reasons:?}");
    assert!(reasons[1].contains("gap: record 3"), "{reasons:?}");
}

#[tokio::test]
async fn an_unreadable_payload_is_rejected_and_not_stored() {
    let shop = shop().await;
    sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    let mut records = journal(&shop.till);
    records[1].payload = "{\"not\":\"a sale\"}".into();
    relink(&mut records, GENESIS_HASH);
    let token = shop.token().await;
    let answer = push_ok(&shop.server, &token, &batch(&shop.till, records)).await;
    assert_eq!(outcomes(&answer), [Outcome::Accepted, Outcome::Rejected]);
    assert!(
        reason(&answer, 1).contains("not a sale payload"),
        "{answer:?}"
    );
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 1);
}
