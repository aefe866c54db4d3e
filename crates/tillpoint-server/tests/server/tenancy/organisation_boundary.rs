//! The organisation boundary: another organisation's ids answer exactly like ids that name
//! nothing, its roles cannot be given, listings and settings hold only the caller's own, and
//! a username taken elsewhere is a conflict that names no organisation, and the `demo`
//! seeding never touches a real organisation's users.

use super::{
    admin_audit, all_admin_events, call, every_endpoint, get, ids_of, login_attempt, post, put,
    random_id, refresh, role_of, two_shops, TwoShops, PASSWORD,
};
use serde_json::json;
use tillpoint_server::demo::{self, DemoError, DemoOptions};
use tillpoint_server::testing::{new_device, spawn_server};

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

#[tokio::test]
async fn demo_seeding_never_resets_a_real_organisations_user_with_a_demo_username() {
    let server = spawn_server().await;
    let real = server.create_organisation("Real Shop").await;
    server
        .create_user(&real, "superadmin", "Super Administrator", PASSWORD)
        .await;
    server
        .create_user(&real, "cashier", "Cashier", PASSWORD)
        .await;
    let db = server.db.clone();
    let seeded = tokio::task::spawn_blocking(move || {
        demo::seed(
            &db,
            &DemoOptions {
                products: 1,
                password: Some("the demo password".into()),
            },
        )
    })
    .await
    .unwrap();
    assert!(
        matches!(seeded, Err(DemoError::UsernameTaken("superadmin"))),
        "{seeded:?}"
    );
    for username in ["superadmin", "cashier"] {
        server.login(username, PASSWORD, new_device()).await;
        assert_eq!(
            login_attempt(&server, username, "the demo password", new_device())
                .await
                .status,
            401
        );
    }
}
