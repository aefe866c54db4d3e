//! Importing a dead till's exported records (issue 7; docs/decisions/sync-push.md "Import"):
//! a real till sells, a manager signed in on it exports its unsynced records
//! (`Till::export_pending`), the till dies, and a manager hands the file to a real server
//! over HTTP from somewhere else. The file goes through the push checks and answers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tillpoint_core::sales::till_session::CountInput;
use tillpoint_core::sales::{CheckoutInput, PaymentRequest};
use tillpoint_core::Till;
use tillpoint_protocol::sales::TenderMethod;
use tillpoint_protocol::sync::{Outcome, PushRequest, PushResponse, PUSH_PATH};
use tillpoint_protocol::{DeviceId, UserId};
use tillpoint_system_tests::catalog::TestProduct;
use tillpoint_system_tests::sync::{outcomes, post_batch, post_batch_ok, reason};
use tillpoint_system_tests::{
    new_device, spawn_server, spawn_till, till_config, TestOrg, TestServer, TestTill,
};

const IMPORT_PATH: &str = "api/v1/sync/import";
const PASSWORD: &str = "till-password-1";
const ADMIN_PASSWORD: &str = "admin-password-1";

// ---------------------------------------------------------------------------------------
// A shop: a server, an organisation with a cashier and a manager, a till with bread.

struct Shop {
    server: TestServer,
    org: TestOrg,
    till: TestTill,
    bread: String,
    cashier: UserId,
    manager: UserId,
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Bread at 1.25 (under `bread` as its id) in the till's store, as the catalog pull would.
fn install_catalog(till: &TestTill, org: &TestOrg, bread: &str) {
    let bread = TestProduct::each_with_id(bread, 1, "BREAD", "White Bread 700g", 125);
    tillpoint_system_tests::catalog::install(till.data_dir(), org, &[&bread]);
}

async fn shop() -> Shop {
    let server = spawn_server().await;
    let org = server.create_organisation("Kwik Mart").await;
    let cashier = server
        .create_user(&org, "tendai", "Cashier", PASSWORD)
        .await;
    let manager = server
        .create_user(&org, "rumbi", "Administrator", ADMIN_PASSWORD)
        .await;
    let bread = new_id();
    let till = spawn_till(&server.url);
    install_catalog(&till, &org, &bread);
    till.till.sign_in("tendai", PASSWORD).await.unwrap();
    till.till
        .open_till(&[CountInput {
            currency: "USD".into(),
            tender: TenderMethod::Cash,
            amount: "50.00".into(),
        }])
        .expect("the till opens");
    Shop {
        server,
        org,
        till,
        bread,
        cashier,
        manager,
    }
}

impl Shop {
    /// The cashier sells `n` loaves offline (under their offline grant).
    async fn sell_offline(&self, n: usize) {
        self.till.till.lock();
        self.till
            .till
            .unlock_offline("tendai", PASSWORD)
            .await
            .unwrap();
        for _ in 0..n {
            sell(&self.till.till, &self.bread).await;
        }
    }

    /// The manager signs in on the till and exports its unsynced records; returns the file.
    async fn export(&self) -> PathBuf {
        self.till.till.lock();
        self.till
            .till
            .sign_in("rumbi", ADMIN_PASSWORD)
            .await
            .unwrap();
        let path = self
            .till
            .data_dir()
            .join(format!("export-{}.json", new_id()));
        self.till.till.export_pending(&path).expect("exported");
        path
    }

    fn device(&self) -> DeviceId {
        self.till.till.device_id().unwrap().expect("signed in once")
    }

    async fn manager_token(&self) -> String {
        manager_token(&self.server).await
    }

    async fn sales(&self) -> i64 {
        count(
            &self.server,
            &self.org,
            "SELECT COUNT(*) FROM sales WHERE org_id = ?1",
        )
        .await
    }

