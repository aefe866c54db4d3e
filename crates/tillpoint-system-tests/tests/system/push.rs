//! Sync push, attacked from outside (ARCHITECTURE.md §4, docs/decisions/sync-push.md): real
//! tills sell (online and offline) into real journals, and the test pushes those journals to
//! a real server over HTTP, signed with the till's own device key — as the till's push client
//! will. Tampered journals are the till's journal edited the way an attacker with the
//! database file could: re-linked, re-hashed and re-signed with the stolen device key.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::Value;
use tillpoint_core::sales::till_session::CountInput;
use tillpoint_core::sales::{CheckoutInput, PaymentRequest};
use tillpoint_core::sign_in::secrets::SecretStore;
use tillpoint_core::Till;
use tillpoint_protocol::auth::LoginRequest;
use tillpoint_protocol::journal::{JournalRecord, GENESIS_HASH};
use tillpoint_protocol::sales::TenderMethod;
use tillpoint_protocol::sync::{
    push_signing_bytes, Outcome, PushRequest, PushResponse, MAX_PUSH_RECORDS, PUSH_PATH,
};
use tillpoint_protocol::{DeviceId, UserId};
use tillpoint_system_tests::catalog::TestProduct;
use tillpoint_system_tests::sync::{outcomes, post_batch, post_batch_ok, reason};
use tillpoint_system_tests::{new_device, spawn_server, spawn_till, TestOrg, TestServer, TestTill};

const PASSWORD: &str = "till-password-1";
const ADMIN_PASSWORD: &str = "admin-password-1";

// ---------------------------------------------------------------------------------------
// A shop: a server, an organisation, a till with a small catalog, a cashier signed in.

#[derive(Debug, Clone)]
struct Catalog {
    /// 1.25, standard-rated.
    bread: TestProduct,
    /// 250.00, standard-rated: two make the grant's largest sale.
    tv: TestProduct,
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn install_catalog(till: &TestTill, org: &TestOrg, catalog: &Catalog) {
    tillpoint_system_tests::catalog::install(till.data_dir(), org, &[&catalog.bread, &catalog.tv]);
}

struct Shop {
    server: TestServer,
    org: TestOrg,
    till: TestTill,
    catalog: Catalog,
    cashier: UserId,
}

async fn shop() -> Shop {
    let server = spawn_server().await;
    let org = server.create_organisation("Kwik Mart").await;
    let cashier = server
        .create_user(&org, "tendai", "Cashier", PASSWORD)
        .await;
    server
        .create_user(&org, "rumbi", "Administrator", ADMIN_PASSWORD)
        .await;
    let catalog = Catalog {
        bread: TestProduct::each(1, "BREAD", "White Bread 700g", 125),
        tv: TestProduct::each(2, "TV32", "Television 32in", 25_000),
    };
    let till = spawn_till(&server.url);
    install_catalog(&till, &org, &catalog);
    till.till.sign_in("tendai", PASSWORD).await.unwrap();
    open_till(&till.till);
    Shop {
        server,
        org,
        till,
        catalog,
        cashier,
    }
}

impl Shop {
    /// Another till of the same shop, signed in by `username` (a cashier), its till open.
    async fn another_till(&self, username: &str, password: &str) -> TestTill {
        self.server
            .create_user(&self.org, username, "Cashier", password)
            .await;
        let till = spawn_till(&self.server.url);
        install_catalog(&till, &self.org, &self.catalog);
        till.till.sign_in(username, password).await.unwrap();
        open_till(&till.till);
        till
    }

    /// An access token for the cashier on this till's device.
    async fn token(&self) -> String {
        token_on(&self.server, "tendai", PASSWORD, device_of(&self.till)).await
    }

