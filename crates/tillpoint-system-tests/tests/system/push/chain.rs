//! The chain: a deleted, edited or re-hashed journal entry is a chain error reported once (a
//! conflicting copy also a security event), and an unreadable payload is rejected unstored.

use super::{
    audit_events, batch, edit_payload, go_offline, journal, push_ok, records_on_server, relink,
    sales_on_server, sell, shop, PASSWORD,
};
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
    let answer = push_ok(&shop.server, &token, &batch(&shop.till, records.clone())).await;
    assert_eq!(
        outcomes(&answer),
        [
            Outcome::Accepted,
            Outcome::Accepted,
            Outcome::Quarantined,
            Outcome::Accepted,
        ],
        "{answer:?}"
    );
    assert!(reason(&answer, 2).contains("gap"), "{answer:?}");
    // Stored though quarantined; the records after it continue the chain again.
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 4);
    // Resent: every record is a duplicate, the quarantined one with its reason.
    let again = push_ok(&shop.server, &token, &batch(&shop.till, records)).await;
    assert_eq!(outcomes(&again), [Outcome::Duplicate; 4]);
    assert!(reason(&again, 2).contains("gap"));
}

#[tokio::test]
async fn an_edited_journal_entry_is_a_chain_error_and_a_conflicting_copy_a_security_event() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    for _ in 0..3 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    let original = journal(&shop.till);
    // Edited in place (the hash left as it was): caught by the record's own hash.
    let mut edited = original.clone();
    edit_payload(&mut edited[2], |p| p["total_minor"] = Value::from(1));
    let token = shop.token().await;
    let answer = push_ok(&shop.server, &token, &batch(&shop.till, edited.clone())).await;
    assert_eq!(
        outcomes(&answer),
        [
            Outcome::Accepted,
            Outcome::Accepted,
            Outcome::Quarantined,
            Outcome::Accepted,
        ],
        "{answer:?}"
    );
    assert!(reason(&answer, 2).contains("edited"), "{answer:?}");
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 2);

    // The genuine record 3 arriving later under the same id is another copy: a security
    // event, kept apart, never an overwrite of what the server holds.
    let answer = push_ok(
        &shop.server,
        &token,
        &batch(&shop.till, original[2..3].to_vec()),
    )
    .await;
    assert_eq!(answer.results[0].outcome, Outcome::Quarantined);
    assert!(
        reason(&answer, 0).contains("conflicting copy"),
        "{answer:?}"
    );
    assert_eq!(audit_events(&shop.server, "sync_conflicting_copy").await, 1);
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 5);
}

#[tokio::test]
async fn a_rehashed_edit_breaks_the_link_to_the_record_after_it() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    for _ in 0..3 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    let mut records = journal(&shop.till);
    edit_payload(&mut records[1], |p| p["total_minor"] = Value::from(1));
    records[1].hash = records[1].expected_hash();
    let token = shop.token().await;
    let answer = push_ok(&shop.server, &token, &batch(&shop.till, records)).await;
    assert_eq!(
        answer.results[2].outcome,
        Outcome::Quarantined,
        "{answer:?}"
    );
    assert!(reason(&answer, 2).contains("broken chain"), "{answer:?}");
    assert_eq!(answer.results[3].outcome, Outcome::Accepted, "{answer:?}");
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