    async fn records(&self) -> i64 {
        count(
            &self.server,
            &self.org,
            "SELECT COUNT(*) FROM sync_records WHERE org_id = ?1",
        )
        .await
    }

    async fn audit(&self, event: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM audit_log WHERE org_id = ?1 AND event = '{event}'");
        count(&self.server, &self.org, &sql).await
    }
}

/// A manager's token from another machine.
async fn manager_token(server: &TestServer) -> String {
    server
        .login("rumbi", ADMIN_PASSWORD, new_device())
        .await
        .access_token
}

/// A number the server's database answers to `sql`, whose `?1` is the organisation.
async fn count(server: &TestServer, org: &TestOrg, sql: &str) -> i64 {
    let (sql, org) = (sql.to_owned(), org.id.to_string());
    server
        .db
        .call(
            move |conn| -> Result<i64, tillpoint_server::store::DbError> {
                Ok(conn.query_row(&sql, [org.clone()], |r| r.get(0))?)
            },
        )
        .await
        .unwrap()
}

async fn sell(till: &Till, product: &str) {
    till.cart_add(product, Some("1")).unwrap();
    till.checkout(&CheckoutInput {
        payments: vec![PaymentRequest {
            method: TenderMethod::Cash,
            currency: "USD".into(),
            amount: "2.00".into(),
            reference: None,
        }],
        change_currency: "USD".into(),
    })
    .await
    .expect("the sale goes through");
}

fn read_file(path: &Path) -> PushRequest {
    serde_json::from_slice(&std::fs::read(path).unwrap()).expect("the export is a push batch")
}

async fn send(
    server: &TestServer,
    path: &str,
    token: &str,
    body: &PushRequest,
) -> reqwest::Response {
    post_batch(server, path, token, body).await
}

async fn import_ok(server: &TestServer, token: &str, file: &PushRequest) -> PushResponse {
    post_batch_ok(server, IMPORT_PATH, token, file).await
}

// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_dead_tills_file_is_imported_exactly_once_and_its_return_doubles_nothing() {
    let shop = shop().await;
    // Online: the opening and one sale reach the server as usual.
    sell(&shop.till.till, &shop.bread).await;
    let pushed = shop.till.till.push_outbox(|_| {}).await.unwrap();
    assert_eq!(pushed.accepted, 2, "{pushed:?}");
    // Then the network goes, and the till sells three more before it dies.
    shop.sell_offline(3).await;
    let path = shop.export().await;
    let file = read_file(&path);
    assert_eq!(file.device_id, shop.device());
    assert_eq!(file.records.len(), 3, "from the oldest unsynced record on");
    assert!(file.records.iter().all(|r| r.grant_jti.is_some()));

    // The till dies (its data folder and keyring are kept for the epilogue).
    let data_dir = shop.till.data_dir().to_path_buf();
    let secrets = shop.till.secrets.clone();
    drop(shop.till.till);
    let (server, org) = (&shop.server, &shop.org);

    // A manager imports the file from their own machine.
    let token = manager_token(server).await;
    let answer = import_ok(server, &token, &file).await;
    assert_eq!(outcomes(&answer), [Outcome::Accepted; 3], "{answer:?}");
    let sales = "SELECT COUNT(*) FROM sales WHERE org_id = ?1";
    assert_eq!(count(server, org, sales).await, 4);
    let by_cashier = format!(
        "SELECT COUNT(*) FROM sales WHERE org_id = ?1 AND creator_id = '{}' AND grant_jti IS NOT NULL",
        shop.cashier
    );
    assert_eq!(
        count(server, org, &by_cashier).await,
        3,
        "the cashier who made them, offline"
    );
    let audited = format!(
        "SELECT COUNT(*) FROM audit_log WHERE org_id = ?1 AND event = 'records_imported'
           AND actor_id = '{}' AND device_id = '{}'",
        shop.manager, file.device_id
    );
    assert_eq!(count(server, org, &audited).await, 1);
    // Each record keeps who handed it in, and how: the manager by import, the till by push.
    let handed_in = format!(
        "SELECT COUNT(*) FROM sync_records WHERE org_id = ?1 AND pushed_via = 'import'
           AND pushed_by = '{}'",
        shop.manager
    );
    assert_eq!(count(server, org, &handed_in).await, 3);
    let pushed = "SELECT COUNT(*) FROM sync_records WHERE org_id = ?1 AND pushed_via = 'push'";
    assert_eq!(count(server, org, pushed).await, 2);

