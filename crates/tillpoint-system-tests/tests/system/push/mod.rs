//! Sync push, attacked from outside (ARCHITECTURE.md §4, docs/decisions/sync-push.md): real
//! tills sell (online and offline) into real journals, and the test pushes those journals to
//! a real server over HTTP, signed with the till's own device key — as the till's push client
//! will. Tampered journals are the till's journal edited the way an attacker with the
//! database file could: re-linked, re-hashed and re-signed with the stolen device key.

mod chain;
mod device_keys;
mod exactly_once;
mod managers_settle_quarantine;
mod quarantined_not_lost;
mod records_judged;
mod recovery;
mod whole_batches_refused;

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use rusqlite::Connection;
use serde_json::Value;
use tillpoint_core::sales::till_session::CountInput;
use tillpoint_core::sales::{CheckoutInput, PaymentRequest};
use tillpoint_core::sign_in::secrets::SecretStore;
use tillpoint_core::Till;
use tillpoint_protocol::auth::LoginRequest;
use tillpoint_protocol::journal::JournalRecord;
use tillpoint_protocol::sales::TenderMethod;
use tillpoint_protocol::sync::{PushRequest, PushResponse, PUSH_PATH};
use tillpoint_protocol::{DeviceId, UserId};
use tillpoint_system_tests::catalog::TestProduct;
use tillpoint_system_tests::sync::{post_batch, post_batch_ok};
use tillpoint_system_tests::{new_device, spawn_server, spawn_till, TestOrg, TestServer, TestTill};

const PASSWORD: &str = "till-password-1";
const ADMIN_PASSWORD: &str = "admin-password-1";

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
    /// rumbi, an Administrator.
    admin: UserId,
}

async fn shop() -> Shop {
    let server = spawn_server().await;
    let org = server.create_organisation("Kwik Mart").await;
    let cashier = server
        .create_user(&org, "tendai", "Cashier", PASSWORD)
        .await;
    let admin = server
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
        admin,
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

pub(crate) fn till_db(till: &TestTill) -> Connection {
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
pub(crate) async fn sell(
    till: &TestTill,
    item: &TestProduct,
    quantity: &str,
    cash: &str,
) -> String {
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
pub(crate) fn journal(till: &TestTill) -> Vec<JournalRecord> {
    let conn = till_db(till);
    let last: i64 = conn
        .query_row("SELECT COALESCE(MAX(seq), 0) FROM journal", (), |r| {
            r.get(0)
        })
        .unwrap();
    tillpoint_core::journal::read(&conn, 1, last as u64).unwrap()
}

pub(crate) fn device_of(till: &TestTill) -> DeviceId {
    till.till.device_id().unwrap().expect("signed in once")
}

/// The till's device key, from its (in-memory) keyring.
pub(crate) fn device_key(till: &TestTill) -> SigningKey {
    let install_id: String = till_db(till)
        .query_row(
            "SELECT install_id FROM till_identity WHERE singleton = 1",
            (),
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

/// `records` as a batch of `device`, signed with `key` as a till signs (over the records'
/// organisation, the device, the seq range and the last hash).
pub(crate) fn signed(
    device: DeviceId,
    key: &SigningKey,
    records: Vec<JournalRecord>,
) -> PushRequest {
    let mut request = PushRequest {
        device_id: device,
        signature: String::new(),
        records,
    };
    let org = request.records.first().map(|r| r.org_id);
    let bytes = org
        .and_then(|org| request.signing_bytes(org))
        .unwrap_or_default();
    request.signature = STANDARD.encode(key.sign(&bytes).to_bytes());
    request
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
pub(crate) fn relink(records: &mut [JournalRecord], prev: &str) {
    let mut prev = prev.to_owned();
    for record in records {
        record.prev_hash = prev;
        record.hash = record.expected_hash();
        prev = record.hash.clone();
    }
}

/// Edits a record's payload as JSON.
pub(crate) fn edit_payload(record: &mut JournalRecord, edit: impl FnOnce(&mut Value)) {
    let mut payload: Value = serde_json::from_str(&record.payload).unwrap();
    edit(&mut payload);
    record.payload = payload.to_string();
}

/// A copy of sale record `template` as a new sale (new ids, and a receipt number of its device
/// the till has not used) at `seq`.
pub(crate) fn another_sale_like(template: &JournalRecord, seq: u64) -> JournalRecord {
    let mut record = template.clone();
    record.id = uuid::Uuid::now_v7();
    record.seq = seq;
    edit_payload(&mut record, |p| {
        p["sale_id"] = Value::String(new_id());
        p["receipt_no"] = Value::String(format!(
            "{}-{:06}",
            tillpoint_protocol::receipt_number::receipt_prefix(template.device_id),
            900_000 + seq
        ));
    });
    record
}

pub(crate) async fn server_scalar(server: &TestServer, sql: &str, param: String) -> i64 {
    let sql = sql.to_owned();
    server
        .db
        .call(
            move |conn| -> Result<i64, tillpoint_server::store::DbError> {
                Ok(conn.query_row(&sql, [param.clone()], |r| r.get(0))?)
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
            device_proof: None,
        })
        .send()
        .await
        .unwrap()
}
