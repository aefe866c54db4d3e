//! The admin API and the catalog API over real HTTP, and the organisation boundary they
//! keep (ARCHITECTURE.md §2 "Tenancy").
//!
//! The boundary tests put two organisations, A and B, on one server and let A's
//! administrator (a Super Administrator: every permission) try every endpoint on B's things.
//! Each of B's ids must be answered byte for byte as a random id that names nothing, A's
//! listings must never hold B's rows, and B must be unchanged afterwards. Then each
//! endpoint's own contract: the happy path, its permission (403 for a Cashier, 401 without a
//! token), bad input (422), conflicts (409), what a change does to sign-in and refresh, and
//! the audit entry it writes.

mod devices;
mod organisation_boundary;
mod products;
mod roles;
mod row_level_security;
mod settings;
mod users;
mod who_may_call;

use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{json, Value};
use tillpoint_protocol::auth::TokenResponse;
use tillpoint_protocol::{Barcode, CurrencyCode, DeviceId, OrgId, RoleId, UserId};
use tillpoint_server::catalog::{add_products, add_tax_class, NewProduct, TaxClassCode, Unit};
use tillpoint_server::store::DbError;
use tillpoint_server::testing::{new_device, spawn_server, TestOrg, TestServer};

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "another long passphrase";

/// One HTTP answer: status, headers and the JSON body (`Null` when empty).
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        self.body
    }
}