    // Imported again: nothing changes.
    let again = import_ok(server, &token, &file).await;
    assert_eq!(outcomes(&again), [Outcome::Duplicate; 3], "{again:?}");
    assert_eq!(count(server, org, sales).await, 4);
    let records = "SELECT COUNT(*) FROM sync_records WHERE org_id = ?1";
    assert_eq!(count(server, org, records).await, 5);

    // The till comes back after all (its disk recovered) and pushes what it still holds as
    // pending: every record is a duplicate, nothing doubles, and the till is clear.
    let revived = Till::open_with_secrets(till_config(&server.url, &data_dir), secrets).unwrap();
    revived.sign_in("tendai", PASSWORD).await.unwrap();
    assert_eq!(revived.unsynced_count().unwrap(), 3);
    let summary = revived.push_outbox(|_| {}).await.unwrap();
    assert_eq!((summary.accepted, summary.duplicate), (0, 3), "{summary:?}");
    assert_eq!(revived.unsynced_count().unwrap(), 0);
    assert_eq!(count(server, org, sales).await, 4);
    assert_eq!(count(server, org, records).await, 5);
    let on_hand = format!(
        "SELECT SUM(quantity_milli) FROM stock_movements WHERE org_id = ?1 AND product_id = '{}'",
        shop.bread
    );
    assert_eq!(
        count(server, org, &on_hand).await,
        -4000,
        "four loaves, each counted once"
    );
}

#[tokio::test]
async fn only_a_manager_of_the_tills_organisation_may_import() {
    let shop = shop().await;
    shop.sell_offline(1).await;
    let file = read_file(&shop.export().await);

    let anonymous = reqwest::Client::new()
        .post(shop.server.at(IMPORT_PATH))
        .json(&file)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // The cashier — even on the till itself — may push but not import.
    let cashier = shop
        .server
        .login("tendai", PASSWORD, shop.device())
        .await
        .access_token;
    let refused = send(&shop.server, IMPORT_PATH, &cashier, &file).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("sync:quarantine:manage"));

    // Another organisation's manager: the file is not theirs.
    let other = shop.server.create_organisation("Elsewhere").await;
    shop.server
        .create_user(&other, "eve", "Administrator", "eve-password-1")
        .await;
    let eve = shop
        .server
        .login("eve", "eve-password-1", new_device())
        .await
        .access_token;
    let foreign = send(&shop.server, IMPORT_PATH, &eve, &file).await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert!(foreign
        .text()
        .await
        .unwrap()
        .contains("another organisation"));

    assert_eq!(shop.records().await, 0);
    assert_eq!(shop.sales().await, 0);
    // The manager of the till's own organisation may.
    let token = shop.manager_token().await;
    let answer = import_ok(&shop.server, &token, &file).await;
    assert_eq!(outcomes(&answer), [Outcome::Accepted; 2], "{answer:?}");
    assert_eq!(shop.sales().await, 1);
}

