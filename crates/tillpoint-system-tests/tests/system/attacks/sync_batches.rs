//! Sync batches from a stolen till or a captured push: replayed under another organisation's
//! token, pushed under another organisation's device id, amounts tampered and re-signed so
//! they no longer add up, numbers at and past the ends of their types among good records,
//! and a record kind the protocol does not have.
//!
//! Attacked elsewhere exactly (docs/reliability.md lists each): a batch replayed as is
//! (`system/push/exactly_once.rs`), signed by another key or as another device's, records
//! of another organisation, more than 500 records (`system/push/whole_batches_refused.rs`),
//! a creator of another organisation (`system/push/quarantined_not_lost.rs`), the
//! administrator named as the creator (`system/push/records_judged.rs`), an edited, deleted
//! or re-hashed record and a broken chain (`system/push/chain.rs`), a seq past i64::MAX
//! (`system/push/records_judged.rs`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use reqwest::Method;
use serde_json::{json, Value};
use tillpoint_protocol::auth::LoginRequest;
use tillpoint_protocol::journal::{JournalRecord, GENESIS_HASH};
use tillpoint_protocol::sync::{Outcome, PushResponse, PUSH_PATH};
use tillpoint_protocol::ErrorCode;
use tillpoint_system_tests::sync::{outcomes, post_batch, post_batch_ok, reason};

use super::{
    another_sale_like, edit_payload, get, organisation, post, relink, relink_from, send,
    server_count, shop, signed, Body, PASSWORD,
};

#[tokio::test]
async fn a_captured_batch_replayed_under_another_organisations_token_is_refused() {
    let shop = shop().await;
    shop.sell("1", "2.00").await;
    let captured = shop.batch(shop.journal());
    let rival = organisation(&shop.server, "Elsewhere", "rival").await;
    let response = post_batch(&shop.server, PUSH_PATH, rival.cashier.token(), &captured).await;
    assert_eq!(response.status(), 403);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("another organisation"));
    let stored_anywhere = server_count(
        &shop.server,
        "SELECT COUNT(*) FROM sync_records WHERE device_id = ?1",
        shop.device().to_string(),
    )
    .await;
    assert_eq!(stored_anywhere, 0);
    // The replay spent nothing: the till's own push of the same batch is taken.
    let token = shop.till_token().await;
    let answer = post_batch_ok(&shop.server, PUSH_PATH, &token, &captured).await;
    assert_eq!(outcomes(&answer), [Outcome::Accepted; 2]);
}