async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    let mut request = Client::new().request(method, server.at(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(server: &TestServer, path: &str, token: &str) -> Answer {
    call(server, Method::GET, path, Some(token), None).await
}

async fn post(server: &TestServer, path: &str, token: &str, body: Value) -> Answer {
    call(server, Method::POST, path, Some(token), Some(&body)).await
}

async fn put(server: &TestServer, path: &str, token: &str, body: Value) -> Answer {
    call(server, Method::PUT, path, Some(token), Some(&body)).await
}

async fn login_attempt(
    server: &TestServer,
    username: &str,
    password: &str,
    device: DeviceId,
) -> Answer {
    let body = json!({"username": username, "password": password, "device_id": device});
    call(server, Method::POST, "api/v1/auth/login", None, Some(&body)).await
}

async fn refresh(server: &TestServer, session: &Session) -> Answer {
    let body = json!({"refresh_token": session.tokens.refresh_token, "device_id": session.device});
    call(
        server,
        Method::POST,
        "api/v1/auth/refresh",
        None,
        Some(&body),
    )
    .await
}

/// A signed-in person: their tokens and the device they signed in on.
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

async fn user_signed_in(server: &TestServer, org: &TestOrg, username: &str, role: &str) -> Session {
    let user = server.create_user(org, username, role, PASSWORD).await;
    let device = new_device();
    let tokens = server.login(username, PASSWORD, device).await;
    Session {
        user,
        device,
        tokens,
    }
}

fn role_of(org: &TestOrg, name: &str) -> RoleId {
    org.roles.iter().find(|(n, _)| *n == name).unwrap().1
}

fn random_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Tax classes, and `count` products with one barcode each, in `org`. Returns their ids, sorted.
async fn seed_products(server: &TestServer, org: OrgId, count: usize) -> Vec<String> {
    server
        .db
        .call(move |conn| -> Result<Vec<String>, DbError> {
            let tx = conn.transaction()?;
            let standard = add_tax_class(&tx, org, TaxClassCode::Standard, "VAT 15 %", 1500)?;
            let zero = add_tax_class(&tx, org, TaxClassCode::ZeroRated, "Zero-rated", 0)?;
            let usd = CurrencyCode::parse("USD").unwrap();
            add_products(
                &tx,
                org,
                (0..count).map(|i| NewProduct {
                    sku: format!("SKU-{i:04}"),
                    name: format!("Product {i}"),
                    unit: if i % 2 == 0 { Unit::Each } else { Unit::Kg },
                    tax_class_id: if i % 3 == 0 {
                        zero.clone()
                    } else {
                        standard.clone()
                    },
                    price_minor: 100 + i as i64,
                    currency: usd,
                    barcodes: vec![
                        Barcode::ean13_from_body(&format!("{:012}", 600_000 + i)).unwrap()
                    ],
                }),
            )?;
            let mut stmt = tx.prepare("SELECT id FROM products WHERE org_id = ?1 ORDER BY id")?;
            let ids = stmt
                .query_map([org.to_string()], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            drop(stmt);
            tx.commit()?;
            Ok(ids)
        })
        .await
        .unwrap()
}

/// One audit entry: (event, actor, device, detail).
type AuditRow = (String, Option<String>, Option<String>, Value);

/// The audit entries of `org` other than sign-in's own, oldest first.
async fn admin_audit(server: &TestServer, org: OrgId) -> Vec<AuditRow> {
    server
        .db
        .call(move |conn| -> Result<Vec<AuditRow>, DbError> {
            let mut stmt = conn.prepare(
                "SELECT event, actor_id, device_id, detail FROM audit_log
                  WHERE org_id = ?1 AND event NOT IN ('login_succeeded', 'login_failed', 'token_refreshed', 'refresh_refused')
                  ORDER BY at, id",
            )?;
            let rows = stmt
                .query_map([org.to_string()], |r| {
                    let detail: String = r.get(3)?;
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, serde_json::from_str(&detail).unwrap()))
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
        .unwrap()
}

/// Every administrative change ever logged, in any organisation.
async fn all_admin_events(server: &TestServer) -> Vec<String> {
    server
        .db
        .call(|conn| -> Result<Vec<String>, DbError> {
            let mut stmt = conn.prepare(
                "SELECT event FROM audit_log WHERE event IN ('user_created', 'user_disabled',
                   'user_enabled', 'password_reset', 'role_assigned', 'role_created',
                   'role_permissions_changed', 'settings_changed', 'device_revoked')
                 ORDER BY at, id",
            )?;
            let rows = stmt
                .query_map((), |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
        .unwrap()
}

#[track_caller]
fn assert_audited(rows: &[AuditRow], event: &str, actor: UserId) -> Value {
    let found: Vec<&AuditRow> = rows.iter().filter(|r| r.0 == event).collect();
    assert_eq!(found.len(), 1, "one {event} entry expected in {rows:?}");
    assert_eq!(
        found[0].1.as_deref(),
        Some(actor.to_string().as_str()),
        "{event} names its actor"
    );
    found[0].3.clone()
}

fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every endpoint of the admin and catalog API, with a valid body, aimed at these ids.
fn every_endpoint(
    user: &str,
    role: &str,
    device: &str,
    product: &str,
    some_role: RoleId,
) -> Vec<(Method, String, Option<Value>)> {
    let settings = json!({
        "access_token_ttl_secs": 900,
        "offline_grant_ttl_secs": 3600,
        "offline_permissions": ["pos:sales:create"],
        "offline_limits": {},
    });
    vec![
        (Method::GET, "api/v1/admin/users".into(), None),
        (
            Method::POST,
            "api/v1/admin/users".into(),
            Some(
                json!({"username": "newcomer", "name": "New", "email": "n@x.example",
                        "role_id": some_role, "password": PASSWORD}),
            ),
        ),
        (Method::GET, format!("api/v1/admin/users/{user}"), None),
        (
            Method::POST,
            format!("api/v1/admin/users/{user}/disable"),
            None,
        ),
        (
            Method::POST,
            format!("api/v1/admin/users/{user}/enable"),
            None,
        ),
        (
            Method::POST,
            format!("api/v1/admin/users/{user}/password"),
            Some(json!({"password": NEW_PASSWORD, "current_password": PASSWORD})),
        ),
        (
            Method::PUT,
            format!("api/v1/admin/users/{user}/role"),
            Some(json!({"role_id": some_role})),
        ),
        (Method::GET, "api/v1/admin/roles".into(), None),
        (
            Method::POST,
            "api/v1/admin/roles".into(),
            Some(json!({"name": "Night shift", "permissions": ["pos:sales:create"]})),
        ),
        (
            Method::PUT,
            format!("api/v1/admin/roles/{role}/permissions"),
            Some(json!({"permissions": ["pos:sales:view"]})),
        ),
        (Method::GET, "api/v1/admin/settings".into(), None),
        (Method::PUT, "api/v1/admin/settings".into(), Some(settings)),
        (Method::GET, "api/v1/admin/devices".into(), None),
        (
            Method::POST,
            format!("api/v1/admin/devices/{device}/revoke"),
            None,
        ),
        (Method::GET, "api/v1/products".into(), None),
        (Method::GET, format!("api/v1/products/{product}"), None),
    ]
}

/// Two organisations on one server, each with a Super Administrator and a Cashier signed in,
/// a custom role, a disabled user and products.
struct TwoShops {
    server: TestServer,
    a: Shop,
    b: Shop,
}

struct Shop {
    org: TestOrg,
    /// Starts each of its usernames.
    prefix: &'static str,
    admin: Session,
    cashier: Session,
    role: RoleId,
    disabled_user: UserId,
    products: Vec<String>,
}

async fn shop(server: &TestServer, name: &str, prefix: &'static str) -> Shop {
    let org = server.create_organisation(name).await;
    let admin = user_signed_in(
        server,
        &org,
        &format!("{prefix}-admin"),
        "Super Administrator",
    )
    .await;
    let cashier = user_signed_in(server, &org, &format!("{prefix}-cashier"), "Cashier").await;
    let role = post(
        server,
        "api/v1/admin/roles",
        admin.token(),
        json!({"name": "Supervisor", "permissions": ["pos:sales:refund", "pos:sales:view"]}),
    )
    .await
    .expect(201);
    let leaver = server
        .create_user(&org, &format!("{prefix}-leaver"), "Cashier", PASSWORD)
        .await;
    post(
        server,
        &format!("api/v1/admin/users/{leaver}/disable"),
        admin.token(),
        json!({}),
    )
    .await
    .expect(200);
    let products = seed_products(server, org.id, 3).await;
    Shop {
        role: role["id"].as_str().unwrap().parse().unwrap(),
        disabled_user: leaver,
        products,
        org,
        prefix,
        admin,
        cashier,
    }
}

async fn two_shops() -> TwoShops {
    let server = spawn_server().await;
    let a = shop(&server, "Avondale Bakery", "a").await;
    let b = shop(&server, "Borrowdale Butchery", "b").await;
    TwoShops { server, a, b }
}
