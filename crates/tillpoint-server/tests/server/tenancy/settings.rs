//! Organisation settings: changes are validated and shape the next tokens and grants.

use super::{admin_audit, assert_audited, get, put, random_id, refresh, user_signed_in};
use serde_json::{json, Value};
use tillpoint_server::testing::spawn_server;

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
