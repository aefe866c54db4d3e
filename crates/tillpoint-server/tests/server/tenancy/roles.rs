//! Roles through the admin API: a new or changed role shows in its users' next refresh, bad
//! roles are refused, and an administrator cannot grant or take over more than they hold.

use super::{
    admin_audit, assert_audited, call, get, post, put, refresh, role_of, user_signed_in,
    NEW_PASSWORD, PASSWORD,
};
use reqwest::Method;
use serde_json::{json, Value};
use tillpoint_server::testing::{new_device, spawn_server};

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
            json!({"password": NEW_PASSWORD, "current_password": PASSWORD}),
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
        json!({"password": NEW_PASSWORD, "current_password": PASSWORD}),
    )
    .await
    .expect(204);
    server.login("till1", NEW_PASSWORD, new_device()).await;
}