#[tokio::test]
async fn another_organisations_device_id_taken_here_touches_nothing_of_theirs() {
    let shop = shop().await;
    shop.sell("1", "2.00").await;
    let token = shop.till_token().await;
    post_batch_ok(&shop.server, PUSH_PATH, &token, &shop.batch(shop.journal())).await;
    // The rival learnt the shop's device id and signs in under it with a key of its own.
    let rival = organisation(&shop.server, "Elsewhere", "rival").await;
    let attacker_key = SigningKey::from_bytes(&[13; 32]);
    let login = LoginRequest {
        username: "rival-cashier".into(),
        password: PASSWORD.into(),
        device_id: shop.device(),
        device_key: Some(STANDARD.encode(attacker_key.verifying_key().to_bytes())),
        device_time: None,
        device_proof: None,
    };
    let answer = send(
        &shop.server,
        Method::POST,
        "api/v1/auth/login",
        None,
        Body::Json(&serde_json::to_value(&login).unwrap()),
    )
    .await;
    let rival_token = answer.expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Its own records, numbered to follow the shop's chain, under the shop's device id.
    let mut forged: Vec<JournalRecord> = shop.journal();
    for record in &mut forged {
        record.org_id = rival.org.id;
        record.creator_id = rival.cashier.user;
    }
    relink(&mut forged, GENESIS_HASH);
    let request = signed(shop.device(), &attacker_key, forged);
    post_batch_ok(&shop.server, PUSH_PATH, &rival_token, &request).await;

    // The shop's device, chain and key are its own still: its next sale follows on.
    shop.sell("1", "2.00").await;
    let answer = post_batch_ok(&shop.server, PUSH_PATH, &token, &shop.batch(shop.journal())).await;
    assert_eq!(
        outcomes(&answer),
        [Outcome::Duplicate, Outcome::Duplicate, Outcome::Accepted],
        "{answer:?}"
    );
    assert_eq!(shop.sales_on_server().await, 2);
    let devices = get(
        &shop.server,
        "api/v1/admin/devices",
        shop.target.admin.token(),
    )
    .await
    .expect(200);
    let quarantine = get(
        &shop.server,
        "api/v1/sync/quarantine",
        shop.target.admin.token(),
    )
    .await
    .expect(200);
    assert_eq!(quarantine, json!({"records": []}));
    assert!(
        devices["devices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["last_user"] != json!(rival.cashier.user)),
        "{devices}"
    );
}

#[tokio::test]
async fn amounts_edited_and_re_signed_so_they_no_longer_add_up_are_quarantined() {
    let shop = shop().await;
    for _ in 0..4 {
        shop.sell("1", "2.00").await;
    }
    let mut records = shop.journal();
    // A total lowered to one cent, a line's quantity raised with its money left alone, a
    // negative sale, and VAT taken off.
    edit_payload(&mut records[1], |p| p["total_minor"] = json!(1));
    edit_payload(&mut records[2], |p| {
        p["lines"][0]["quantity"] = json!(10_000)
    });
    edit_payload(&mut records[3], |p| {
        p["total_minor"] = json!(-125);
        p["subtotal_minor"] = json!(-125);
        p["lines"][0]["quantity"] = json!(-1_000);
        p["lines"][0]["total_minor"] = json!(-125);
    });
    edit_payload(&mut records[4], |p| p["vat"] = json!([]));
    relink_from(&mut records, 1);
    let token = shop.till_token().await;
    let answer = post_batch_ok(&shop.server, PUSH_PATH, &token, &shop.batch(records)).await;
    assert_eq!(
        outcomes(&answer),
        [
            Outcome::Accepted,
            Outcome::Quarantined,
            Outcome::Quarantined,
            Outcome::Quarantined,
            Outcome::Quarantined
        ],
        "{answer:?}"
    );
    for index in 1..=4 {
        assert!(
            reason(&answer, index).starts_with("the sale does not add up"),
            "{answer:?}"
        );
    }
    assert_eq!(shop.sales_on_server().await, 0);
}

/// Every number a record carries, set to a value no till writes; each must be rejected as
/// it is read (`tillpoint_protocol::bounds`).
/// A named edit of a record's payload.
type PayloadEdit = (&'static str, fn(&mut Value));

fn out_of_range_edits() -> Vec<PayloadEdit> {
    vec![
        ("a total of i64::MIN", |p| {
            p["total_minor"] = json!(i64::MIN)
        }),
        ("a total of i64::MAX", |p| {
            p["total_minor"] = json!(i64::MAX)
        }),
        ("a total past i64", |p| p["total_minor"] = json!(u64::MAX)),
        ("a fractional total", |p| p["total_minor"] = json!(1.5)),
        ("a total as text", |p| p["total_minor"] = json!("125")),
        ("a unit price of i64::MAX", |p| {
            p["lines"][0]["unit_price_minor"] = json!(i64::MAX)
        }),
        ("a quantity of i64::MIN", |p| {
            p["lines"][0]["quantity"] = json!(i64::MIN)
        }),
        ("a quantity past the largest", |p| {
            p["lines"][0]["quantity"] = json!(1_000_000_000_000_001_i64)
        }),
        ("a payment of i64::MAX", |p| {
            p["payments"][0]["amount_minor"] = json!(i64::MAX)
        }),
        ("change of i64::MIN", |p| {
            p["change_minor"] = json!(i64::MIN)
        }),
        ("a tax rate over 100 %", |p| {
            p["lines"][0]["tax"]["rate_bp"] = json!(10_001)
        }),
        ("a negative line number", |p| {
            p["lines"][0]["line_no"] = json!(-1)
        }),
    ]
}

#[tokio::test]
async fn numbers_past_their_range_are_rejected_as_read_and_the_good_records_around_them_kept() {
    let shop = shop().await;
    shop.sell("1", "2.00").await;
    let mut records = shop.journal();
    let template = records[1].clone();
    let edits = out_of_range_edits();
    // good, bad, good, good, bad, good, good, …: each bad record between genuine ones.
    let mut bad = Vec::new();
    let mut seq = template.seq;
    for (name, edit) in &edits {
        seq += 1;
        let mut record = another_sale_like(&template, seq);
        edit_payload(&mut record, edit);
        bad.push((records.len(), *name));
        records.push(record);
        for _ in 0..2 {
            seq += 1;
            records.push(another_sale_like(&template, seq));
        }
    }
    relink(&mut records, GENESIS_HASH);
    let token = shop.till_token().await;
    let answer = post_batch_ok(&shop.server, PUSH_PATH, &token, &shop.batch(records)).await;
    for (index, name) in &bad {
        assert_eq!(
            answer.results[*index].outcome,
            Outcome::Rejected,
            "{name}: {:?}",
            answer.results[*index]
        );
        // The gap it leaves is named once, on the record after it; the next is accepted.
        assert_eq!(answer.results[index + 1].outcome, Outcome::Quarantined);
        assert!(reason(&answer, index + 1).starts_with("gap:"), "{name}");
        assert_eq!(
            answer.results[index + 2].outcome,
            Outcome::Accepted,
            "{name}: {answer:?}"
        );
    }
    let applied = 1 + edits.len() as i64;
    assert_eq!(shop.sales_on_server().await, applied);
    assert_eq!(
        shop.records_on_server().await,
        2 + 2 * edits.len() as i64,
        "every record but the rejected ones is kept"
    );
}

#[tokio::test]
async fn a_record_of_a_kind_the_protocol_lacks_fails_the_whole_body_with_422() {
    let shop = shop().await;
    shop.sell("1", "2.00").await;
    let request = shop.batch(shop.journal());
    let mut body = serde_json::to_value(&request).unwrap();
    body["records"][1]["kind"] = json!("bonus_payout");
    let token = shop.till_token().await;
    let answer = send(
        &shop.server,
        Method::POST,
        PUSH_PATH,
        Some(&token),
        Body::Json(&body),
    )
    .await;
    answer.assert_error(ErrorCode::Unprocessable);
    assert_eq!(shop.records_on_server().await, 0);
    // The till's genuine batch is taken after it.
    let answer = post_batch_ok(&shop.server, PUSH_PATH, &token, &request).await;
    assert_eq!(outcomes(&answer), [Outcome::Accepted; 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_replayed_ten_times_at_once_is_applied_once() {
    let shop = shop().await;
    for _ in 0..3 {
        shop.sell("1", "2.00").await;
    }
    let request = shop.batch(shop.journal());
    let token = shop.till_token().await;
    let mut replays = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (url, token, request) = (shop.server.at(PUSH_PATH), token.clone(), request.clone());
        replays.spawn(async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&request)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.json::<PushResponse>().await.unwrap()
        });
    }
    let answers = replays.join_all().await;
    // Each record is accepted by exactly one of the ten and a duplicate for the others.
    for index in 0..request.records.len() {
        let count = |outcome: Outcome| {
            answers
                .iter()
                .filter(|answer| answer.results[index].outcome == outcome)
                .count()
        };
        assert_eq!(
            (count(Outcome::Accepted), count(Outcome::Duplicate)),
            (1, 9),
            "record {index}: {answers:?}"
        );
    }
    assert_eq!(shop.sales_on_server().await, 3);
    assert_eq!(shop.records_on_server().await, 4);
}

#[tokio::test]
async fn releasing_a_quarantined_record_the_books_cannot_hold_is_a_conflict_not_a_retry() {
    let shop = shop().await;
    shop.sell("1", "2.00").await;
    let mut records = shop.journal();
    // The sale's one line twice under the same number: quarantined as not adding up, and a
    // row the books' key (sale, line number) cannot take twice.
    edit_payload(&mut records[1], |p| {
        let line = p["lines"][0].clone();
        p["lines"] = json!([line.clone(), line]);
    });
    relink_from(&mut records, 1);
    let token = shop.till_token().await;
    let answer = post_batch_ok(&shop.server, PUSH_PATH, &token, &shop.batch(records)).await;
    assert_eq!(
        answer.results[1].outcome,
        Outcome::Quarantined,
        "{answer:?}"
    );
    let held = get(
        &shop.server,
        "api/v1/sync/quarantine",
        shop.target.admin.token(),
    )
    .await
    .expect(200);
    let id = held["records"][0]["id"].as_str().unwrap().to_owned();
    let answer = post(
        &shop.server,
        &format!("api/v1/sync/quarantine/{id}/release"),
        shop.target.admin.token(),
        &json!({}),
    )
    .await;
    answer.assert_error(ErrorCode::Conflict);
    assert!(
        answer.text.contains("void this copy instead"),
        "{}",
        answer.text
    );
    // Nothing of it was applied, it is still held, and voiding it still works.
    assert_eq!(shop.sales_on_server().await, 0);
    let void = post(
        &shop.server,
        &format!("api/v1/sync/quarantine/{id}/void"),
        shop.target.admin.token(),
        &json!({}),
    )
    .await;
    void.expect(200);
}
