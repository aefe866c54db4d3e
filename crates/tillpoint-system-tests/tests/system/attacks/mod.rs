//! The attack suite: a real server, attacked only over HTTP with what an attacker can hold —
//! a genuine account and its tokens, the served JWKS, a till's journal and device key (a
//! stolen till), a captured push, another organisation's account — and forged with the
//! dev-dependencies a client could use (jsonwebtoken, ed25519-dalek, base64).
//!
//! Every test states the answer the attack must get and then proves from outside that it got
//! nothing: the server is asked again, and where only the database can tell (that a refused
//! batch stored nothing, that a table still exists), its rows are counted afterwards. No test
//! writes to the server's database to make an attack possible.
//!
//! What the other suites already attack exactly is not repeated here; docs/reliability.md
//! ("Attack suite") lists every attack with the test that makes it, here or there.

mod bodies;
mod grants;
mod sync_batches;
mod text_fields;
mod tokens;

use ed25519_dalek::SigningKey;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use tillpoint_core::sales::till_session::CountInput;
use tillpoint_protocol::auth::TokenResponse;
use tillpoint_protocol::journal::JournalRecord;
use tillpoint_protocol::sales::TenderMethod;
use tillpoint_protocol::sync::PushRequest;
use tillpoint_protocol::{DeviceId, ErrorBody, ErrorCode, RoleId, UserId};
use tillpoint_system_tests::catalog::TestProduct;
use tillpoint_system_tests::{new_device, spawn_server, spawn_till, TestOrg, TestServer, TestTill};

// The push suite's batch tools: signing as a till does, re-linking, editing payloads.
pub(crate) use crate::push::{another_sale_like, edit_payload, relink, signed};

const PASSWORD: &str = "attack-password-1";

/// One HTTP answer: its status and body, the body as JSON when it is JSON.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|_| panic!("{}: not JSON: {}", self.status, self.text))
    }

    #[track_caller]
    fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        self.json()
    }

    /// Asserts the answer is `code` (with its status) in the API's one error shape, with a
    /// message a person can read.
    #[track_caller]
    fn assert_error(&self, code: ErrorCode) {
        assert_eq!(self.status.as_u16(), code.http_status(), "{}", self.text);
        let body: ErrorBody = serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not the error shape ({e}): {}", self.text));
        assert_eq!(body.error.code, code, "{}", self.text);
        assert!(!body.error.message.trim().is_empty(), "{}", self.text);
    }

    /// Asserts a client error (4xx) in the error shape: the attack was refused, clearly,
    /// and never answered as a failure of the server a client would retry.
    #[track_caller]
    fn assert_refused(&self) {
        assert!(
            self.status.is_client_error(),
            "{}: {}",
            self.status,
            self.text
        );
        let body: ErrorBody = serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not the error shape ({e}): {}", self.text));
        assert_eq!(body.error.code.http_status(), self.status.as_u16());
    }
}

