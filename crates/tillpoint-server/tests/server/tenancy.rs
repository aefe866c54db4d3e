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

use reqwest::header::{HeaderMap, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Client, Method};
use serde_json::{json, Value};
use tillpoint_protocol::auth::TokenResponse;
use tillpoint_protocol::{Barcode, CurrencyCode, DeviceId, OrgId, RoleId, UserId};
use tillpoint_server::catalog::{add_products, add_tax_class, NewProduct, TaxClassCode, Unit};
use tillpoint_server::store::DbError;
use tillpoint_server::testing::{new_device, spawn_server, TestOrg, TestServer};

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "another long passphrase";

// ---------------------------------------------------------------------------------------------
// Helpers

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
                  ORDER BY at, rowid",
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
                 ORDER BY at, rowid",
            )?;
            let rows = stmt
                .query_map([], |r| r.get(0))?
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
            Some(json!({"password": NEW_PASSWORD})),
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

// ---------------------------------------------------------------------------------------------
// The organisation boundary

#[tokio::test]
async fn another_organisations_ids_answer_exactly_like_ids_that_name_nothing() {
    let TwoShops { server, a, b } = two_shops().await;
    let before = all_admin_events(&server).await;
    let a_role = role_of(&a.org, "Cashier");
    let b_ids = every_endpoint(
        &b.cashier.user.to_string(),
        &b.role.to_string(),
        &b.cashier.device.to_string(),
        &b.products[0],
        a_role,
    );
    let nobody = random_id();
    let unknown_ids = every_endpoint(&nobody, &nobody, &nobody, &nobody, a_role);
    let mut compared = 0;
    for ((method, b_path, body), (_, unknown_path, _)) in b_ids.iter().zip(&unknown_ids) {
        if b_path == unknown_path {
            continue; // no id in this path: the listings are checked below
        }
        let to_b = call(
            &server,
            method.clone(),
            b_path,
            Some(a.admin.token()),
            body.as_ref(),
        )
        .await;
        let to_nothing = call(
            &server,
            method.clone(),
            unknown_path,
            Some(a.admin.token()),
            body.as_ref(),
        )
        .await;
        assert_eq!(to_b.status, 404, "{method} {b_path}: {}", to_b.body);
        assert_eq!(to_b.error_code(), "not_found");
        assert_eq!(
            (to_b.status, &to_b.body),
            (to_nothing.status, &to_nothing.body),
            "{method} {b_path} tells B's id from an unknown one"
        );
        compared += 1;
    }
    assert_eq!(compared, 8, "every endpoint that takes an id in its path");
    // An id that is not even a UUID reads the same as well.
    let malformed = get(&server, "api/v1/admin/users/not-an-id", a.admin.token()).await;
    let unknown = get(
        &server,
        &format!("api/v1/admin/users/{nobody}"),
        a.admin.token(),
    )
    .await;
    assert_eq!(
        (malformed.status, malformed.body),
        (unknown.status, unknown.body)
    );

    // Nothing of B changed: its users, role, device and grants are as they were.
    assert_eq!(
        all_admin_events(&server).await,
        before,
        "no change was made anywhere"
    );
    let users = get(&server, "api/v1/admin/users", b.admin.token())
        .await
        .expect(200);
    for user in users["users"].as_array().unwrap() {
        let is_leaver = user["id"] == json!(b.disabled_user);
        assert_eq!(user["disabled"], json!(is_leaver), "{user}");
        assert_ne!(user["role_id"], json!(a_role));
    }
    server.login("b-cashier", PASSWORD, new_device()).await; // the password was not reset
    refresh(&server, &b.cashier).await.expect(200); // nor the device revoked
    let roles = get(&server, "api/v1/admin/roles", b.admin.token())
        .await
        .expect(200);
    let supervisor = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(b.role))
        .unwrap();
    assert_eq!(
        supervisor["permissions"],
        json!(["pos:sales:refund", "pos:sales:view"])
    );
}

