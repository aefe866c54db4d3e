//! The offline grant: bound to the user, the device and the organisation, and holding only
//! the organisation's offline set of permissions.

use super::{now, perms, query, segment, served_keys, signed_in, CASHIER_PERMISSIONS, OFFLINE_SET};
use serde_json::json;
use tillpoint_protocol::auth::{GRANT_AUDIENCE, ISSUER, OFFLINE_GRANT_TYP};
use tillpoint_protocol::token::{verify_access_token, verify_offline_grant};
use tillpoint_protocol::CurrencyCode;

#[tokio::test]
async fn the_offline_grant_is_bound_to_the_user_device_and_organisation() {
    let s = signed_in("Cashier").await;
    let grant = &s.tokens.offline_grant;
    let header = segment(grant, 0);
    assert_eq!(header["typ"], OFFLINE_GRANT_TYP);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], json!(s.server.identity.keys.current().kid));

    let keys = served_keys(&s.server).await;
    let claims = verify_offline_grant(grant, &keys, now(&s.server))
        .expect("the grant verifies with the served JWKS");
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, GRANT_AUDIENCE);
    assert_eq!(claims.sub, s.user);
    assert_eq!(claims.org, s.org.id);
    assert_eq!(claims.device, s.device);
    assert_eq!(claims.role, "Cashier");
    // Cashier ∩ offline set: a cashier cannot refund or discount online, so not offline either.
    assert_eq!(claims.perms, perms(CASHIER_PERMISSIONS));
    let usd = claims
        .limits
        .get(&CurrencyCode::parse("USD").unwrap())
        .expect("limits in the base currency");
    assert!(usd.max_sale > 0 && usd.max_sale <= usd.max_offline_total && usd.max_discount >= 0);
    assert_eq!(claims.nbf, claims.iat);
    assert_eq!(claims.exp, claims.iat + 72 * 3600);
    assert!(
        verify_access_token(grant, &keys, now(&s.server)).is_err(),
        "a grant is never an access token"
    );

    let jti = claims.jti.clone();
    let (user, device, org, issued): (String, String, String, i64) = query(&s.server, move |c| {
        c.query_row(
            "SELECT user_id, device_id, org_id, COUNT(*) OVER ()
                   FROM offline_grants WHERE jti = ?1",
            [&jti],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
    })
    .await;
    assert_eq!(issued, 1);
    assert_eq!(user, s.user.to_string());
    assert_eq!(device, s.device.to_string());
    assert_eq!(org, s.org.id.to_string());
}

#[tokio::test]
async fn a_super_administrators_offline_grant_holds_only_the_offline_set() {
    let s = signed_in("Super Administrator").await;
    assert_eq!(s.tokens.user.permissions, perms(&["*:*:*"]));
    let claims = verify_offline_grant(
        &s.tokens.offline_grant,
        &served_keys(&s.server).await,
        now(&s.server),
    )
    .unwrap();
    assert_eq!(claims.perms, perms(OFFLINE_SET));
    assert!(claims
        .perms
        .iter()
        .all(|p| !p.as_str().starts_with("admin:") && !p.as_str().contains('*')));
}
