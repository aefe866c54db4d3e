//! Rate limits on guessing passwords: per account and per client address (behind a trusted
//! proxy, each client its own), and parallel guesses cannot outrun them.

use super::{assert_error, audit_count, login_attempt, PASSWORD};
use reqwest::header::RETRY_AFTER;
use reqwest::Client;
use tillpoint_protocol::ErrorCode;
use tillpoint_server::testing::{new_device, spawn_server, TestServer};

/// Wrong-password sign-ins for distinct accounts, as sent through a proxy for `client`.
async fn fail_logins_via(server: &TestServer, client: &str, count: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..count {
        let response = Client::new()
            .post(server.at("api/v1/auth/login"))
            .header("X-Forwarded-For", format!("198.51.100.1, {client}"))
            .json(&serde_json::json!({
                "username": format!("nobody-{client}-{i}"),
                "password": "wrong",
                "device_id": new_device(),
            }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_has_its_own_limit() {
    let server = tillpoint_server::testing::spawn_server_with(|config| {
        config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let first = fail_logins_via(&server, "203.0.113.5", 21).await;
    assert_eq!(first.iter().filter(|s| **s == 429).count(), 1, "{first:?}");
    assert_eq!(
        *first.last().unwrap(),
        429,
        "the 21st from that client is limited"
    );
    // Another client behind the same proxy is not.
    assert_eq!(fail_logins_via(&server, "203.0.113.6", 1).await, [401]);
}

#[tokio::test]
async fn without_a_trusted_proxy_forwarded_for_is_ignored() {
    let server = spawn_server().await;
    fail_logins_via(&server, "203.0.113.5", 20).await;
    // A client cannot escape its limit by naming another address.
    assert_eq!(fail_logins_via(&server, "203.0.113.99", 1).await, [429]);
}

#[tokio::test]
async fn guesses_sent_in_parallel_cannot_outrun_the_account_limit() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    server
        .create_user(&org, "alice", "Cashier", "alice-password")
        .await;
    let client = reqwest::Client::new();
    let attempts: Vec<_> = (0..30)
        .map(|i| {
            let client = client.clone();
            let url = server.at("api/v1/auth/login");
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&serde_json::json!({
                        "username": "alice",
                        "password": format!("guess-{i}"),
                        "device_id": new_device(),
                    }))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(
        checked <= 5,
        "only 5 guesses may be checked, {checked} were: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert!(audit_count(&server, "login_failed").await <= 5);
}

#[tokio::test]
async fn after_five_wrong_passwords_the_next_sign_in_is_rate_limited_even_with_the_right_one() {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    server.create_user(&org, "alice", "Cashier", PASSWORD).await;
    let device = new_device();
    for _ in 0..5 {
        let response = login_attempt(&server, "alice", "guess", device).await;
        assert_error(response, 401, ErrorCode::Unauthenticated).await;
    }
    let response = login_attempt(&server, "alice", PASSWORD, device).await;
    let retry_after: u64 = response
        .headers()
        .get(RETRY_AFTER)
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("seconds");
    assert!(retry_after >= 1);
    assert_error(response, 429, ErrorCode::RateLimited).await;
    assert_eq!(audit_count(&server, "login_failed").await, 5);
    assert_eq!(audit_count(&server, "login_locked_out").await, 1);
}

#[tokio::test]
async fn padding_or_recasing_a_username_buys_no_extra_guesses() {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    server.create_user(&org, "alice", "Cashier", PASSWORD).await;
    let device = new_device();
    for name in ["alice", " alice", "ALICE", "alice ", "\tAlice\n"] {
        let response = login_attempt(&server, name, "guess", device).await;
        assert_error(response, 401, ErrorCode::Unauthenticated).await;
    }
    let response = login_attempt(&server, "alice", PASSWORD, device).await;
    assert_error(response, 429, ErrorCode::RateLimited).await;
}

#[tokio::test]
async fn another_account_from_the_same_address_is_unaffected_until_the_address_limit() {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    server.create_user(&org, "alice", "Cashier", PASSWORD).await;
    server.create_user(&org, "bob", "Cashier", PASSWORD).await;
    let device = new_device();
    for _ in 0..5 {
        assert_eq!(
            login_attempt(&server, "alice", "guess", device)
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        login_attempt(&server, "alice", PASSWORD, device)
            .await
            .status(),
        429
    );
    assert_eq!(
        login_attempt(&server, "bob", PASSWORD, device)
            .await
            .status(),
        200
    );
    // 19 failures from this address so far after these; still under the limit of 20.
    for i in 0..14 {
        let name = format!("nobody-{i}");
        assert_eq!(
            login_attempt(&server, &name, "guess", device)
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        login_attempt(&server, "bob", PASSWORD, device)
            .await
            .status(),
        200
    );
    // The 20th failure locks the address, for every account.
    assert_eq!(
        login_attempt(&server, "nobody-else", "guess", device)
            .await
            .status(),
        401
    );
    let response = login_attempt(&server, "bob", PASSWORD, device).await;
    assert!(response.headers().contains_key(RETRY_AFTER));
    assert_error(response, 429, ErrorCode::RateLimited).await;
}

#[tokio::test]
async fn one_address_spraying_made_up_names_cannot_block_another_addresss_genuine_user() {
    let server = tillpoint_server::testing::spawn_server_with(|config| {
        config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let org = server.create_organisation("Shop").await;
    server.create_user(&org, "alice", "Cashier", PASSWORD).await;
    let sprayed = fail_logins_via(&server, "203.0.113.5", 2_000).await;
    assert_eq!(
        sprayed.iter().filter(|s| **s == 401).count(),
        20,
        "then locked out"
    );
    let (accounts, addresses) = server.identity.throttled_keys();
    assert!(
        accounts <= 20 && addresses <= 1,
        "a locked-out address adds no keys: {accounts} accounts, {addresses} addresses"
    );
    let genuine = Client::new()
        .post(server.at("api/v1/auth/login"))
        .header("X-Forwarded-For", "198.51.100.1, 203.0.113.77")
        .json(&serde_json::json!({
            "username": "alice", "password": PASSWORD, "device_id": new_device(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(genuine.status(), 200);
}

/// Wrong passwords for `username` on `server`, each answered 401.
async fn wrong_guesses(server: &TestServer, username: &str, count: usize) {
    for _ in 0..count {
        let answer = login_attempt(server, username, "not-the-password", new_device()).await;
        assert_eq!(answer.status(), 401);
    }
}

#[tokio::test]
async fn failures_counted_before_a_restart_still_count_after_it() {
    let mut server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    server
        .create_user(&org, "alice", "Cashier", "alice-password")
        .await;
    wrong_guesses(&server, "alice", 4).await;
    server.restart().await;
    // The fifth reaches the limit, whatever the restart forgot in memory.
    wrong_guesses(&server, "alice", 1).await;
    let locked = login_attempt(&server, "alice", "alice-password", new_device()).await;
    assert_error(locked, 429, ErrorCode::RateLimited).await;
}

#[tokio::test]
async fn guesses_spread_over_two_instances_are_counted_once() {
    let server = spawn_server().await;
    let Some(other) = tillpoint_server::testing::spawn_another_instance(&server).await else {
        eprintln!("SQLite: one instance per database, nothing to check");
        return;
    };
    let org = server.create_organisation("Shop").await;
    server
        .create_user(&org, "alice", "Cashier", "alice-password")
        .await;
    wrong_guesses(&server, "alice", 3).await;
    wrong_guesses(&other, "alice", 2).await;
    // Five in all: locked on both instances, even for the right password.
    for instance in [&server, &other] {
        let locked = login_attempt(instance, "alice", "alice-password", new_device()).await;
        assert_error(locked, 429, ErrorCode::RateLimited).await;
    }
    assert_eq!(audit_count(&server, "login_locked_out").await, 1);
}
