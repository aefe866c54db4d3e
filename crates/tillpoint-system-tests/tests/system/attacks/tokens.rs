//! Tokens: a genuine token edited after signing, a token carrying the attacker's own key,
//! refresh and access tokens swapped, a token whose holder was disabled or lost a permission
//! since, and an organisation's token against another organisation's sync records.
//!
//! The forgeries that need only public knowledge and are refused by the one extractor every
//! route shares (alg `none`, HS256 keyed with the served public key, an unknown or malformed
//! `kid`, expired, not yet valid, issued in the future, wrong `iss`/`aud`/`typ`) are attacked
//! exactly in `crates/tillpoint-server/tests/server/identity/access_tokens.rs`; a revoked or
//! rotated key in `…/identity/key_rotation.rs` (revoking a key is an operator command, not
//! an endpoint).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use reqwest::Method;
use serde_json::{json, Value};
use tillpoint_protocol::sync::{Outcome, PULL_PATH, PUSH_PATH};
use tillpoint_protocol::ErrorCode;
use tillpoint_system_tests::spawn_server;
use tillpoint_system_tests::sync::{post_batch, post_batch_ok};

use super::{get, organisation, post, put, role_of, send, server_count, shop, Body, Org, PASSWORD};

fn decode(segment: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("JSON")
}

fn encode(json: &Value) -> String {
    URL_SAFE_NO_PAD.encode(json.to_string())
}

/// `token` with its claims replaced by `edit`'s, its header and signature kept.
fn with_claims_edited(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = decode(parts[1]);
    edit(&mut claims);
    format!("{}.{}.{}", parts[0], encode(&claims), parts[2])
}

