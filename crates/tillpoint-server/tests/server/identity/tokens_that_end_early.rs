//! Access tokens that end before they expire (issue 17, hole 2): disabling a user, changing
//! their role or their role's permissions, resetting their password, signing out and
//! revoking a device each end the tokens already issued — on the very next request, not an
//! hour later — and only those; an administrator cannot change their own role or enabled
//! state; setting anyone's password needs the caller's own password again.

use std::time::Duration;

use reqwest::{Client, Method, Response};
use serde_json::{json, Value};
use tillpoint_protocol::auth::TokenResponse;
use tillpoint_protocol::ErrorCode;
use tillpoint_server::identity::token_cutoffs::{cut, Subject, REREAD_EVERY};
use tillpoint_server::store::DbError;
use tillpoint_server::testing::{new_device, spawn_server, TestOrg, TestServer};

use super::{
    assert_error, assert_token_accepted, assert_token_refused, logout, refresh, refreshed, role_of,
    PASSWORD,
};

async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> Response {
    Client::new()
        .request(method, server.at(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("the server answers")
}

async fn admin_post(server: &TestServer, path: &str, token: &str, body: Value) -> Response {
    call(server, Method::POST, path, token, body).await
}

struct Shop {
    server: TestServer,
    org: TestOrg,
}

impl Shop {
    async fn open() -> Self {
        let server = spawn_server().await;
        let org = server.create_organisation("Corner Shop").await;
        Self { server, org }
    }

    /// A user of `role` signed in on a new device: (their id, the device, the tokens).
    async fn person(
        &self,
        username: &str,
        role: &str,
    ) -> (
        tillpoint_protocol::UserId,
        tillpoint_protocol::DeviceId,
        TokenResponse,
    ) {
        let user = self
            .server
            .create_user(&self.org, username, role, PASSWORD)
            .await;
        let device = new_device();
        let tokens = self.server.login(username, PASSWORD, device).await;
        (user, device, tokens)
    }
}

#[tokio::test]
async fn a_disabled_administrator_is_refused_at_once_and_cannot_re_enable_themselves() {
    let shop = Shop::open().await;
    let (_, _, boss) = shop.person("boss", "Super Administrator").await;
    let (rogue, _, rogue_tokens) = shop.person("rogue", "Administrator").await;
    let (victim, _, _) = shop.person("victim", "Cashier").await;
    let rogue_token = &rogue_tokens.access_token;
    assert_token_accepted(&shop.server, rogue_token).await;

    let disabled = admin_post(
        &shop.server,
        &format!("api/v1/admin/users/{rogue}/disable"),
        &boss.access_token,
        json!({}),
    )
    .await;
    assert_eq!(disabled.status(), 200);

    assert_token_refused(&shop.server, rogue_token).await;
    for (path, body) in [
        (format!("api/v1/admin/users/{rogue}/enable"), json!({})),
        (
            format!("api/v1/admin/users/{victim}/password"),
            json!({"password": "taken over now", "current_password": PASSWORD}),
        ),
    ] {
        let answer = admin_post(&shop.server, &path, rogue_token, body).await;
        assert_error(answer, 401, ErrorCode::Unauthenticated).await;
    }
    shop.server.login("victim", PASSWORD, new_device()).await;
}

#[tokio::test]
async fn a_demoted_administrator_loses_the_old_role_at_once_and_has_the_new_one_after_refresh() {
    let shop = Shop::open().await;
    let (_, _, boss) = shop.person("boss", "Super Administrator").await;
    let (demoted, device, tokens) = shop.person("demoted", "Administrator").await;
    let answer = call(
        &shop.server,
        Method::PUT,
        &format!("api/v1/admin/users/{demoted}/role"),
        &boss.access_token,
        json!({"role_id": role_of(&shop.org, "Cashier")}),
    )
    .await;
    assert_eq!(answer.status(), 200);

    assert_token_refused(&shop.server, &tokens.access_token).await;
    let renewed = refreshed(&shop.server, &tokens.refresh_token, device).await;
    assert_eq!(
        assert_token_accepted(&shop.server, &renewed.access_token)
            .await
            .role,
        "Cashier"
    );
    let listing = call(
        &shop.server,
        Method::GET,
        "api/v1/admin/users",
        &renewed.access_token,
        json!({}),
    )
    .await;
    assert_error(listing, 403, ErrorCode::Forbidden).await;
}

#[tokio::test]
async fn changing_a_roles_permissions_ends_its_holders_tokens() {
    let shop = Shop::open().await;
    let (_, _, boss) = shop.person("boss", "Super Administrator").await;
    let (_, device, cashier) = shop.person("till1", "Cashier").await;
    let answer = call(
        &shop.server,
        Method::PUT,
        &format!(
            "api/v1/admin/roles/{}/permissions",
            role_of(&shop.org, "Cashier")
        ),
        &boss.access_token,
        json!({"permissions": ["pos:sales:view"]}),
    )
    .await;
    assert_eq!(answer.status(), 200);
    assert_token_refused(&shop.server, &cashier.access_token).await;
    assert_token_accepted(&shop.server, &boss.access_token).await;
    let renewed = refreshed(&shop.server, &cashier.refresh_token, device).await;
    let info = assert_token_accepted(&shop.server, &renewed.access_token).await;
    assert_eq!(info.permissions.len(), 1);
}

#[tokio::test]
async fn a_password_reset_ends_the_users_access_tokens() {
    let shop = Shop::open().await;
    let (_, _, boss) = shop.person("boss", "Super Administrator").await;
    let (cashier, _, tokens) = shop.person("till1", "Cashier").await;
    let answer = admin_post(
        &shop.server,
        &format!("api/v1/admin/users/{cashier}/password"),
        &boss.access_token,
        json!({"password": "a brand new passphrase", "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(answer.status(), 204);
    assert_token_refused(&shop.server, &tokens.access_token).await;
}

#[tokio::test]
async fn signing_out_ends_that_tills_tokens_and_not_the_persons_other_tills() {
    let shop = Shop::open().await;
    let (_, _, first_till) = shop.person("till1", "Cashier").await;
    let second_till = shop.server.login("till1", PASSWORD, new_device()).await;
    let (_, _, colleague) = shop.person("till2", "Cashier").await;

    assert_eq!(
        logout(&shop.server, &first_till.refresh_token)
            .await
            .status(),
        204
    );
    assert_token_refused(&shop.server, &first_till.access_token).await;
    assert_token_accepted(&shop.server, &second_till.access_token).await;
    assert_token_accepted(&shop.server, &colleague.access_token).await;
}

#[tokio::test]
async fn the_next_person_on_a_till_is_not_caught_by_the_last_ones_sign_out() {
    let shop = Shop::open().await;
    let (_, device, leaving) = shop.person("till1", "Cashier").await;
    shop.server
        .create_user(&shop.org, "till2", "Cashier", PASSWORD)
        .await;
    assert_eq!(
        logout(&shop.server, &leaving.refresh_token).await.status(),
        204
    );
    let arriving = shop.server.login("till2", PASSWORD, device).await;
    assert_token_accepted(&shop.server, &arriving.access_token).await;
    // And the one who left, signing in again on the same till, gets a token that works.
    let back = shop.server.login("till1", PASSWORD, device).await;
    assert_token_accepted(&shop.server, &back.access_token).await;
}

#[tokio::test]
async fn revoking_a_device_ends_every_token_issued_to_it() {
    let shop = Shop::open().await;
    let (_, _, boss) = shop.person("boss", "Super Administrator").await;
    let (_, device, first) = shop.person("till1", "Cashier").await;
    shop.server
        .create_user(&shop.org, "till2", "Cashier", PASSWORD)
        .await;
    let second = shop.server.login("till2", PASSWORD, device).await;
    let elsewhere = shop.server.login("till2", PASSWORD, new_device()).await;
    let answer = admin_post(
        &shop.server,
        &format!("api/v1/admin/devices/{device}/revoke"),
        &boss.access_token,
        json!({}),
    )
    .await;
    assert_eq!(answer.status(), 200);
    assert_token_refused(&shop.server, &first.access_token).await;
    assert_token_refused(&shop.server, &second.access_token).await;
    assert_token_accepted(&shop.server, &elsewhere.access_token).await;
}

#[tokio::test]
async fn reused_refresh_token_ends_the_sessions_access_tokens() {
    let shop = Shop::open().await;
    let (_, device, first) = shop.person("till1", "Cashier").await;
    let second = refreshed(&shop.server, &first.refresh_token, device).await;
    let third = refreshed(&shop.server, &second.refresh_token, device).await;
    // The stolen, already rotated token is presented again: the family ends, and with it
    // the access token its last holder got.
    assert_eq!(
        refresh(&shop.server, &first.refresh_token, device)
            .await
            .status(),
        401
    );
    assert_token_refused(&shop.server, &third.access_token).await;
}

#[tokio::test]
async fn a_cutoff_written_by_another_instance_applies_here_within_the_reread_time() {
    let shop = Shop::open().await;
    let (user, _, tokens) = shop.person("till1", "Cashier").await;
    assert_token_accepted(&shop.server, &tokens.access_token).await;
    // Another instance on the same database disables the user: only the row is written.
    let at = shop.server.clock.now();
    shop.server
        .db
        .call(move |conn| -> Result<(), DbError> { Ok(cut(conn, Subject::User(user), at)?) })
        .await
        .unwrap();
    tokio::time::sleep(REREAD_EVERY + Duration::from_millis(200)).await;
    assert_token_refused(&shop.server, &tokens.access_token).await;
}

#[tokio::test]
async fn nobody_changes_their_own_role_or_enabled_state() {
    let shop = Shop::open().await;
    let (admin, _, tokens) = shop.person("admin", "Administrator").await;
    let token = &tokens.access_token;
    let answers = [
        call(
            &shop.server,
            Method::PUT,
            &format!("api/v1/admin/users/{admin}/role"),
            token,
            json!({"role_id": role_of(&shop.org, "Cashier")}),
        )
        .await,
        admin_post(
            &shop.server,
            &format!("api/v1/admin/users/{admin}/enable"),
            token,
            json!({}),
        )
        .await,
        admin_post(
            &shop.server,
            &format!("api/v1/admin/users/{admin}/disable"),
            token,
            json!({}),
        )
        .await,
    ];
    for answer in answers {
        let body = assert_error(answer, 422, ErrorCode::Unprocessable).await;
        assert!(
            body.error.message.contains("your own"),
            "{}",
            body.error.message
        );
    }
    assert_token_accepted(&shop.server, token).await;
}

#[tokio::test]
async fn setting_a_password_needs_the_callers_own_password_again() {
    let shop = Shop::open().await;
    let (boss, _, boss_tokens) = shop.person("boss", "Super Administrator").await;
    let (cashier, _, _) = shop.person("till1", "Cashier").await;
    for target in [cashier, boss] {
        let path = format!("api/v1/admin/users/{target}/password");
        let wrong = admin_post(
            &shop.server,
            &path,
            &boss_tokens.access_token,
            json!({"password": "a brand new passphrase", "current_password": "a guess at it"}),
        )
        .await;
        assert_error(wrong, 403, ErrorCode::Forbidden).await;
        let missing = admin_post(
            &shop.server,
            &path,
            &boss_tokens.access_token,
            json!({"password": "a brand new passphrase"}),
        )
        .await;
        assert_error(missing, 422, ErrorCode::Unprocessable).await;
    }
    // Nothing changed: both still sign in with their old passwords.
    shop.server.login("till1", PASSWORD, new_device()).await;
    shop.server.login("boss", PASSWORD, new_device()).await;
}

#[tokio::test]
async fn guessing_the_callers_own_password_is_limited_like_signing_in() {
    let shop = Shop::open().await;
    let (_, _, boss) = shop.person("boss", "Super Administrator").await;
    let (cashier, _, _) = shop.person("till1", "Cashier").await;
    let path = format!("api/v1/admin/users/{cashier}/password");
    let mut statuses = Vec::new();
    for guess in 0..6 {
        let answer = admin_post(
            &shop.server,
            &path,
            &boss.access_token,
            json!({"password": "a brand new passphrase", "current_password": format!("guess number {guess}")}),
        )
        .await;
        statuses.push(answer.status().as_u16());
    }
    assert_eq!(statuses, [403, 403, 403, 403, 403, 429], "{statuses:?}");
}