#[tokio::test]
async fn another_organisations_role_cannot_be_given_to_a_user() {
    let TwoShops { server, a, b } = two_shops().await;
    let path = format!("api/v1/admin/users/{}/role", a.cashier.user);
    let with_b_role = put(&server, &path, a.admin.token(), json!({"role_id": b.role})).await;
    let with_no_role = put(
        &server,
        &path,
        a.admin.token(),
        json!({"role_id": random_id()}),
    )
    .await;
    assert_eq!(with_b_role.status, 422, "{}", with_b_role.body);
    assert_eq!(
        (with_b_role.status, &with_b_role.body),
        (with_no_role.status, &with_no_role.body)
    );

    let new_user = |role: String| json!({"username": "a-newcomer", "name": "N", "email": "n@a.example", "role_id": role, "password": PASSWORD});
    let create_b = post(
        &server,
        "api/v1/admin/users",
        a.admin.token(),
        new_user(b.role.to_string()),
    )
    .await;
    let create_none = post(
        &server,
        "api/v1/admin/users",
        a.admin.token(),
        new_user(random_id()),
    )
    .await;
    assert_eq!(create_b.status, 422, "{}", create_b.body);
    assert_eq!(
        (create_b.status, &create_b.body),
        (create_none.status, &create_none.body)
    );

    let cashier = get(
        &server,
        &format!("api/v1/admin/users/{}", a.cashier.user),
        a.admin.token(),
    )
    .await
    .expect(200);
    assert_eq!(cashier["role"], "Cashier");
    assert_eq!(
        login_attempt(&server, "a-newcomer", PASSWORD, new_device())
            .await
            .status,
        401
    );
    let after = refresh(&server, &a.cashier).await.expect(200);
    assert_eq!(after["user"]["role"], "Cashier");
}

#[tokio::test]
async fn listings_hold_only_the_callers_organisation() {
    let TwoShops { server, a, b } = two_shops().await;
    for (me, other) in [(&a, &b), (&b, &a)] {
        let token = me.admin.token();
        let users = get(&server, "api/v1/admin/users", token).await.expect(200);
        let mut user_ids = ids_of(&users["users"]);
        user_ids.sort();
        let mut expected = vec![
            me.admin.user.to_string(),
            me.cashier.user.to_string(),
            me.disabled_user.to_string(),
        ];
        expected.sort();
        assert_eq!(user_ids, expected);
        for user in users["users"].as_array().unwrap() {
            assert!(user["username"].as_str().unwrap().starts_with(me.prefix));
        }

        let roles = get(&server, "api/v1/admin/roles", token).await.expect(200);
        let role_ids = ids_of(&roles["roles"]);
        let mut own: Vec<String> = me.org.roles.iter().map(|(_, id)| id.to_string()).collect();
        own.push(me.role.to_string());
        assert_eq!(role_ids.len(), 6);
        assert!(role_ids.iter().all(|id| own.contains(id)), "{roles}");
        assert!(!role_ids.contains(&other.role.to_string()));

        let devices = get(&server, "api/v1/admin/devices", token)
            .await
            .expect(200);
        let mut device_ids = ids_of(&devices["devices"]);
        device_ids.sort();
        let mut expected = vec![me.admin.device.to_string(), me.cashier.device.to_string()];
        expected.sort();
        assert_eq!(device_ids, expected);

        let products = get(&server, "api/v1/products", token).await.expect(200);
        assert_eq!(ids_of(&products["products"]), me.products);
        for product in &other.products {
            assert!(!ids_of(&products["products"]).contains(product));
        }
    }
}

#[tokio::test]
async fn settings_are_per_organisation() {
    let TwoShops { server, a, b } = two_shops().await;
    let b_before = get(&server, "api/v1/admin/settings", b.admin.token())
        .await
        .expect(200);
    let mut changed = get(&server, "api/v1/admin/settings", a.admin.token())
        .await
        .expect(200);
    assert_eq!(changed, b_before, "both start from the defaults");
    changed["access_token_ttl_secs"] = json!(600);
    changed["offline_grant_ttl_secs"] = json!(3600);
    changed["offline_permissions"] = json!(["pos:sales:create"]);
    put(
        &server,
        "api/v1/admin/settings",
        a.admin.token(),
        changed.clone(),
    )
    .await
    .expect(200);

    assert_eq!(
        get(&server, "api/v1/admin/settings", a.admin.token())
            .await
            .expect(200),
        changed
    );
    assert_eq!(
        get(&server, "api/v1/admin/settings", b.admin.token())
            .await
            .expect(200),
        b_before
    );
    // And B's tokens still follow B's settings.
    let b_refreshed = refresh(&server, &b.cashier).await.expect(200);
    assert_eq!(b_refreshed["expires_in"], b_before["access_token_ttl_secs"]);
    let a_refreshed = refresh(&server, &a.cashier).await.expect(200);
    assert_eq!(a_refreshed["expires_in"], 600);
    assert!(admin_audit(&server, b.org.id)
        .await
        .iter()
        .all(|row| row.0 != "settings_changed"));
}

