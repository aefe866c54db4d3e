//! Offline grants as a stolen till uses them in the records it pushes: another
//! organisation's grant, a grant revoked before the sale, a discount or a currency the grant
//! does not allow, a refund the grant does not cover. Each such record is quarantined (kept
//! for a manager, never applied); the records around it are not held up.
//!
//! Attacked elsewhere exactly: a forged jti, another user's or another device's grant and an
//! expired grant (`system/push/quarantined_not_lost.rs::forged_foreign_and_expired_grants_are_quarantined_not_lost`),
//! sales beyond the grant's largest sale and offline total (`…::sales_beyond_the_grants_limits_are_quarantined_not_lost`),
//! and on the till a grant re-signed, edited, unsigned, for another device or organisation,
//! or expired (`system/sign_in.rs`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;
use tillpoint_protocol::journal::{JournalRecord, RecordKind};
use tillpoint_protocol::sync::{Outcome, PushResponse, PUSH_PATH};
use tillpoint_system_tests::sync::{outcomes, post_batch_ok, reason};

use super::{edit_payload, organisation, post, relink_from, shop, Shop, PASSWORD};

/// The `jti` of a signed grant, read from its claims as anyone holding it can.
fn jti_of(grant: &str) -> String {
    let claims = grant.split('.').nth(1).expect("a JWT");
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("base64url")).unwrap();
    claims["jti"].as_str().expect("a jti").to_owned()
}

/// Locks the till and unlocks it offline: what it sells next carries the cashier's grant.
async fn go_offline(shop: &Shop) {
    shop.till.till.lock();
    shop.till
        .till
        .unlock_offline("kwik-cashier", PASSWORD)
        .await
        .unwrap();
}

/// The till's journal with `edit` applied to its last record (an offline sale), re-hashed
/// and re-signed as an attacker holding the device key would; pushed with a fresh token.
async fn push_with_last_edited(shop: &Shop, edit: impl FnOnce(&mut JournalRecord)) -> PushResponse {
    let mut records = shop.journal();
    let last = records.len() - 1;
    assert!(records[last].grant_jti.is_some(), "made offline");
    edit(&mut records[last]);
    relink_from(&mut records, last);
    let token = shop.till_token().await;
    post_batch_ok(&shop.server, PUSH_PATH, &token, &shop.batch(records)).await
}

#[tokio::test]
async fn a_grant_of_another_organisation_named_in_a_record_is_quarantined() {
    let shop = shop().await;
    let rival = organisation(&shop.server, "Elsewhere", "rival").await;
    let rival_jti = jti_of(&rival.cashier.tokens.offline_grant);
    go_offline(&shop).await;
    shop.sell("1", "2.00").await;
    shop.sell("1", "2.00").await;
    let mut records = shop.journal();
    records[1].grant_jti = Some(rival_jti);
    relink_from(&mut records, 1);
    let token = shop.till_token().await;
    let answer = post_batch_ok(&shop.server, PUSH_PATH, &token, &shop.batch(records)).await;
    assert_eq!(
        outcomes(&answer),
        [Outcome::Accepted, Outcome::Quarantined, Outcome::Accepted],
        "{answer:?}"
    );
    assert!(
        reason(&answer, 1).starts_with("unknown grant"),
        "{answer:?}"
    );
    assert_eq!(shop.sales_on_server().await, 1);
}

#[tokio::test]
async fn a_sale_made_after_its_grant_was_revoked_is_quarantined() {
    let shop = shop().await;
    go_offline(&shop).await;
    shop.sell("1", "2.00").await;
    shop.sell("1", "2.00").await;
    // The administrator resets the cashier's password: every sign-in and grant of theirs
    // ends now.
    let new_password = "a-new-password-2";
    let reset = post(
        &shop.server,
        &format!("api/v1/admin/users/{}/password", shop.target.cashier.user),
        shop.target.admin.token(),
        &json!({"password": new_password, "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(reset.status, 204, "{}", reset.text);
    let mut records = shop.journal();
    // The second sale claims to have been made ten minutes later, under the same grant.
    let later = chrono::Utc::now() + chrono::Duration::minutes(10);
    records[2].created_at = later.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    relink_from(&mut records, 2);
    let token = shop
        .server
        .login("kwik-cashier", new_password, shop.device())
        .await
        .access_token;
    let answer = post_batch_ok(&shop.server, PUSH_PATH, &token, &shop.batch(records)).await;
    assert_eq!(
        outcomes(&answer),
        [Outcome::Accepted, Outcome::Accepted, Outcome::Quarantined],
        "{answer:?}"
    );
    assert!(
        reason(&answer, 2).starts_with("made after the grant was revoked"),
        "{answer:?}"
    );
    assert_eq!(shop.sales_on_server().await, 1);
}

#[tokio::test]
async fn an_offline_discount_beyond_the_grants_limit_is_quarantined() {
    let shop = shop().await;
    go_offline(&shop).await;
    // Sixty loaves (75.00), then 60.00 off them: the grant allows 50.00 of discount.
    shop.sell("60", "75.00").await;
    let answer = push_with_last_edited(&shop, |record| {
        edit_payload(record, |p| {
            p["lines"][0]["line_discount_minor"] = json!(6_000);
            p["lines"][0]["total_minor"] = json!(1_500);
            p["discount_minor"] = json!(6_000);
            p["total_minor"] = json!(1_500);
        })
    })
    .await;
    assert_eq!(answer.results[1].outcome, Outcome::Quarantined);
    assert!(
        reason(&answer, 1).starts_with("over the grant's largest discount: 6000 > 5000"),
        "{answer:?}"
    );
    assert_eq!(shop.sales_on_server().await, 0);
}

#[tokio::test]
async fn an_offline_sale_in_a_currency_the_grant_has_no_limits_for_is_quarantined() {
    let shop = shop().await;
    go_offline(&shop).await;
    shop.sell("1", "2.00").await;
    let answer = push_with_last_edited(&shop, |record| {
        edit_payload(record, |p| {
            p["currency"] = json!("EUR");
            p["change_currency"] = json!("EUR");
            p["payments"][0]["currency"] = json!("EUR");
        })
    })
    .await;
    assert_eq!(answer.results[1].outcome, Outcome::Quarantined);
    assert_eq!(
        reason(&answer, 1),
        "the grant allows no offline sales in EUR",
        "{answer:?}"
    );
    assert_eq!(shop.sales_on_server().await, 0);
}

#[tokio::test]
async fn an_offline_refund_under_a_cashiers_grant_without_refunds_is_quarantined() {
    let shop = shop().await;
    go_offline(&shop).await;
    let sale = shop.sell("1", "2.00").await;
    shop.sell("1", "2.00").await;
    // The second sale turned into a refund of the first, by the cashier alone.
    let answer = push_with_last_edited(&shop, |record| {
        record.kind = RecordKind::Refund;
        edit_payload(record, |p| {
            p["refund_of"] = json!(sale);
            p["reason"] = json!("changed mind");
            p["lines"][0]["refund_of_line"] = json!(1);
            p["lines"][0]["restock"] = json!(true);
        })
    })
    .await;
    assert_eq!(
        outcomes(&answer),
        [Outcome::Accepted, Outcome::Accepted, Outcome::Quarantined],
        "{answer:?}"
    );
    assert_eq!(
        reason(&answer, 2),
        "the grant does not cover pos:sales:refund",
        "{answer:?}"
    );
    assert_eq!(shop.sales_on_server().await, 1);
}