    async fn admin_token(&self) -> String {
        token_on(&self.server, "rumbi", ADMIN_PASSWORD, new_device()).await
    }
}

async fn token_on(server: &TestServer, user: &str, password: &str, device: DeviceId) -> String {
    server.login(user, password, device).await.access_token
}

fn till_db(till: &TestTill) -> Connection {
    let conn = Connection::open(till.data_dir().join("till.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn
}

fn open_till(till: &Till) {
    till.open_till(&[CountInput {
        currency: "USD".into(),
        tender: TenderMethod::Cash,
        amount: "50.00".into(),
    }])
    .expect("the till opens");
}

/// Locks the till and unlocks it offline: what it sells next carries the grant's jti.
async fn go_offline(till: &TestTill, user: &str, password: &str) {
    till.till.lock();
    till.till.unlock_offline(user, password).await.unwrap();
}

/// Sells `quantity` of `item` for cash; returns the sale id.
async fn sell(till: &TestTill, item: &TestProduct, quantity: &str, cash: &str) -> String {
    till.till.cart_add(&item.id, Some(quantity)).unwrap();
    till.till
        .checkout(&CheckoutInput {
            payments: vec![PaymentRequest {
                method: TenderMethod::Cash,
                currency: "USD".into(),
                amount: cash.into(),
                reference: None,
            }],
            change_currency: "USD".into(),
        })
        .await
        .expect("the sale goes through")
        .sale_id
}

/// The till's whole journal.
fn journal(till: &TestTill) -> Vec<JournalRecord> {
    let conn = till_db(till);
    let last: i64 = conn
        .query_row("SELECT COALESCE(MAX(seq), 0) FROM journal", [], |r| {
            r.get(0)
        })
        .unwrap();
    tillpoint_core::journal::read(&conn, 1, last as u64).unwrap()
}

fn device_of(till: &TestTill) -> DeviceId {
    till.till.device_id().unwrap().expect("signed in once")
}

/// The till's device key, from its (in-memory) keyring.
fn device_key(till: &TestTill) -> SigningKey {
    let install_id: String = till_db(till)
        .query_row(
            "SELECT install_id FROM till_identity WHERE singleton = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let seed = till
        .secrets
        .get(&format!("{install_id}/device-key"))
        .unwrap()
        .expect("the device key is in the keyring");
    SigningKey::from_bytes(&seed.try_into().expect("32 bytes"))
}

/// `records` as a batch of `device`, signed with `key`.
fn signed(device: DeviceId, key: &SigningKey, records: Vec<JournalRecord>) -> PushRequest {
    let last = records.last().map_or(GENESIS_HASH, |r| r.hash.as_str());
    let signature = key.sign(&push_signing_bytes(device, last));
    PushRequest {
        device_id: device,
        signature: STANDARD.encode(signature.to_bytes()),
        records,
    }
}

/// `records` as the till would push them.
fn batch(till: &TestTill, records: Vec<JournalRecord>) -> PushRequest {
    signed(device_of(till), &device_key(till), records)
}

async fn push(server: &TestServer, token: &str, request: &PushRequest) -> reqwest::Response {
    post_batch(server, PUSH_PATH, token, request).await
}

async fn push_ok(server: &TestServer, token: &str, request: &PushRequest) -> PushResponse {
    post_batch_ok(server, PUSH_PATH, token, request).await
}

/// Re-links and re-hashes `records` from `prev`, as an attacker editing the journal would.
fn relink(records: &mut [JournalRecord], prev: &str) {
    let mut prev = prev.to_owned();
    for record in records {
        record.prev_hash = prev;
        record.hash = record.expected_hash();
        prev = record.hash.clone();
    }
}

/// Edits a record's payload as JSON.
fn edit_payload(record: &mut JournalRecord, edit: impl FnOnce(&mut Value)) {
    let mut payload: Value = serde_json::from_str(&record.payload).unwrap();
    edit(&mut payload);
    record.payload = payload.to_string();
}

/// A copy of sale record `template` as a new sale (new ids and receipt number) at `seq`.
fn another_sale_like(template: &JournalRecord, seq: u64) -> JournalRecord {
    let mut record = template.clone();
    record.id = uuid::Uuid::now_v7();
    record.seq = seq;
    edit_payload(&mut record, |p| {
        p["sale_id"] = Value::String(new_id());
        p["receipt_no"] = Value::String(format!("FORGED-{seq:06}"));
    });
    record
}

async fn server_scalar(server: &TestServer, sql: &str, param: String) -> i64 {
    let sql = sql.to_owned();
    server
        .db
        .call(
            move |conn| -> Result<i64, tillpoint_server::store::DbError> {
                Ok(conn.query_row(&sql, [param], |r| r.get(0))?)
            },
        )
        .await
        .unwrap()
}

async fn sales_on_server(server: &TestServer, org: &TestOrg) -> i64 {
    server_scalar(
        server,
        "SELECT COUNT(*) FROM sales WHERE org_id = ?1",
        org.id.to_string(),
    )
    .await
}

async fn records_on_server(server: &TestServer, org: &TestOrg) -> i64 {
    server_scalar(
        server,
        "SELECT COUNT(*) FROM sync_records WHERE org_id = ?1",
        org.id.to_string(),
    )
    .await
}

async fn audit_events(server: &TestServer, event: &str) -> i64 {
    server_scalar(
        server,
        "SELECT COUNT(*) FROM audit_log WHERE event = ?1",
        event.to_owned(),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Exactly once.

#[tokio::test]
async fn an_offline_sale_reaches_the_server_exactly_once_with_its_creator_and_org() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    let sale_id = sell(&shop.till, &shop.catalog.bread, "2", "5.00").await;
    let records = journal(&shop.till);
    assert_eq!(records.len(), 2, "the till's opening, then the sale");
    assert!(records[1].grant_jti.is_some(), "made offline");

    let token = shop.token().await;
    let request = batch(&shop.till, records);
    let first = push_ok(&shop.server, &token, &request).await;
    assert_eq!(outcomes(&first), [Outcome::Accepted, Outcome::Accepted]);

    // Pushed twice more (as after a lost answer): nothing doubles.
    for _ in 0..2 {
        let again = push_ok(&shop.server, &token, &request).await;
        assert_eq!(outcomes(&again), [Outcome::Duplicate, Outcome::Duplicate]);
        assert_eq!(again.results[1].reason, None);
    }
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 1);
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 2);
    let (creator, org, total, jti): (String, String, i64, Option<String>) = shop
        .server
        .db
        .call(move |conn| -> Result<_, tillpoint_server::store::DbError> {
            Ok(conn.query_row(
                "SELECT creator_id, org_id, total_minor, grant_jti FROM sales WHERE id = ?1",
                [sale_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(creator, shop.cashier.to_string());
    assert_eq!(org, shop.org.id.to_string());
    assert_eq!(total, 250);
    assert!(jti.is_some());
    // Two loaves left the (unknown to the server) stock: on hand is -2, flagged.
    let on_hand = server_scalar(
        &shop.server,
        "SELECT SUM(quantity_milli) FROM stock_movements WHERE product_id = ?1",
        shop.catalog.bread.id.clone(),
    )
    .await;
    assert_eq!(on_hand, -2000);
    let flagged = server_scalar(
        &shop.server,
        "SELECT COUNT(*) FROM sync_exceptions WHERE org_id = ?1 AND kind = 'negative_stock'",
        shop.org.id.to_string(),
    )
    .await;
    assert_eq!(flagged, 1, "selling below zero is allowed and flagged");
}

/// The till's own push client (tillpoint-core) against this server: what it sold offline
/// reaches the server, and a second round has nothing left to send.
#[tokio::test]
async fn the_tills_own_push_client_is_answered_record_by_record() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    for _ in 0..3 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    // Back online.
    shop.till.till.sign_in("tendai", PASSWORD).await.unwrap();
    let summary = shop.till.till.push_outbox(|_| {}).await.unwrap();
    assert_eq!(summary.accepted, 4, "{summary:?}");
    assert_eq!(summary.quarantined + summary.rejected, 0, "{summary:?}");
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 3);
    let again = shop.till.till.push_outbox(|_| {}).await.unwrap();
    assert_eq!(again.accepted + again.duplicate, 0, "{again:?}");
    assert_eq!(shop.till.till.unsynced_count().unwrap(), 0);
}

#[tokio::test]
async fn a_batch_continues_where_the_last_one_ended_and_a_later_batch_resends_nothing() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    for _ in 0..3 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    let records = journal(&shop.till);
    let token = shop.token().await;
    let first = push_ok(
        &shop.server,
        &token,
        &batch(&shop.till, records[..2].to_vec()),
    )
    .await;
    assert_eq!(outcomes(&first), [Outcome::Accepted; 2]);
    // The next batch overlaps the first by one record (a till that lost the answer).
    let second = push_ok(
        &shop.server,
        &token,
        &batch(&shop.till, records[1..].to_vec()),
    )
    .await;
    assert_eq!(
        outcomes(&second),
        [Outcome::Duplicate, Outcome::Accepted, Outcome::Accepted]
    );
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 3);
}

#[tokio::test]
async fn two_tills_selling_the_same_product_offline_add_up_on_the_server() {
    let shop = shop().await;
    let second = shop.another_till("rudo", "rudo-password-1").await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    go_offline(&second, "rudo", "rudo-password-1").await;
    sell(&shop.till, &shop.catalog.bread, "2", "5.00").await;
    sell(&second, &shop.catalog.bread, "3", "5.00").await;
    sell(&shop.till, &shop.catalog.bread, "1", "5.00").await;
    sell(&second, &shop.catalog.bread, "4", "5.00").await;

    let tokens = [
        shop.token().await,
        token_on(&shop.server, "rudo", "rudo-password-1", device_of(&second)).await,
    ];
    // Pushed at once.
    let requests = [
        batch(&shop.till, journal(&shop.till)),
        batch(&second, journal(&second)),
    ];
    let (a, b) = tokio::join!(
        push_ok(&shop.server, &tokens[0], &requests[0]),
        push_ok(&shop.server, &tokens[1], &requests[1]),
    );
    assert!(
        outcomes(&a).iter().all(|o| *o == Outcome::Accepted),
        "{a:?}"
    );
    assert!(
        outcomes(&b).iter().all(|o| *o == Outcome::Accepted),
        "{b:?}"
    );
    let on_hand = server_scalar(
        &shop.server,
        "SELECT SUM(quantity_milli) FROM stock_movements WHERE product_id = ?1",
        shop.catalog.bread.id.clone(),
    )
    .await;
    assert_eq!(on_hand, -(2 + 3 + 1 + 4) * 1000);
    // The kept levels (one per till's shop location here) add up to the ledger.
    let levels = server_scalar(
        &shop.server,
        "SELECT SUM(on_hand_milli) FROM stock_levels WHERE product_id = ?1",
        shop.catalog.bread.id.clone(),
    )
    .await;
    assert_eq!(levels, on_hand);
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 4);
}

// ---------------------------------------------------------------------------------------
// Whole batches refused.

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
            .sign(&push_signing_bytes(device, &records[0].hash))
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

// ---------------------------------------------------------------------------------------
// Device keys at sign-in.

async fn login_with_key(
    server: &TestServer,
    user: &str,
    password: &str,
    device: DeviceId,
    key: &SigningKey,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.at("api/v1/auth/login"))
        .json(&LoginRequest {
            username: user.into(),
            password: password.into(),
            device_id: device,
            device_key: Some(STANDARD.encode(key.verifying_key().to_bytes())),
            device_time: None,
        })
        .send()
        .await
        .unwrap()
}

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
        })
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