#[tokio::test]
async fn a_username_taken_in_another_organisation_is_a_conflict_that_names_no_organisation() {
    let TwoShops { server, a, b } = two_shops().await;
    for username in ["b-cashier", "B-Cashier"] {
        let answer = post(
            &server,
            "api/v1/admin/users",
            a.admin.token(),
            json!({"username": username, "name": "Copy", "email": "c@a.example",
                   "role_id": role_of(&a.org, "Cashier"), "password": PASSWORD}),
        )
        .await;
        assert_eq!(answer.status, 409, "{}", answer.body);
        assert_eq!(answer.error_code(), "conflict");
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(
            !message.contains(&b.org.id.to_string()) && !message.contains(&b.org.name),
            "{message}"
        );
    }
    let users = get(&server, "api/v1/admin/users", a.admin.token())
        .await
        .expect(200);
    assert_eq!(users["users"].as_array().unwrap().len(), 3);
    server.login("b-cashier", PASSWORD, new_device()).await;
}

// ---------------------------------------------------------------------------------------------
// Who may call

#[tokio::test]
async fn a_cashier_is_forbidden_every_admin_and_catalog_endpoint_and_changes_nothing() {
    let TwoShops { server, a, .. } = two_shops().await;
    let before = all_admin_events(&server).await;
    let endpoints = every_endpoint(
        &a.admin.user.to_string(),
        &role_of(&a.org, "Super Administrator").to_string(),
        &a.admin.device.to_string(),
        &a.products[0],
        role_of(&a.org, "Super Administrator"),
    );
    for (method, path, body) in &endpoints {
        let answer = call(
            &server,
            method.clone(),
            path,
            Some(a.cashier.token()),
            body.as_ref(),
        )
        .await;
        assert_eq!(answer.status, 403, "{method} {path}: {}", answer.body);
        assert_eq!(answer.error_code(), "forbidden", "{method} {path}");
    }
    assert_eq!(all_admin_events(&server).await, before);
    refresh(&server, &a.admin).await.expect(200);
}

#[tokio::test]
async fn each_endpoint_needs_its_own_permission() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let stock = user_signed_in(&server, &org, "stock", "Stock Manager").await;
    seed_products(&server, org.id, 1).await;
    get(&server, "api/v1/products", stock.token())
        .await
        .expect(200);
    for path in [
        "api/v1/admin/users",
        "api/v1/admin/roles",
        "api/v1/admin/settings",
        "api/v1/admin/devices",
    ] {
        assert_eq!(
            get(&server, path, stock.token()).await.status,
            403,
            "{path}"
        );
    }
    // A role holding only admin:users:manage manages users and nothing else.
    let admin = user_signed_in(&server, &org, "root", "Super Administrator").await;
    let role = post(
        &server,
        "api/v1/admin/roles",
        admin.token(),
        json!({"name": "People", "permissions": ["admin:users:manage"]}),
    )
    .await
    .expect(201);
    let people = user_signed_in(&server, &org, "people", "Cashier").await;
    put(
        &server,
        &format!("api/v1/admin/users/{}/role", people.user),
        admin.token(),
        json!({"role_id": role["id"]}),
    )
    .await
    .expect(200);
    let people = server
        .login("people", PASSWORD, people.device)
        .await
        .access_token;
    get(&server, "api/v1/admin/users", &people)
        .await
        .expect(200);
    for path in [
        "api/v1/admin/roles",
        "api/v1/admin/settings",
        "api/v1/admin/devices",
        "api/v1/products",
    ] {
        let answer = get(&server, path, &people).await;
        assert_eq!(answer.status, 403, "{path}");
        assert_eq!(answer.error_code(), "forbidden");
    }
}

#[tokio::test]
async fn without_a_token_every_endpoint_is_401_with_a_challenge() {
    let server = spawn_server().await;
    let id = random_id();
    for (method, path, body) in
        every_endpoint(&id, &id, &id, &id, RoleId::from_uuid(uuid::Uuid::now_v7()))
    {
        let answer = call(&server, method.clone(), &path, None, body.as_ref()).await;
        assert_eq!(answer.status, 401, "{method} {path}");
        assert_eq!(answer.error_code(), "unauthenticated");
        let challenge = answer
            .headers
            .get(WWW_AUTHENTICATE)
            .expect("WWW-Authenticate");
        assert!(
            challenge.to_str().unwrap().starts_with("Bearer"),
            "{challenge:?}"
        );
        // A malformed id does not get past the missing token either.
        let answer = call(
            &server,
            method,
            &path.replace(&id, "not-an-id"),
            None,
            body.as_ref(),
        )
        .await;
        assert_eq!(answer.status, 401);
    }
}