/// What a request carries: nothing, JSON, or raw bytes with the content type given.
enum Body<'a> {
    None,
    Json(&'a Value),
    Raw(Option<&'a str>, Vec<u8>),
}

async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Body<'_>,
) -> Answer {
    let mut request = Client::new().request(method, server.at(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request = match body {
        Body::None => request,
        Body::Json(value) => request.json(value),
        Body::Raw(content_type, bytes) => {
            let request = request.body(bytes);
            match content_type {
                Some(content_type) => request.header("content-type", content_type),
                None => request,
            }
        }
    };
    let response = request.send().await.expect("the server answers");
    Answer {
        status: response.status(),
        text: response.text().await.unwrap_or_default(),
    }
}

async fn get(server: &TestServer, path: &str, token: &str) -> Answer {
    send(server, Method::GET, path, Some(token), Body::None).await
}

async fn post(server: &TestServer, path: &str, token: &str, body: &Value) -> Answer {
    send(server, Method::POST, path, Some(token), Body::Json(body)).await
}

async fn put(server: &TestServer, path: &str, token: &str, body: &Value) -> Answer {
    send(server, Method::PUT, path, Some(token), Body::Json(body)).await
}

fn role_of(org: &TestOrg, name: &str) -> RoleId {
    org.roles.iter().find(|(n, _)| *n == name).unwrap().1
}

/// An organisation under attack: an administrator (a Super Administrator, who holds every
/// permission) and a cashier, each signed in on a device of their own.
struct Org {
    org: TestOrg,
    admin: Session,
    cashier: Session,
}

struct Session {
    user: UserId,
    device: DeviceId,
    tokens: TokenResponse,
}

impl Session {
    fn token(&self) -> &str {
        &self.tokens.access_token
    }
}

async fn signed_in(server: &TestServer, org: &TestOrg, username: &str, role: &str) -> Session {
    let user = server.create_user(org, username, role, PASSWORD).await;
    let device = new_device();
    let tokens = server.login(username, PASSWORD, device).await;
    Session {
        user,
        device,
        tokens,
    }
}

/// An organisation named `name` whose usernames start with `prefix`.
async fn organisation(server: &TestServer, name: &str, prefix: &str) -> Org {
    let org = server.create_organisation(name).await;
    let admin = signed_in(
        server,
        &org,
        &format!("{prefix}-admin"),
        "Super Administrator",
    )
    .await;
    let cashier = signed_in(server, &org, &format!("{prefix}-cashier"), "Cashier").await;
    Org {
        org,
        admin,
        cashier,
    }
}

/// Runs a read-only `sql` with one parameter on the server's database, after the attack:
/// only to show what the attack left behind.
async fn server_count(server: &TestServer, sql: &str, param: String) -> i64 {
    crate::push::server_scalar(server, sql, param).await
}

/// Every table of the server's store, by name: a test that sent SQL at the server shows
/// that they are all still there.
async fn server_tables(server: &TestServer) -> Vec<String> {
    server
        .db
        .call(
            |conn| -> Result<Vec<String>, tillpoint_server::store::DbError> {
                let mut stmt = conn.prepare(if conn.is_postgres() {
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
                } else {
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                })?;
                let names = stmt
                    .query_map((), |r| r.get(0))?
                    .collect::<Result<Vec<String>, _>>()?;
                Ok(names)
            },
        )
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// A stolen till: its journal and device key, as an attacker with the till's disk and
// keyring has them.

/// A shop with a till the cashier has signed in on (its device key bound), one product in
/// its store, its till open.
struct Shop {
    server: TestServer,
    target: Org,
    till: TestTill,
    /// 1.25, standard-rated.
    bread: TestProduct,
}

async fn shop() -> Shop {
    let server = spawn_server().await;
    let target = organisation(&server, "Kwik Mart", "kwik").await;
    let bread = TestProduct::each(1, "BREAD", "White Bread 700g", 125);
    let till = spawn_till(&server.url);
    tillpoint_system_tests::catalog::install(till.data_dir(), &target.org, &[&bread]);
    till.till.sign_in("kwik-cashier", PASSWORD).await.unwrap();
    till.till
        .open_till(&[CountInput {
            currency: "USD".into(),
            tender: TenderMethod::Cash,
            amount: "50.00".into(),
        }])
        .expect("the till opens");
    Shop {
        server,
        target,
        till,
        bread,
    }
}

impl Shop {
    /// The cashier's access token on the till's own device.
    async fn till_token(&self) -> String {
        self.server
            .login("kwik-cashier", PASSWORD, self.device())
            .await
            .access_token
    }

    fn device(&self) -> DeviceId {
        crate::push::device_of(&self.till)
    }

    /// Sells `quantity` loaves for `cash` dollars; returns the sale's id.
    async fn sell(&self, quantity: &str, cash: &str) -> String {
        crate::push::sell(&self.till, &self.bread, quantity, cash).await
    }

    /// The till's whole journal.
    fn journal(&self) -> Vec<JournalRecord> {
        crate::push::journal(&self.till)
    }

    /// The till's device key, from its keyring.
    fn device_key(&self) -> SigningKey {
        crate::push::device_key(&self.till)
    }

    /// `records` as a batch of this till, signed with its own key.
    fn batch(&self, records: Vec<JournalRecord>) -> PushRequest {
        signed(self.device(), &self.device_key(), records)
    }

    async fn sales_on_server(&self) -> i64 {
        server_count(
            &self.server,
            "SELECT COUNT(*) FROM sales WHERE org_id = ?1",
            self.target.org.id.to_string(),
        )
        .await
    }

    async fn records_on_server(&self) -> i64 {
        server_count(
            &self.server,
            "SELECT COUNT(*) FROM sync_records WHERE org_id = ?1",
            self.target.org.id.to_string(),
        )
        .await
    }
}

/// Re-links `records` from `index` on, onto the record before it.
fn relink_from(records: &mut [JournalRecord], index: usize) {
    let prev = records[index - 1].hash.clone();
    relink(&mut records[index..], &prev);
}
