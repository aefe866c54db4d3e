//! Who may call: a Cashier is forbidden every admin and catalog endpoint, each endpoint needs
//! its own permission, none answers without a token, and each is in the API document behind
//! the bearer scheme.

use super::{
    all_admin_events, call, every_endpoint, get, post, put, random_id, refresh, role_of,
    seed_products, two_shops, user_signed_in, TwoShops, PASSWORD,
};
use reqwest::header::WWW_AUTHENTICATE;
use serde_json::{json, Value};
use tillpoint_protocol::RoleId;
use tillpoint_server::testing::spawn_server;

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