#[tokio::test]
async fn every_endpoint_is_in_the_api_document_behind_the_bearer_scheme() {
    let server = spawn_server().await;
    let doc = reqwest::get(server.at("api/v1/openapi.json"))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let id = "{id}";
    let endpoints = every_endpoint(id, id, id, id, RoleId::from_uuid(uuid::Uuid::nil()));
    for (method, path, _) in endpoints {
        let operation = &doc["paths"][format!("/{path}")][method.as_str().to_lowercase()];
        assert!(operation.is_object(), "{method} /{path} is not documented");
        assert_eq!(
            operation["security"],
            json!([{"bearer": []}]),
            "{method} /{path}"
        );
        assert!(
            operation["responses"]["401"].is_object(),
            "{method} /{path}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Users

#[tokio::test]
async fn an_administrator_creates_a_user_who_can_then_sign_in() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let admin = user_signed_in(&server, &org, "root", "Super Administrator").await;
    let answer = post(
        &server,
        "api/v1/admin/users",
        admin.token(),
        json!({"username": "tatenda.s", "name": "Tatenda Sibanda", "email": "tatenda@shop.example",
               "role_id": role_of(&org, "Cashier"), "password": PASSWORD}),
    )
    .await;
    let location = answer
        .headers
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_owned());
    let created = answer.expect(201);
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        location.as_deref(),
        Some(format!("/api/v1/admin/users/{id}").as_str())
    );
    assert_eq!(
        created,
        json!({"id": id, "username": "tatenda.s", "name": "Tatenda Sibanda",
               "email": "tatenda@shop.example", "role_id": role_of(&org, "Cashier"),
               "role": "Cashier", "disabled": false})
    );
    assert_eq!(
        get(&server, &format!("api/v1/admin/users/{id}"), admin.token())
            .await
            .expect(200),
        created
    );
    let listed = get(&server, "api/v1/admin/users", admin.token())
        .await
        .expect(200);
    assert!(listed["users"].as_array().unwrap().contains(&created));

    let signed_in = server.login("tatenda.s", PASSWORD, new_device()).await;
    assert_eq!(signed_in.user.id.to_string(), id);
    assert_eq!(signed_in.user.organisation_id, org.id);
    assert_eq!(signed_in.user.role, "Cashier");

    let audit = admin_audit(&server, org.id).await;
    let detail = assert_audited(&audit, "user_created", admin.user);
    assert_eq!(detail["user"], json!(id));
    assert_eq!(detail["username"], "tatenda.s");
}

#[tokio::test]
async fn bad_user_details_are_refused_with_422_and_nothing_is_created() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let admin = user_signed_in(&server, &org, "root", "Super Administrator").await;
    let good = json!({"username": "valid_name-1.x", "name": "Valid", "email": "v@shop.example",
                      "role_id": role_of(&org, "Cashier"), "password": PASSWORD});
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let mut without_email = good.clone();
    without_email.as_object_mut().unwrap().remove("email");
    let cases = [
        ("empty username", with("username", json!(""))),
        ("space in username", with("username", json!("two words"))),
        (
            "non-ASCII username",
            with("username", json!("tendai\u{e9}")),
        ),
        ("username of 65", with("username", json!("a".repeat(65)))),
        ("short password", with("password", json!("seven77"))),
        ("blank name", with("name", json!("   "))),
        ("no @ in email", with("email", json!("nobody.example"))),
        ("role id not a UUID", with("role_id", json!("cashier"))),
        ("unknown field", with("org_id", json!(random_id()))),
        ("missing field", without_email),
    ];
    for (case, body) in cases {
        let answer = post(&server, "api/v1/admin/users", admin.token(), body).await;
        assert_eq!(answer.status, 422, "{case}: {}", answer.body);
        assert_eq!(answer.error_code(), "unprocessable", "{case}");
        assert!(!answer.body["error"]["message"].as_str().unwrap().is_empty());
    }
    let users = get(&server, "api/v1/admin/users", admin.token())
        .await
        .expect(200);
    assert_eq!(users["users"].as_array().unwrap().len(), 1);
    // The limits themselves are allowed.
    post(
        &server,
        "api/v1/admin/users",
        admin.token(),
        with("username", json!("a".repeat(64))),
    )
    .await
    .expect(201);
    let mut shortest_password = with("password", json!("eight888"));
    shortest_password["username"] = json!("second");
    post(
        &server,
        "api/v1/admin/users",
        admin.token(),
        shortest_password,
    )
    .await
    .expect(201);
    let short = post(
        &server,
        &format!("api/v1/admin/users/{}/password", admin.user),
        admin.token(),
        json!({"password": "short"}),
    )
    .await;
    assert_eq!(short.status, 422);
}

