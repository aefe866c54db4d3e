//! The rest of the pull against a real server (ARCHITECTURE.md §2–4, docs/decisions/
//! sync-pull.md "What else a till learns"): people and their permissions, revoked grants and
//! devices, settings, signing keys and stock levels. Offline, what the last pull says
//! narrows a grant: a permission taken away, a disabled person, a revoked grant or till.

use rusqlite::Connection;
use tillpoint_core::sales::till_session::CountInput;
use tillpoint_core::sales::{CheckoutInput, PaymentRequest};
use tillpoint_core::sign_in::session::SignInError;
use tillpoint_protocol::sales::TenderMethod;
use tillpoint_protocol::{Permission, ProductId};
use tillpoint_server::store::DbError;
use tillpoint_system_tests::{spawn_demo_server, spawn_till, TestServer, TestTill};

const PASSWORD: &str = "pull-more-password-1";

/// Runs SQL against the server's database, as an administrator's change would.
async fn server_sql(server: &TestServer, sql: impl Into<String>) -> usize {
    let sql = sql.into();
    server
        .db
        .call(move |c| -> Result<usize, DbError> { Ok(c.execute(&sql, ())?) })
        .await
        .unwrap()
}

fn perm(text: &str) -> Permission {
    Permission::parse(text).unwrap()
}

