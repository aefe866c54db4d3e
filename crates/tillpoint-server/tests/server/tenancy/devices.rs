//! Devices: a revoked till can neither refresh nor sign in.

use super::{
    admin_audit, assert_audited, get, login_attempt, post, refresh, user_signed_in, PASSWORD,
};
use serde_json::json;
use tillpoint_server::store::DbError;
use tillpoint_server::testing::{new_device, spawn_server};

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
                [device.clone()],
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