#[tokio::test]
async fn disabling_a_user_refuses_their_refresh_and_sign_in_until_enabled() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let admin = user_signed_in(&server, &org, "root", "Super Administrator").await;
    let cashier = user_signed_in(&server, &org, "till1", "Cashier").await;

    let disabled = post(
        &server,
        &format!("api/v1/admin/users/{}/disable", cashier.user),
        admin.token(),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(disabled["disabled"], true);
    assert_eq!(refresh(&server, &cashier).await.status, 401);
    let refused = login_attempt(&server, "till1", PASSWORD, cashier.device).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.error_code(), "unauthenticated");

    let enabled = post(
        &server,
        &format!("api/v1/admin/users/{}/enable", cashier.user),
        admin.token(),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(enabled["disabled"], false);
    server.login("till1", PASSWORD, cashier.device).await;

    let audit = admin_audit(&server, org.id).await;
    let detail = assert_audited(&audit, "user_disabled", admin.user);
    assert_eq!(detail["user"], json!(cashier.user));
    assert_eq!(detail["refresh_tokens_revoked"], 1);
    assert_audited(&audit, "user_enabled", admin.user);
}

#[tokio::test]
async fn nobody_disables_their_own_account() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let admin = user_signed_in(&server, &org, "root", "Super Administrator").await;
    let answer = post(
        &server,
        &format!("api/v1/admin/users/{}/disable", admin.user),
        admin.token(),
        json!({}),
    )
    .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    refresh(&server, &admin).await.expect(200);
    assert!(admin_audit(&server, org.id).await.is_empty());
}

#[tokio::test]
async fn a_password_reset_ends_the_old_sessions_and_the_new_password_works() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let admin = user_signed_in(&server, &org, "root", "Super Administrator").await;
    let cashier = user_signed_in(&server, &org, "till1", "Cashier").await;
    let answer = post(
        &server,
        &format!("api/v1/admin/users/{}/password", cashier.user),
        admin.token(),
        json!({"password": NEW_PASSWORD}),
    )
    .await;
    assert_eq!(answer.status, 204, "{}", answer.body);
    assert_eq!(refresh(&server, &cashier).await.status, 401);
    assert_eq!(
        login_attempt(&server, "till1", PASSWORD, cashier.device)
            .await
            .status,
        401
    );
    server.login("till1", NEW_PASSWORD, cashier.device).await;
    let audit = admin_audit(&server, org.id).await;
    let detail = assert_audited(&audit, "password_reset", admin.user);
    assert_eq!(detail["user"], json!(cashier.user));
    assert!(!detail.to_string().contains(NEW_PASSWORD));
}

// ---------------------------------------------------------------------------------------------
// Roles

#[tokio::test]
async fn a_new_role_given_to_a_user_shows_in_their_next_refresh() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let admin = user_signed_in(&server, &org, "root", "Super Administrator").await;
    let cashier = user_signed_in(&server, &org, "till1", "Cashier").await;
    let role = post(
        &server,
        "api/v1/admin/roles",
        admin.token(),
        json!({"name": "Supervisor", "permissions": ["pos:sales:view", "pos:sales:refund", "pos:sales:view"]}),
    )
    .await
    .expect(201);
    assert_eq!(role["name"], "Supervisor");
    assert_eq!(role["standard"], false);
    assert_eq!(
        role["permissions"],
        json!(["pos:sales:refund", "pos:sales:view"])
    );
    let roles = get(&server, "api/v1/admin/roles", admin.token())
        .await
        .expect(200);
    assert!(roles["roles"].as_array().unwrap().contains(&role));
    let standard: Vec<&Value> = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["standard"] == true)
        .collect();
    assert_eq!(standard.len(), 5);

    let assigned = put(
        &server,
        &format!("api/v1/admin/users/{}/role", cashier.user),
        admin.token(),
        json!({"role_id": role["id"]}),
    )
    .await
    .expect(200);
    assert_eq!(assigned["role"], "Supervisor");
    let refreshed = refresh(&server, &cashier).await.expect(200);
    assert_eq!(refreshed["user"]["role"], "Supervisor");
    assert_eq!(
        refreshed["user"]["permissions"],
        json!(["pos:sales:refund", "pos:sales:view"])
    );

    let audit = admin_audit(&server, org.id).await;
    let created = assert_audited(&audit, "role_created", admin.user);
    assert_eq!(created["role"], role["id"]);
    let moved = assert_audited(&audit, "role_assigned", admin.user);
    assert_eq!(moved["user"], json!(cashier.user));
    assert_eq!(moved["from_role"], json!(role_of(&org, "Cashier")));
    assert_eq!(moved["to_role"], role["id"]);
}