// ---------------------------------------------------------------------------------------
// Quarantined, not lost.

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
    let after_expiry = chrono::Utc::now() + chrono::Duration::hours(80);
    records[4].created_at = after_expiry.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
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
            Outcome::Quarantined,
            Outcome::Accepted,
        ],
        "{answer:?}"
    );
    assert!(reason(&answer, 1).contains("unknown grant"), "{answer:?}");
    assert!(reason(&answer, 2).contains("another user"), "{answer:?}");
    assert!(reason(&answer, 3).contains("another device"), "{answer:?}");
    assert!(reason(&answer, 4).contains("expired"), "{answer:?}");
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

/// A sign-in of `user` on the till's device, with its key, claiming the till's clock reads
/// `device_time`.
async fn login_at(shop: &Shop, user: &str, password: &str, device_time: i64) {
    let response = reqwest::Client::new()
        .post(shop.server.at("api/v1/auth/login"))
        .json(&LoginRequest {
            username: user.into(),
            password: password.into(),
            device_id: device_of(&shop.till),
            device_key: Some(STANDARD.encode(device_key(&shop.till).verifying_key().to_bytes())),
            device_time: Some(device_time),
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
    let exp = server_scalar(
        &shop.server,
        "SELECT json_extract(claims, '$.exp') FROM offline_grants WHERE jti = ?1",
        jti,
    )
    .await;
    let on_device_clock = |secs: i64| {
        chrono::DateTime::from_timestamp(secs - 7200, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
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

// ---------------------------------------------------------------------------------------
// The chain.

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

// ---------------------------------------------------------------------------------------
// Managers settle the quarantine.

#[tokio::test]
async fn managers_release_or_void_quarantined_records_of_their_own_organisation_only() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    for _ in 0..2 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    let mut records = journal(&shop.till);
    records[1].grant_jti = Some("forged-1".into());
    records[2].grant_jti = Some("forged-2".into());
    relink(&mut records, GENESIS_HASH);
    let token = shop.token().await;
    let request = batch(&shop.till, records);
    let answer = push_ok(&shop.server, &token, &request).await;
    assert_eq!(
        outcomes(&answer),
        [
            Outcome::Accepted,
            Outcome::Quarantined,
            Outcome::Quarantined
        ]
    );

    let client = reqwest::Client::new();
    let list_url = shop.server.at("api/v1/sync/quarantine");
    // A cashier may not look.
    let refused = client
        .get(&list_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let admin = shop.admin_token().await;
    let list: Value = client
        .get(&list_url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let held = list["records"].as_array().unwrap();
    assert_eq!(held.len(), 2);
    let id_of = |seq: i64| -> String {
        held.iter().find(|r| r["seq"] == seq).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (to_release, to_void) = (id_of(2), id_of(3));
    assert!(held[0]["reason"]
        .as_str()
        .unwrap()
        .contains("unknown grant"));

    // Another organisation's manager: exactly like a missing record.
    let other = shop.server.create_organisation("Elsewhere").await;
    shop.server
        .create_user(&other, "eve", "Administrator", "eve-password-1")
        .await;
    let eve = token_on(&shop.server, "eve", "eve-password-1", new_device()).await;
    let settle = |id: &str, action: &str, token: &str| {
        client
            .post(
                shop.server
                    .at(&format!("api/v1/sync/quarantine/{id}/{action}")),
            )
            .bearer_auth(token.to_owned())
            .send()
    };
    let foreign = settle(&to_release, "release", &eve).await.unwrap();
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let foreign_body = foreign.text().await.unwrap();
    let missing = settle(&uuid::Uuid::now_v7().to_string(), "release", &eve)
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.text().await.unwrap(), foreign_body);
    assert_eq!(
        settle("not-a-uuid", "void", &admin).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        settle(&to_release, "release", &token)
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN,
        "a cashier may not release"
    );

    let released = settle(&to_release, "release", &admin).await.unwrap();
    assert_eq!(released.status(), StatusCode::OK);
    let released: Value = released.json().await.unwrap();
    assert_eq!(released["status"], "released");
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 1);
    let voided = settle(&to_void, "void", &admin).await.unwrap();
    assert_eq!(voided.status(), StatusCode::OK);
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 1);
    // Settled once only.
    assert_eq!(
        settle(&to_release, "void", &admin).await.unwrap().status(),
        StatusCode::CONFLICT
    );
    assert_eq!(audit_events(&shop.server, "quarantine_released").await, 1);
    assert_eq!(audit_events(&shop.server, "quarantine_voided").await, 1);
    let list: Value = client
        .get(&list_url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["records"].as_array().unwrap().len(), 0);

    // The till resending learns what became of them.
    let again = push_ok(&shop.server, &token, &request).await;
    assert_eq!(outcomes(&again), [Outcome::Duplicate; 3]);
    assert_eq!(again.results[1].reason, None, "released");
    assert!(reason(&again, 2).contains("voided"), "{again:?}");
}