fn till_db(till: &TestTill) -> Connection {
    let conn = Connection::open(till.data_dir().join("till.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn
}

async fn pull(till: &TestTill) {
    till.till.pull_catalog(|_| {}).await.expect("pulled");
}

#[tokio::test]
async fn pull_after_a_permission_change_narrows_what_the_till_allows() {
    let mut server = spawn_demo_server(3, PASSWORD).await;
    // The cashiers may give discounts, and the organisation allows it offline (the default).
    server_sql(
        &server,
        "INSERT INTO role_permissions (role_id, permission)
         SELECT id, 'pos:discounts:apply' FROM roles WHERE name = 'Cashier'",
    )
    .await;
    let till = spawn_till(&server.url);
    till.till.sign_in("cashier", PASSWORD).await.unwrap();
    till.till.sign_in("admin", PASSWORD).await.unwrap();
    pull(&till).await;
    let discount = perm("pos:discounts:apply");

    // Offline under the grant it was given at sign-in: the discount is allowed.
    till.till.lock();
    till.till.unlock_offline("cashier", PASSWORD).await.unwrap();
    assert!(till.till.require(&discount).is_ok(), "the grant covers it");

    // The role loses it on the server; the till pulls (with the manager's session).
    server_sql(
        &server,
        "DELETE FROM role_permissions WHERE permission = 'pos:discounts:apply'
         AND role_id = (SELECT id FROM roles WHERE name = 'Cashier')",
    )
    .await;
    till.till.sign_in("admin", PASSWORD).await.unwrap();
    pull(&till).await;
    let db = till_db(&till);
    let permissions: String = db
        .query_row(
            "SELECT permissions FROM pulled_users WHERE username = 'cashier'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert!(!permissions.contains("discounts"), "{permissions}");

    // Offline, the cashier's grant still names the discount, but the till refuses it now.
    till.till.lock();
    till.till.unlock_offline("cashier", PASSWORD).await.unwrap();
    let err = till.till.require(&discount).unwrap_err();
    assert!(matches!(err, SignInError::Forbidden(..)), "{err:?}");
    assert!(err.to_string().contains("role changed"), "{err}");
    assert!(
        till.till.require(&perm("pos:sales:create")).is_ok(),
        "what the role still gives is allowed"
    );

    // Disabling the cashier: after the next pull the till refuses their offline unlock.
    server_sql(
        &server,
        "UPDATE users SET disabled = 1 WHERE username = 'cashier'",
    )
    .await;
    till.till.sign_in("admin", PASSWORD).await.unwrap();
    pull(&till).await;
    server.stop().await;
    till.till.lock();
    let err = till
        .till
        .unlock_offline("cashier", PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(err, SignInError::UserDisabled), "{err:?}");
    assert_eq!(err.code(), "user_disabled");
    // Someone else still can.
    till.till.unlock_offline("admin", PASSWORD).await.unwrap();
}

#[tokio::test]
async fn a_revoked_grant_stops_offline_unlock_and_offline_selling_under_it() {
    let mut server = spawn_demo_server(3, PASSWORD).await;
    let till = spawn_till(&server.url);
    till.till.sign_in("admin", PASSWORD).await.unwrap();
    till.till.sign_in("cashier", PASSWORD).await.unwrap();
    // An administrator revokes the cashier's offline grants (as revoking their sessions does).
    server_sql(
        &server,
        &format!(
            "UPDATE offline_grants SET revoked_at = '{}'
             WHERE user_id = (SELECT id FROM users WHERE username = 'cashier')",
            now_text()
        ),
    )
    .await;
    pull(&till).await;
    assert_eq!(
        till_db(&till)
            .query_row("SELECT COUNT(*) FROM revoked_grants", (), |r| r
                .get::<_, i64>(0))
            .unwrap(),
        1,
        "the cashier's grant on this till"
    );
    // The network goes: the cashier carries on offline, but not under a revoked grant.
    server.stop().await;
    till.till.refresh_session().await.unwrap();
    let err = till.till.require(&perm("pos:sales:create")).unwrap_err();
    assert!(matches!(err, SignInError::GrantRevoked), "{err:?}");
    till.till.lock();
    let err = till
        .till
        .unlock_offline("cashier", PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(err, SignInError::GrantRevoked), "{err:?}");
    // The administrator's grant was not revoked.
    till.till.unlock_offline("admin", PASSWORD).await.unwrap();
    assert!(till.till.require(&perm("pos:sales:create")).is_ok());
}

#[tokio::test]
async fn a_till_that_learns_it_was_revoked_refuses_offline_work() {
    let mut server = spawn_demo_server(3, PASSWORD).await;
    let till = spawn_till(&server.url);
    till.till.sign_in("cashier", PASSWORD).await.unwrap();
    let device = till.till.device_id().unwrap().unwrap().to_string();
    server
        .db
        .call(move |c| -> Result<usize, DbError> {
            Ok(c.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1",
                [device.clone(), now_text()],
            )?)
        })
        .await
        .unwrap();
    pull(&till).await;
    server.stop().await;
    till.till.refresh_session().await.unwrap();
    let err = till.till.require(&perm("pos:sales:create")).unwrap_err();
    assert!(matches!(err, SignInError::TillRevokedOffline), "{err:?}");
    assert!(err.to_string().contains("revoked"), "{err}");
    till.till.lock();
    let err = till
        .till
        .unlock_offline("cashier", PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(err, SignInError::TillRevokedOffline), "{err:?}");
}

#[tokio::test]
async fn settings_and_signing_keys_arrive_and_a_rotated_key_is_cached_for_offline_checks() {
    let server = spawn_demo_server(3, PASSWORD).await;
    let till = spawn_till(&server.url);
    till.till.sign_in("cashier", PASSWORD).await.unwrap();
    pull(&till).await;
    let settings = till
        .till
        .pulled_settings()
        .unwrap()
        .expect("settings pulled");
    assert_eq!(settings.offline_grant_ttl_secs, 72 * 3600);
    assert!(settings
        .offline_permissions
        .contains(&perm("pos:sales:create")));

    let keys = |db: &Connection| -> Vec<(String, Option<String>)> {
        let mut stmt = db
            .prepare("SELECT kid, status FROM server_keys ORDER BY fetched_at, kid")
            .unwrap();
        let rows = stmt
            .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows
    };
    let db = till_db(&till);
    let first = keys(&db);
    assert_eq!(first.len(), 1, "{first:?}");
    let old_kid = first[0].0.clone();

    // `keys rotate`: the old key retires (still verifying), a new one signs. Both reach the
    // till's cached JWKS by pull, with their status.
    let master = server.identity.keys.master().clone();
    let new_kid = server
        .db
        .call(move |c| -> Result<String, DbError> {
            let tx = c.transaction()?;
            let kid = tillpoint_server::identity::keys::rotate(&tx, &master, chrono::Utc::now())
                .expect("rotated");
            tx.commit()?;
            Ok(kid)
        })
        .await
        .unwrap();
    pull(&till).await;
    let mut now = keys(&db);
    now.sort();
    let mut expected = vec![
        (old_kid.clone(), Some("retired".to_owned())),
        (new_kid.clone(), Some("current".to_owned())),
    ];
    expected.sort();
    assert_eq!(now, expected);

    // Once a retired key no longer verifies, the till drops it.
    server_sql(
        &server,
        "UPDATE signing_keys SET verify_until = '2026-01-02T00:00:00.000Z'
         WHERE retired_at IS NOT NULL",
    )
    .await;
    pull(&till).await;
    assert_eq!(keys(&db), vec![(new_kid, Some("current".to_owned()))]);
}

fn open_till(till: &TestTill) {
    till.till
        .open_till(&[CountInput {
            currency: "USD".into(),
            tender: TenderMethod::Cash,
            amount: "50.00".into(),
        }])
        .expect("the till opens");
}

async fn sell(till: &TestTill, product: &str, quantity: &str) {
    till.till.cart_add(product, Some(quantity)).unwrap();
    till.till
        .checkout(&CheckoutInput {
            payments: vec![PaymentRequest {
                method: TenderMethod::Cash,
                currency: "USD".into(),
                amount: "10000.00".into(),
                reference: None,
            }],
            change_currency: "USD".into(),
        })
        .await
        .expect("the sale goes through");
}

#[tokio::test]
async fn two_tills_sell_the_same_product_push_and_pull_and_each_sees_the_servers_level() {
    let server = spawn_demo_server(3, PASSWORD).await;
    let (a, b) = (spawn_till(&server.url), spawn_till(&server.url));
    a.till.sign_in("cashier", PASSWORD).await.unwrap();
    b.till.sign_in("admin", PASSWORD).await.unwrap();
    pull(&a).await;
    pull(&b).await;
    let product: String = till_db(&a)
        .query_row("SELECT id FROM products ORDER BY sku LIMIT 1", (), |r| {
            r.get(0)
        })
        .unwrap();
    let id: ProductId = product.parse().unwrap();
    let before = a.till.stock_on_hand(id).unwrap();
    assert_eq!(before.synced_quantity_milli, None, "nothing sold yet");

    open_till(&a);
    open_till(&b);
    sell(&a, &product, "2").await;
    sell(&b, &product, "3").await;
    let waiting = a.till.stock_on_hand(id).unwrap();
    assert_eq!(waiting.unsynced_change_milli, -2000);
    assert_eq!(waiting.estimate_milli, None, "no synced figure yet");

    a.till.push_outbox(|_| {}).await.expect("a pushed");
    b.till.push_outbox(|_| {}).await.expect("b pushed");
    pull(&a).await;
    pull(&b).await;
    for till in [&a, &b] {
        let stock = till.till.stock_on_hand(id).unwrap();
        assert_eq!(stock.synced_quantity_milli, Some(-5000), "{stock:?}");
        assert_eq!(stock.unsynced_change_milli, 0, "{stock:?}");
        assert_eq!(stock.estimate_milli, Some(-5000));
        assert!(stock.synced_at.is_some());
    }

    // One more on a, not pushed yet: the estimate counts it, the synced figure does not.
    sell(&a, &product, "1").await;
    let stock = a.till.stock_on_hand(id).unwrap();
    assert_eq!(stock.synced_quantity_milli, Some(-5000));
    assert_eq!(stock.unsynced_change_milli, -1000);
    assert_eq!(stock.estimate_milli, Some(-6000));
    // Pushed but not pulled again: still counted as this till's own, not twice.
    a.till.push_outbox(|_| {}).await.expect("a pushed");
    let stock = a.till.stock_on_hand(id).unwrap();
    assert_eq!(stock.estimate_milli, Some(-6000), "{stock:?}");
    pull(&a).await;
    let stock = a.till.stock_on_hand(id).unwrap();
    assert_eq!(stock.synced_quantity_milli, Some(-6000));
    assert_eq!(stock.unsynced_change_milli, 0);
}

#[tokio::test]
async fn a_large_pull_reports_how_much_is_left() {
    let server = spawn_demo_server(120, PASSWORD).await;
    let till = spawn_till(&server.url);
    till.till.sign_in("cashier", PASSWORD).await.unwrap();
    let mut reports = Vec::new();
    till.till
        .pull_catalog_with(
            tillpoint_core::sync::PullOptions { page_limit: 50 },
            |progress| reports.push(progress),
        )
        .await
        .unwrap();
    assert!(reports.len() > 2, "{reports:?}");
    let last = reports.last().unwrap();
    assert_eq!(last.remaining, Some(0));
    // Each page's records plus what it said was left is the whole pull.
    for report in &reports {
        assert_eq!(
            report.records + report.remaining.unwrap(),
            last.records,
            "{reports:?}"
        );
    }
}

/// Now as the server stores times.
fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