#[tokio::test]
async fn changing_a_roles_permissions_shows_in_its_users_next_refresh() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let admin = user_signed_in(&server, &org, "root", "Super Administrator").await;
    let cashier = user_signed_in(&server, &org, "till1", "Cashier").await;
    assert!(!cashier
        .tokens
        .user
        .permissions
        .iter()
        .any(|p| p.as_str() == "pos:sales:refund"));
    let cashier_role = role_of(&org, "Cashier");
    let changed = put(
        &server,
        &format!("api/v1/admin/roles/{cashier_role}/permissions"),
        admin.token(),
        json!({"permissions": ["pos:sales:create", "pos:sales:refund"]}),
    )
    .await
    .expect(200);
    assert_eq!(changed["name"], "Cashier");
    assert_eq!(
        changed["permissions"],
        json!(["pos:sales:create", "pos:sales:refund"])
    );
    let refreshed = refresh(&server, &cashier).await.expect(200);
    assert_eq!(
        refreshed["user"]["permissions"],
        json!(["pos:sales:create", "pos:sales:refund"])
    );

    let audit = admin_audit(&server, org.id).await;
    let detail = assert_audited(&audit, "role_permissions_changed", admin.user);
    assert_eq!(detail["role"], json!(cashier_role));
    assert_eq!(
        detail["after"],
        json!(["pos:sales:create", "pos:sales:refund"])
    );
    assert!(detail["before"]
        .as_array()
        .unwrap()
        .contains(&json!("stock:inventory:view")));
}

#[tokio::test]
async fn bad_roles_are_refused() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let admin = user_signed_in(&server, &org, "root", "Super Administrator").await;
    for (case, body) in [
        (
            "malformed permission",
            json!({"name": "X", "permissions": ["POS:sales:create"]}),
        ),
        (
            "two segments",
            json!({"name": "X", "permissions": ["pos:sales"]}),
        ),
        ("blank name", json!({"name": "  ", "permissions": []})),
        (
            "unknown field",
            json!({"name": "X", "permissions": [], "standard": true}),
        ),
    ] {
        let answer = post(&server, "api/v1/admin/roles", admin.token(), body).await;
        assert_eq!(answer.status, 422, "{case}: {}", answer.body);
        assert_eq!(answer.error_code(), "unprocessable");
    }
    let bad_change = put(
        &server,
        &format!(
            "api/v1/admin/roles/{}/permissions",
            role_of(&org, "Cashier")
        ),
        admin.token(),
        json!({"permissions": ["pos:sales:create", "not a permission"]}),
    )
    .await;
    assert_eq!(bad_change.status, 422);
    let duplicate = post(
        &server,
        "api/v1/admin/roles",
        admin.token(),
        json!({"name": "cashier", "permissions": []}),
    )
    .await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.body);
    assert_eq!(duplicate.error_code(), "conflict");
    let roles = get(&server, "api/v1/admin/roles", admin.token())
        .await
        .expect(200);
    assert_eq!(roles["roles"].as_array().unwrap().len(), 5);
    let cashier = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Cashier")
        .unwrap();
    assert_eq!(cashier["permissions"].as_array().unwrap().len(), 4);
    assert!(admin_audit(&server, org.id).await.is_empty());
}