/// A JWT of `header` and `claims` signed with the attacker's Ed25519 `key`.
fn signed_by_attacker(header: &Value, claims: &Value, key: &SigningKey) -> String {
    let input = format!("{}.{}", encode(header), encode(claims));
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// How many users the organisation's administrator sees.
async fn users_of(server: &tillpoint_system_tests::TestServer, org: &Org) -> usize {
    get(server, "api/v1/admin/users", org.admin.token())
        .await
        .expect(200)["users"]
        .as_array()
        .unwrap()
        .len()
}

fn newcomer(org: &Org) -> Value {
    json!({"username": "newcomer", "name": "New Comer", "email": "new@shop.example",
           "role_id": role_of(&org.org, "Super Administrator"), "password": PASSWORD})
}

#[tokio::test]
async fn a_cashiers_token_with_permissions_added_after_signing_is_refused() {
    let server = spawn_server().await;
    let shop = organisation(&server, "Kwik Mart", "kwik").await;
    let escalated = with_claims_edited(shop.cashier.token(), |claims| {
        claims["perms"] = json!(["*:*:*"]);
        claims["role"] = json!("Super Administrator");
    });
    // The edit is all there is between a refusal and an administrator's power.
    let honest = post(
        &server,
        "api/v1/admin/users",
        shop.cashier.token(),
        &newcomer(&shop),
    )
    .await;
    honest.assert_error(ErrorCode::Forbidden);
    let forged = post(&server, "api/v1/admin/users", &escalated, &newcomer(&shop)).await;
    forged.assert_error(ErrorCode::Unauthenticated);
    let me = get(&server, "api/v1/me", &escalated).await;
    me.assert_error(ErrorCode::Unauthenticated);
    assert_eq!(users_of(&server, &shop).await, 2, "nobody was created");
}

#[tokio::test]
async fn a_token_moved_to_another_organisation_after_signing_is_refused() {
    let server = spawn_server().await;
    let a = organisation(&server, "Avondale Bakery", "a").await;
    let b = organisation(&server, "Borrowdale Butchery", "b").await;
    let moved = with_claims_edited(a.admin.token(), |claims| {
        claims["org"] = json!(b.org.id);
    });
    get(&server, "api/v1/admin/users", &moved)
        .await
        .assert_error(ErrorCode::Unauthenticated);
    post(&server, "api/v1/admin/users", &moved, &newcomer(&b))
        .await
        .assert_error(ErrorCode::Unauthenticated);
    assert_eq!(users_of(&server, &b).await, 2);
}

#[tokio::test]
async fn a_token_carrying_the_attackers_own_key_in_its_header_is_refused() {
    let server = spawn_server().await;
    let shop = organisation(&server, "Kwik Mart", "kwik").await;
    let genuine = shop.admin.token();
    let header = decode(genuine.split('.').next().unwrap());
    let claims = decode(genuine.split('.').nth(1).unwrap());
    let attacker = SigningKey::from_bytes(&[42; 32]);
    let own_jwk = json!({
        "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
        "kid": header["kid"],
        "x": URL_SAFE_NO_PAD.encode(attacker.verifying_key().to_bytes()),
    });
    let mut with_jwk = header.clone();
    with_jwk["jwk"] = own_jwk.clone();
    let mut with_jku = header.clone();
    with_jku["jku"] = json!(server.at(".well-known/jwks.json"));
    let mut with_x5u = header.clone();
    with_x5u["x5u"] = json!("https://attacker.example/cert.pem");
    let mut own_kid = with_jwk.clone();
    own_kid["kid"] = json!("attacker-key");
    own_kid["jwk"]["kid"] = json!("attacker-key");
    for forged_header in [with_jwk, with_jku, with_x5u, own_kid] {
        let forged = signed_by_attacker(&forged_header, &claims, &attacker);
        let answer = post(&server, "api/v1/admin/users", &forged, &newcomer(&shop)).await;
        answer.assert_error(ErrorCode::Unauthenticated);
    }
    assert_eq!(users_of(&server, &shop).await, 2, "nobody was created");
}

#[tokio::test]
async fn a_refresh_token_is_not_an_access_token() {
    let server = spawn_server().await;
    let shop = organisation(&server, "Kwik Mart", "kwik").await;
    let refresh = &shop.admin.tokens.refresh_token;
    for path in ["api/v1/me", "api/v1/admin/users"] {
        get(&server, path, refresh)
            .await
            .assert_error(ErrorCode::Unauthenticated);
    }
    post(&server, "api/v1/admin/users", refresh, &newcomer(&shop))
        .await
        .assert_error(ErrorCode::Unauthenticated);
    assert_eq!(users_of(&server, &shop).await, 2);
}

#[tokio::test]
async fn an_access_token_or_a_grant_is_not_a_refresh_token() {
    let server = spawn_server().await;
    let shop = organisation(&server, "Kwik Mart", "kwik").await;
    let session = &shop.cashier;
    for impostor in [
        session.tokens.access_token.clone(),
        session.tokens.offline_grant.clone(),
    ] {
        let answer = send(
            &server,
            Method::POST,
            "api/v1/auth/refresh",
            None,
            Body::Json(&json!({"refresh_token": impostor, "device_id": session.device})),
        )
        .await;
        answer.assert_error(ErrorCode::Unauthenticated);
    }
    // Nothing was revoked by the attempts: the genuine refresh token still works once.
    let genuine = send(
        &server,
        Method::POST,
        "api/v1/auth/refresh",
        None,
        Body::Json(&json!({"refresh_token": session.tokens.refresh_token,
                           "device_id": session.device})),
    )
    .await;
    genuine.expect(200);
}

#[tokio::test]
async fn a_disabled_cashiers_token_can_neither_push_nor_pull() {
    let shop = shop().await;
    shop.sell("1", "2.00").await;
    let token = shop.till_token().await;
    let request = shop.batch(shop.journal());
    let cashier = shop.target.cashier.user;
    post(
        &shop.server,
        &format!("api/v1/admin/users/{cashier}/disable"),
        shop.target.admin.token(),
        &json!({}),
    )
    .await
    .expect(200);
    let pushed = post_batch(&shop.server, PUSH_PATH, &token, &request).await;
    assert_eq!(pushed.status(), 401, "{:?}", pushed.text().await);
    get(&shop.server, PULL_PATH, &token)
        .await
        .assert_error(ErrorCode::Unauthenticated);
    assert_eq!(shop.records_on_server().await, 0);
    assert_eq!(shop.sales_on_server().await, 0);
}

#[tokio::test]
async fn a_cashier_whose_role_lost_the_sales_permission_cannot_push_with_the_old_token_or_a_new_one(
) {
    let shop = shop().await;
    shop.sell("1", "2.00").await;
    let old_token = shop.till_token().await;
    let request = shop.batch(shop.journal());
    put(
        &shop.server,
        &format!(
            "api/v1/admin/roles/{}/permissions",
            role_of(&shop.target.org, "Cashier")
        ),
        shop.target.admin.token(),
        &json!({"permissions": ["pos:sales:view"]}),
    )
    .await
    .expect(200);
    let with_old = post_batch(&shop.server, PUSH_PATH, &old_token, &request).await;
    assert_eq!(with_old.status(), 401, "{:?}", with_old.text().await);
    let new_token = shop.till_token().await;
    let with_new = post_batch(&shop.server, PUSH_PATH, &new_token, &request).await;
    assert_eq!(with_new.status(), 403, "{:?}", with_new.text().await);
    assert_eq!(shop.records_on_server().await, 0);
    // Given back, the same batch goes through: it was the permission, not the batch.
    put(
        &shop.server,
        &format!(
            "api/v1/admin/roles/{}/permissions",
            role_of(&shop.target.org, "Cashier")
        ),
        shop.target.admin.token(),
        &json!({"permissions": ["pos:sales:create", "pos:sales:view",
                                "pos:sessions:manage", "stock:inventory:view"]}),
    )
    .await
    .expect(200);
    let token = shop.till_token().await;
    let answer = post_batch_ok(&shop.server, PUSH_PATH, &token, &request).await;
    assert!(
        answer
            .results
            .iter()
            .all(|r| r.outcome == Outcome::Accepted),
        "{answer:?}"
    );
}

/// Kwik Mart's till pushed a sale and an offline-looking sale under a grant nobody issued
/// (quarantined); returns the shop, the stored id of its accepted sale and of the
/// quarantined one.
async fn shop_with_stored_records() -> (super::Shop, String, String) {
    let shop = shop().await;
    shop.sell("1", "2.00").await;
    shop.sell("1", "2.00").await;
    let mut records = shop.journal();
    records[2].grant_jti = Some("no-such-grant".into());
    super::relink_from(&mut records, 2);
    let token = shop.till_token().await;
    let answer = post_batch_ok(&shop.server, PUSH_PATH, &token, &shop.batch(records)).await;
    assert_eq!(answer.results[2].outcome, Outcome::Quarantined);
    let stored = |status: &str| {
        let (server, org, status) = (&shop.server, shop.target.org.id, status.to_owned());
        async move {
            server
                .db
                .call(
                    move |conn| -> Result<String, tillpoint_server::store::DbError> {
                        Ok(conn.query_row(
                            "SELECT id FROM sync_records WHERE org_id = ?1 AND status = ?2
                              ORDER BY seq DESC LIMIT 1",
                            [org.to_string(), status.clone()],
                            |r| r.get(0),
                        )?)
                    },
                )
                .await
                .unwrap()
        }
    };
    let accepted = stored("accepted").await;
    let quarantined = stored("quarantined").await;
    (shop, accepted, quarantined)
}

#[tokio::test]
async fn another_organisations_quarantine_is_not_listed() {
    let (shop, _, quarantined) = shop_with_stored_records().await;
    let own = get(
        &shop.server,
        "api/v1/sync/quarantine",
        shop.target.admin.token(),
    )
    .await
    .expect(200);
    assert_eq!(own["records"][0]["id"], json!(quarantined), "{own}");
    let rival = organisation(&shop.server, "Elsewhere", "rival").await;
    let theirs = get(&shop.server, "api/v1/sync/quarantine", rival.admin.token())
        .await
        .expect(200);
    assert_eq!(theirs, json!({"records": []}));
}

#[tokio::test]
async fn another_organisations_device_chain_cannot_be_rebased_nor_a_chain_put_on_its_record() {
    // The rival is given the ids it should never know (read from the store after the
    // push): the boundary must hold even then.
    let (shop, accepted, _) = shop_with_stored_records().await;
    let rival = organisation(&shop.server, "Elsewhere", "rival").await;
    let chain_end = || {
        server_count(
            &shop.server,
            "SELECT last_seq FROM device_chains WHERE device_id = ?1",
            shop.device().to_string(),
        )
    };
    let before = chain_end().await;
    let rebase = |device: String, record: String| {
        let token = rival.admin.token().to_owned();
        let server = &shop.server;
        async move {
            post(
                server,
                &format!("api/v1/admin/devices/{device}/chain/rebase"),
                &token,
                &json!({"record": record, "note": "taking over"}),
            )
            .await
        }
    };
    let nothing = uuid::Uuid::now_v7().to_string();
    let their_device = rebase(shop.device().to_string(), accepted.clone()).await;
    let no_device = rebase(nothing.clone(), accepted.clone()).await;
    their_device.assert_error(ErrorCode::NotFound);
    assert_eq!(
        their_device.text, no_device.text,
        "tells their device apart"
    );
    // The rival's own device (its cashier's), onto the shop's stored record.
    let own_device = rival.cashier.device.to_string();
    let their_record = rebase(own_device.clone(), accepted.clone()).await;
    let no_record = rebase(own_device, nothing).await;
    their_record.assert_error(ErrorCode::NotFound);
    assert_eq!(
        their_record.text, no_record.text,
        "tells their record apart"
    );
    assert_eq!(chain_end().await, before);
    assert_eq!(
        server_count(
            &shop.server,
            "SELECT COUNT(*) FROM audit_log WHERE event = ?1",
            "device_chain_rebased".into(),
        )
        .await,
        0
    );
    // The shop's own administrator can, so the refusals were the boundary's.
    post(
        &shop.server,
        &format!("api/v1/admin/devices/{}/chain/rebase", shop.device()),
        shop.target.admin.token(),
        &json!({"record": accepted, "note": "reviewed"}),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn revoking_a_device_id_in_another_organisation_leaves_this_ones_till_working() {
    let shop = shop().await;
    shop.sell("1", "2.00").await;
    let token = shop.till_token().await;
    // The rival signs in under the shop's device id, then its administrator revokes the
    // device: its own row of that id.
    let rival = organisation(&shop.server, "Elsewhere", "rival").await;
    shop.server
        .login("rival-cashier", PASSWORD, shop.device())
        .await;
    post(
        &shop.server,
        &format!("api/v1/admin/devices/{}/revoke", shop.device()),
        rival.admin.token(),
        &json!({}),
    )
    .await
    .expect(200);
    // The shop's token issued before it, a new sign-in on the till and its push all work.
    get(&shop.server, "api/v1/me", &token).await.expect(200);
    let fresh = shop.till_token().await;
    let answer = post_batch_ok(&shop.server, PUSH_PATH, &fresh, &shop.batch(shop.journal())).await;
    assert!(
        answer
            .results
            .iter()
            .all(|r| r.outcome == Outcome::Accepted),
        "{answer:?}"
    );
    let devices = get(
        &shop.server,
        "api/v1/admin/devices",
        shop.target.admin.token(),
    )
    .await
    .expect(200);
    let till = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == json!(shop.device()))
        .unwrap()
        .clone();
    assert_eq!(till["revoked"], json!(false), "{till}");
}
