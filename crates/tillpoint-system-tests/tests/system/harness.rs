//! The harness itself, proven: servers start isolated, tills reach them, and the helpers
//! later suites rely on make what they say.

use reqwest::Url;
use tillpoint_core::ConnectionState;
use tillpoint_protocol::{ErrorBody, ErrorCode, Health};
use tillpoint_system_tests::{closed_port, spawn_server, spawn_till};

#[tokio::test]
async fn a_spawned_server_answers_healthz_with_its_schema() {
    let server = spawn_server().await;
    let health: Health = reqwest::get(server.at("healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health.status, "ok");
    assert_eq!(health.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        health.schema_version,
        tillpoint_server::store::Database::known_schema_version()
    );
}

#[tokio::test]
async fn unknown_paths_get_the_error_shape() {
    let server = spawn_server().await;
    let response = reqwest::get(server.at("api/v1/nothing-here"))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: ErrorBody = response.json().await.unwrap();
    assert_eq!(body.error.code, ErrorCode::NotFound);
}

#[tokio::test]
async fn a_till_sees_its_server_come_and_go() {
    let mut server = spawn_server().await;
    let till = spawn_till(&server.url);
    assert_eq!(
        till.till.connection().status().state,
        ConnectionState::Checking
    );
    let online = till.till.connection().check().await;
    assert_eq!(online.state, ConnectionState::Online, "{online:?}");

    server.stop().await;
    let offline = till.till.connection().check().await;
    assert_eq!(offline.state, ConnectionState::Offline, "{offline:?}");
    assert!(offline.detail.is_some());
}

#[tokio::test]
async fn a_till_pointed_nowhere_is_offline_and_still_opens_its_store() {
    let url = Url::parse(&format!("http://127.0.0.1:{}", closed_port())).unwrap();
    let till = spawn_till(&url);
    assert_eq!(till.till.local_product_count().unwrap(), 0);
    assert!(till.data_dir().join("till.db").exists());
    let status = till.till.connection().check().await;
    assert_eq!(status.state, ConnectionState::Offline);
}

#[tokio::test]
async fn each_server_has_its_own_database() {
    let a = spawn_server().await;
    let b = spawn_server().await;
    assert_ne!(a.url, b.url);
    let org = a.create_organisation("Org A").await;
    a.create_user(&org, "alice", "Cashier", "alice-password")
        .await;
    let count = |server: &tillpoint_system_tests::TestServer| {
        let db = server.db.clone();
        async move {
            db.call(|conn| -> Result<i64, tillpoint_server::store::DbError> {
                Ok(conn.query_row("SELECT COUNT(*) FROM users", (), |r| r.get(0))?)
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(count(&a).await, 1);
    assert_eq!(count(&b).await, 0);
}

#[tokio::test]
async fn harness_users_hold_the_role_they_were_given_in_their_organisation() {
    let server = spawn_server().await;
    let shop = server.create_organisation("Shop").await;
    let other = server.create_organisation("Other").await;
    let user = server
        .create_user(&shop, "cashier1", "Cashier", "cashier-password")
        .await;
    let (org_id, role): (String, String) = server
        .db
        .call(move |conn| -> Result<_, tillpoint_server::store::DbError> {
            Ok(conn.query_row(
                "SELECT u.org_id, r.name FROM users u JOIN roles r ON r.id = u.role_id WHERE u.id = ?1",
                [user.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(org_id, shop.id.to_string());
    assert_ne!(org_id, other.id.to_string());
    assert_eq!(role, "Cashier");
}

#[tokio::test]
async fn the_schema_refuses_a_user_whose_role_belongs_to_another_organisation() {
    let server = spawn_server().await;
    let a = server.create_organisation("A").await;
    let b = server.create_organisation("B").await;
    let (a_id, b_id) = (a.id.to_string(), b.id.to_string());
    let result = server
        .db
        .call(move |conn| -> Result<usize, tillpoint_server::store::DbError> {
            let role_of_b: String = conn.query_row(
                "SELECT id FROM roles WHERE org_id = ?1 AND name = 'Cashier'",
                [&b_id],
                |r| r.get(0),
            )?;
            Ok(conn.execute(
                "INSERT INTO users (id, org_id, username, name, email, role_id, password_hash, created_at)
                 VALUES ('u1', ?1, 'mallory', 'M', 'm@x', ?2, 'x', '2026-01-01T00:00:00Z')",
                [&a_id, &role_of_b],
            )?)
        })
        .await;
    assert!(result.is_err(), "a cross-organisation role must be refused");
}