#[tokio::test]
async fn an_administrator_cannot_grant_or_take_over_more_than_they_hold() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let root = user_signed_in(&server, &org, "root", "Super Administrator").await;
    let admin = user_signed_in(&server, &org, "admin", "Administrator").await;
    let cashier = user_signed_in(&server, &org, "till1", "Cashier").await;
    let token = admin.token();
    let super_role = role_of(&org, "Super Administrator");
    let attempts = [
        (
            Method::POST,
            "api/v1/admin/roles".to_owned(),
            json!({"name": "God", "permissions": ["*:*:*"]}),
        ),
        (
            Method::PUT,
            format!("api/v1/admin/users/{}/role", admin.user),
            json!({"role_id": super_role}),
        ),
        (
            Method::PUT,
            format!(
                "api/v1/admin/roles/{}/permissions",
                role_of(&org, "Cashier")
            ),
            json!({"permissions": ["admin:keys:rotate"]}),
        ),
        (
            Method::PUT,
            format!("api/v1/admin/roles/{super_role}/permissions"),
            json!({"permissions": []}),
        ),
        (
            Method::POST,
            format!("api/v1/admin/users/{}/password", root.user),
            json!({"password": NEW_PASSWORD}),
        ),
        (
            Method::POST,
            format!("api/v1/admin/users/{}/disable", root.user),
            json!({}),
        ),
        (
            Method::POST,
            "api/v1/admin/users".to_owned(),
            json!({"username": "sock", "name": "S", "email": "s@x.example", "role_id": super_role, "password": PASSWORD}),
        ),
    ];
    for (method, path, body) in attempts {
        let answer = call(&server, method.clone(), &path, Some(token), Some(&body)).await;
        assert_eq!(answer.status, 403, "{method} {path}: {}", answer.body);
        assert_eq!(answer.error_code(), "forbidden");
    }
    assert!(admin_audit(&server, org.id).await.is_empty());
    refresh(&server, &root).await.expect(200);
    // What they do hold, they manage.
    post(
        &server,
        &format!("api/v1/admin/users/{}/password", cashier.user),
        token,
        json!({"password": NEW_PASSWORD}),
    )
    .await
    .expect(204);
    server.login("till1", NEW_PASSWORD, new_device()).await;
}

// ---------------------------------------------------------------------------------------------
// Settings

#[tokio::test]
async fn settings_changes_are_validated_and_shape_the_next_tokens() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let admin = user_signed_in(&server, &org, "root", "Super Administrator").await;
    let cashier = user_signed_in(&server, &org, "till1", "Cashier").await;
    let defaults = get(&server, "api/v1/admin/settings", admin.token())
        .await
        .expect(200);
    assert_eq!(defaults["access_token_ttl_secs"], 3600);
    assert_eq!(defaults["offline_grant_ttl_secs"], 72 * 3600);
    assert_eq!(defaults["offline_limits"]["USD"]["max_sale"], 50_000);

    let with = |field: &str, value: Value| {
        let mut body = defaults.clone();
        body[field] = value;
        body
    };
    for (case, body) in [
        (
            "token lifetime under a minute",
            with("access_token_ttl_secs", json!(30)),
        ),
        (
            "token lifetime over a day",
            with("access_token_ttl_secs", json!(86_401)),
        ),
        (
            "grant lifetime over the cap",
            with("offline_grant_ttl_secs", json!(7 * 24 * 3600 + 1)),
        ),
        (
            "malformed permission",
            with("offline_permissions", json!(["pos"])),
        ),
        (
            "negative limit",
            with(
                "offline_limits",
                json!({"USD": {"max_sale": -1, "max_offline_total": 0, "max_discount": 0}}),
            ),
        ),
        (
            "sale limit above the total",
            with(
                "offline_limits",
                json!({"USD": {"max_sale": 10, "max_offline_total": 5, "max_discount": 0}}),
            ),
        ),
        (
            "currency the organisation lacks",
            with(
                "offline_limits",
                json!({"EUR": {"max_sale": 1, "max_offline_total": 5, "max_discount": 0}}),
            ),
        ),
        ("unknown field", with("org_id", json!(random_id()))),
    ] {
        let answer = put(&server, "api/v1/admin/settings", admin.token(), body).await;
        assert_eq!(answer.status, 422, "{case}: {}", answer.body);
        assert_eq!(answer.error_code(), "unprocessable");
    }
    assert_eq!(
        get(&server, "api/v1/admin/settings", admin.token())
            .await
            .expect(200),
        defaults
    );
    assert!(admin_audit(&server, org.id).await.is_empty());

    let mut new = defaults.clone();
    new["access_token_ttl_secs"] = json!(600);
    new["offline_grant_ttl_secs"] = json!(7 * 24 * 3600);
    new["offline_permissions"] = json!(["pos:sales:create"]);
    new["offline_limits"] =
        json!({"USD": {"max_sale": 1000, "max_offline_total": 2000, "max_discount": 0}});
    assert_eq!(
        put(&server, "api/v1/admin/settings", admin.token(), new.clone())
            .await
            .expect(200),
        new
    );
    assert_eq!(
        get(&server, "api/v1/admin/settings", admin.token())
            .await
            .expect(200),
        new
    );
    let refreshed = refresh(&server, &cashier).await.expect(200);
    assert_eq!(refreshed["expires_in"], 600);

    let audit = admin_audit(&server, org.id).await;
    let detail = assert_audited(&audit, "settings_changed", admin.user);
    assert_eq!(detail["before"], defaults);
    assert_eq!(detail["after"], new);
}

