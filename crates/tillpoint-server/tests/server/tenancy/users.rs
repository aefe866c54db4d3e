//! Users through the admin API: created and then able to sign in, bad details refused,
//! disabling and enabling, nobody disabling themselves, and password resets ending the old
//! sessions.

use super::{
    admin_audit, assert_audited, get, login_attempt, post, random_id, refresh, role_of,
    user_signed_in, NEW_PASSWORD, PASSWORD,
};
use reqwest::header::LOCATION;
use serde_json::{json, Value};
use tillpoint_server::testing::{new_device, spawn_server};

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
        json!({"password": "short", "current_password": PASSWORD}),
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
        json!({"password": NEW_PASSWORD, "current_password": PASSWORD}),
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

/// The ids of the users a pull from the start carries for `token`.
async fn pulled_user_ids(
    server: &tillpoint_server::testing::TestServer,
    token: &str,
) -> Vec<String> {
    let page = get(server, "api/v1/sync/pull?limit=1000", token)
        .await
        .expect(200);
    let mut ids: Vec<String> = page["changes"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_till_pulls_only_the_people_who_signed_in_on_it_and_user_managers_pull_everyone() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let admin = user_signed_in(&server, &org, "root", "Super Administrator").await;
    let first = user_signed_in(&server, &org, "till1", "Cashier").await;
    let second = user_signed_in(&server, &org, "till2", "Cashier").await;
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    assert_eq!(
        pulled_user_ids(&server, first.token()).await,
        [first.user.to_string()],
        "nobody else has signed in on this till"
    );
    // till2 works a shift on till1's device: from now on that till follows them too.
    server.login("till2", PASSWORD, first.device).await;
    assert_eq!(
        pulled_user_ids(&server, first.token()).await,
        sorted(vec![first.user.to_string(), second.user.to_string()])
    );
    assert_eq!(
        pulled_user_ids(&server, admin.token()).await,
        sorted(vec![
            admin.user.to_string(),
            first.user.to_string(),
            second.user.to_string()
        ])
    );
}