#[tokio::test]
async fn a_tampered_file_is_refused_or_quarantined_as_a_push_would_be() {
    let shop = shop().await;
    shop.sell_offline(3).await;
    let file = read_file(&shop.export().await);
    let token = shop.manager_token().await;

    // The signature replaced: not the device's, nothing stored, the refusal audited.
    let mut forged = file.clone();
    let mut signature = forged.signature.into_bytes();
    signature[3] = if signature[3] == b'A' { b'B' } else { b'A' };
    forged.signature = String::from_utf8(signature).unwrap();
    let refused = send(&shop.server, IMPORT_PATH, &token, &forged).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("signature"));
    // The records moved to another device: refused the same way.
    let mut moved = file.clone();
    moved.device_id = new_device();
    assert_eq!(
        send(&shop.server, IMPORT_PATH, &token, &moved)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(shop.records().await, 0);
    assert_eq!(shop.audit("push_refused").await, 2);
    assert_eq!(shop.audit("records_imported").await, 0);

    // A sale's total edited in the file, in place or re-hashed as well: the file's records no
    // longer form one chain, so its signature vouches for none of them. The whole file is
    // refused and nothing of it stored.
    let edit = |record: &mut tillpoint_protocol::journal::JournalRecord| {
        let mut payload: Value = serde_json::from_str(&record.payload).unwrap();
        payload["total_minor"] = Value::from(1);
        record.payload = payload.to_string();
    };
    let mut edited = file.clone();
    edit(&mut edited.records[2]);
    let mut rehashed = file.clone();
    edit(&mut rehashed.records[1]);
    rehashed.records[1].hash = rehashed.records[1].expected_hash();
    for (tampered, says) in [
        (edited, "record 3 was edited"),
        (rehashed, "record 3 does not link"),
    ] {
        let refused = send(&shop.server, IMPORT_PATH, &token, &tampered).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let text = refused.text().await.unwrap();
        assert!(
            text.contains("not one intact chain") && text.contains(says),
            "{text}"
        );
    }
    assert_eq!(shop.records().await, 0);
    assert_eq!(shop.sales().await, 0);
    assert_eq!(shop.audit("push_refused").await, 4);
    assert_eq!(shop.audit("records_imported").await, 0);
    // The file as the till wrote it is taken whole.
    let answer = import_ok(&shop.server, &token, &file).await;
    assert_eq!(outcomes(&answer), [Outcome::Accepted; 4], "{answer:?}");
}

#[tokio::test]
async fn a_revoked_devices_file_is_taken_for_what_it_made_before_the_revocation() {
    let shop = shop().await;
    shop.sell_offline(2).await;
    // The manager signs in on the till; the till is then written off (revoked) while it
    // still holds the sales, and one more sale is rung up on it afterwards.
    shop.till.till.lock();
    shop.till
        .till
        .sign_in("rumbi", ADMIN_PASSWORD)
        .await
        .unwrap();
    let token = shop.manager_token().await;
    let revoked = reqwest::Client::new()
        .post(
            shop.server
                .at(&format!("api/v1/admin/devices/{}/revoke", shop.device())),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(5)).await;
    sell(&shop.till.till, &shop.bread).await;
    let path = shop.till.data_dir().join("export.json");
    shop.till.till.export_pending(&path).unwrap();
    let file = read_file(&path);
    assert_eq!(file.records.len(), 4);

    // A push of the revoked device's records is still refused.
    let cashier = shop
        .server
        .login("tendai", PASSWORD, new_device())
        .await
        .access_token;
    let pushed = send(&shop.server, PUSH_PATH, &cashier, &file).await;
    assert_eq!(pushed.status(), StatusCode::FORBIDDEN);

    // Imported by a manager: what it made before the revocation is taken, what came after
    // is held for a manager.
    let answer = import_ok(&shop.server, &token, &file).await;
    assert_eq!(
        outcomes(&answer),
        [
            Outcome::Accepted,
            Outcome::Accepted,
            Outcome::Accepted,
            Outcome::Quarantined
        ],
        "{answer:?}"
    );
    assert!(
        reason(&answer, 3).contains("after this device was revoked"),
        "{answer:?}"
    );
    assert_eq!(shop.sales().await, 2);
    assert_eq!(shop.audit("records_imported").await, 1);
}