// ---------------------------------------------------------------------------------------------
// Devices

#[tokio::test]
async fn a_revoked_device_can_neither_refresh_nor_sign_in() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let admin = user_signed_in(&server, &org, "root", "Super Administrator").await;
    let cashier = user_signed_in(&server, &org, "till1", "Cashier").await;
    let devices = get(&server, "api/v1/admin/devices", admin.token())
        .await
        .expect(200);
    let till = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == json!(cashier.device))
        .unwrap()
        .clone();
    assert_eq!(till["last_user"], json!(cashier.user));
    assert_eq!(till["revoked"], false);
    assert!(till["first_seen"].is_string() && till["last_seen"].is_string());

    let revoked = post(
        &server,
        &format!("api/v1/admin/devices/{}/revoke", cashier.device),
        admin.token(),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(revoked["revoked"], true);
    assert!(revoked["revoked_at"].is_string());

    assert_eq!(refresh(&server, &cashier).await.status, 401);
    let refused = login_attempt(&server, "till1", PASSWORD, cashier.device).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    server.login("till1", PASSWORD, new_device()).await; // the person is fine, the till is not
    refresh(&server, &admin).await.expect(200); // other devices are untouched

    let device = cashier.device.to_string();
    let open_grants: i64 = server
        .db
        .call(move |conn| -> Result<i64, DbError> {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM offline_grants WHERE device_id = ?1 AND revoked_at IS NULL",
                [device],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(
        open_grants, 0,
        "the device's offline grants are marked revoked"
    );

    let audit = admin_audit(&server, org.id).await;
    let detail = assert_audited(&audit, "device_revoked", admin.user);
    assert_eq!(detail["device"], json!(cashier.device));
    assert_eq!(detail["refresh_tokens_revoked"], 1);
    assert_eq!(detail["grants_revoked"], 1);
    let row = audit.iter().find(|r| r.0 == "device_revoked").unwrap();
    assert_eq!(row.2.as_deref(), Some(cashier.device.to_string().as_str()));
}

// ---------------------------------------------------------------------------------------------
// Products

#[tokio::test]
async fn products_are_paged_by_id_with_their_details() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let stock = user_signed_in(&server, &org, "stock", "Stock Manager").await;
    let ids = seed_products(&server, org.id, 5).await;

    let mut seen = Vec::new();
    let mut path = "api/v1/products?limit=2".to_owned();
    loop {
        let page = get(&server, &path, stock.token()).await.expect(200);
        let page_ids = ids_of(&page["products"]);
        assert!(page_ids.len() <= 2);
        seen.extend(page_ids);
        match page["next_after"].as_str() {
            Some(after) => path = format!("api/v1/products?limit=2&after={after}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every product once, in id order");
    let all = get(&server, "api/v1/products", stock.token())
        .await
        .expect(200);
    assert_eq!(ids_of(&all["products"]), ids);
    assert!(all["next_after"].is_null());

    let first = get(
        &server,
        &format!("api/v1/products/{}", ids[0]),
        stock.token(),
    )
    .await
    .expect(200);
    assert_eq!(first, all["products"][0]);
    let mut by_sku: Vec<Value> = all["products"].as_array().unwrap().clone();
    by_sku.sort_by_key(|p| p["sku"].as_str().unwrap().to_owned());
    assert_eq!(
        by_sku[1],
        json!({"id": by_sku[1]["id"], "sku": "SKU-0001", "name": "Product 1", "unit": "kg",
               "tax_class": "standard", "price_minor": 101, "currency": "USD", "active": true,
               "barcodes": [Barcode::ean13_from_body("000000600001").unwrap()]})
    );
    assert_eq!(by_sku[0]["tax_class"], "zero_rated");

    for bad in [
        "limit=0",
        "limit=501",
        "limit=ten",
        "after=not-an-id",
        "colour=red",
    ] {
        let answer = get(&server, &format!("api/v1/products?{bad}"), stock.token()).await;
        assert_eq!(answer.status, 422, "{bad}: {}", answer.body);
        assert_eq!(answer.error_code(), "unprocessable");
    }
    get(&server, "api/v1/products?limit=500", stock.token())
        .await
        .expect(200);
    get(&server, "api/v1/products?limit=1", stock.token())
        .await
        .expect(200);
    let missing = get(
        &server,
        &format!("api/v1/products/{}", random_id()),
        stock.token(),
    )
    .await;
    assert_eq!(missing.status, 404);
}
