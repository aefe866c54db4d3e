//! Refresh tokens (RFC 9700): rotated on every use, reuse revoking the whole family, the
//! retry grace after a lost answer, binding to the device, idle and absolute expiry,
//! permissions re-read at each refresh, and sign-out.

use super::{
    assert_refresh_refused, assert_token_accepted, audit_count, audit_rows, live_grants, logout,
    now, perms, query, refresh, refreshed, role_of, served_keys, signed_in, DAY,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::StatusCode;
use tillpoint_protocol::token::{verify_access_token, verify_offline_grant};
use tillpoint_server::identity::refresh::RETRY_GRACE_SECS;
use tillpoint_server::testing::{new_device, spawn_server};

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let s = signed_in("Cashier").await;
    let first = &s.tokens.refresh_token;
    let second = refreshed(&s.server, first, s.device).await;
    assert_ne!(&second.refresh_token, first);
    assert_ne!(second.access_token, s.tokens.access_token);
    assert_eq!(second.token_type, "Bearer");
    assert_eq!(second.user, s.tokens.user);
    assert_token_accepted(&s.server, &second.access_token).await;
    // The new one works once; the old one is spent.
    let third = refreshed(&s.server, &second.refresh_token, s.device).await;
    assert_ne!(third.refresh_token, second.refresh_token);
    assert_refresh_refused(refresh(&s.server, first, s.device).await).await;
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let s = signed_in("Cashier").await;
    let first = &s.tokens.refresh_token;
    let second = refreshed(&s.server, first, s.device).await;
    assert_eq!(audit_count(&s.server, "refresh_reuse_detected").await, 0);

    // Replayed after the retry grace: theft, not a lost answer.
    s.server.clock.advance(RETRY_GRACE_SECS + 1);
    assert_refresh_refused(refresh(&s.server, first, s.device).await).await;
    // The newest token of the family is revoked with it, and so is its offline grant.
    assert_refresh_refused(refresh(&s.server, &second.refresh_token, s.device).await).await;
    assert_eq!(audit_count(&s.server, "refresh_reuse_detected").await, 1);
    assert_eq!(
        live_grants(&s.server).await,
        0,
        "the family's grants are revoked with it"
    );
}

#[tokio::test]
async fn a_retry_after_a_lost_answer_is_not_reuse() {
    // The till refreshed, the answer was lost, it retries with the token it still holds.
    let s = signed_in("Cashier").await;
    let first = &s.tokens.refresh_token;
    let lost = refreshed(&s.server, first, s.device).await;
    let retried = refreshed(&s.server, first, s.device).await;
    assert_ne!(retried.refresh_token, lost.refresh_token);
    // The answer that never arrived is retired; the retried one carries on.
    assert_refresh_refused(refresh(&s.server, &lost.refresh_token, s.device).await).await;
    let next = refreshed(&s.server, &retried.refresh_token, s.device).await;
    assert_token_accepted(&s.server, &next.access_token).await;
    assert_eq!(audit_count(&s.server, "refresh_reuse_detected").await, 0);
}

#[tokio::test]
async fn a_retry_is_reuse_once_the_successor_was_used() {
    let s = signed_in("Cashier").await;
    let first = &s.tokens.refresh_token;
    let second = refreshed(&s.server, first, s.device).await;
    refreshed(&s.server, &second.refresh_token, s.device).await;
    // Within the grace, but the successor already served: someone else holds `first`.
    assert_refresh_refused(refresh(&s.server, first, s.device).await).await;
    assert_eq!(audit_count(&s.server, "refresh_reuse_detected").await, 1);
}

#[tokio::test]
async fn each_refresh_supersedes_the_previous_offline_grant() {
    let s = signed_in("Cashier").await;
    refreshed(&s.server, &s.tokens.refresh_token, s.device).await;
    let (total, current): (i64, i64) = query(&s.server, |c| {
        c.query_row(
            "SELECT COUNT(*), SUM(CASE WHEN superseded_at IS NULL AND revoked_at IS NULL THEN 1 ELSE 0 END) FROM offline_grants",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    })
    .await;
    assert_eq!(
        (total, current),
        (2, 1),
        "one grant in force per user and device"
    );
}

#[tokio::test]
async fn signing_out_revokes_the_offline_grant_too() {
    let s = signed_in("Cashier").await;
    assert_eq!(live_grants(&s.server).await, 1);
    let response = reqwest::Client::new()
        .post(s.server.at("api/v1/auth/logout"))
        .json(&serde_json::json!({"refresh_token": s.tokens.refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(live_grants(&s.server).await, 0);
}

#[tokio::test]
async fn made_up_refresh_tokens_are_refused_without_writing_anything() {
    let s = signed_in("Cashier").await;
    let before = audit_rows(&s.server).await;
    for i in 0..20 {
        assert_refresh_refused(refresh(&s.server, &format!("made-up-{i}"), s.device).await).await;
    }
    assert_eq!(audit_rows(&s.server).await, before);
}

#[tokio::test]
async fn a_refresh_token_presented_by_another_device_is_refused_and_revokes_its_family() {
    let s = signed_in("Cashier").await;
    let token = &s.tokens.refresh_token;
    assert_refresh_refused(refresh(&s.server, token, new_device()).await).await;
    // Even its own device can no longer use it.
    assert_refresh_refused(refresh(&s.server, token, s.device).await).await;
    assert_eq!(audit_count(&s.server, "refresh_reuse_detected").await, 1);
}

#[tokio::test]
async fn a_refresh_token_unused_for_14_days_expires() {
    let s = signed_in("Cashier").await;
    s.server.clock.advance(13 * DAY);
    let next = refreshed(&s.server, &s.tokens.refresh_token, s.device).await;
    // Idle time counts from the last use.
    s.server.clock.advance(14 * DAY + 60);
    assert_refresh_refused(refresh(&s.server, &next.refresh_token, s.device).await).await;
}

#[tokio::test]
async fn a_refresh_family_ends_60_days_after_sign_in_however_often_it_is_used() {
    let s = signed_in("Cashier").await;
    let mut token = s.tokens.refresh_token.clone();
    for _ in 0..4 {
        s.server.clock.advance(13 * DAY); // days 13, 26, 39, 52
        token = refreshed(&s.server, &token, s.device).await.refresh_token;
    }
    s.server.clock.advance(13 * DAY); // day 65: used 13 days ago, but the family is over
    assert_refresh_refused(refresh(&s.server, &token, s.device).await).await;
}

#[tokio::test]
async fn refresh_rereads_the_users_permissions() {
    let s = signed_in("Cashier").await;
    let role = role_of(&s.org, "Cashier").to_string();
    query(&s.server, move |c| {
        c.execute(
            "INSERT INTO role_permissions (role_id, permission) VALUES (?1, 'pos:sales:refund')",
            [&role],
        )?;
        c.execute(
            "DELETE FROM role_permissions WHERE role_id = ?1 AND permission = 'pos:sales:view'",
            [&role],
        )
    })
    .await;
    let next = refreshed(&s.server, &s.tokens.refresh_token, s.device).await;
    let expected = perms(&[
        "pos:sales:create",
        "pos:sales:refund",
        "pos:sessions:manage",
        "stock:inventory:view",
    ]);
    assert_eq!(next.user.permissions, expected);
    let keys = served_keys(&s.server).await;
    let claims = verify_access_token(&next.access_token, &keys, now(&s.server)).unwrap();
    assert_eq!(claims.perms, expected);
    let grant = verify_offline_grant(&next.offline_grant, &keys, now(&s.server)).unwrap();
    assert_eq!(grant.perms, expected, "the grant follows the new role too");
}

#[tokio::test]
async fn a_disabled_users_refresh_is_refused() {
    let s = signed_in("Cashier").await;
    let user = s.user.to_string();
    query(&s.server, move |c| {
        c.execute("UPDATE users SET disabled = 1 WHERE id = ?1", [&user])
    })
    .await;
    assert_refresh_refused(refresh(&s.server, &s.tokens.refresh_token, s.device).await).await;
    // The family is gone, not merely paused: re-enabling does not bring it back.
    let user = s.user.to_string();
    query(&s.server, move |c| {
        c.execute("UPDATE users SET disabled = 0 WHERE id = ?1", [&user])
    })
    .await;
    assert_refresh_refused(refresh(&s.server, &s.tokens.refresh_token, s.device).await).await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_family() {
    let s = signed_in("Cashier").await;
    let next = refreshed(&s.server, &s.tokens.refresh_token, s.device).await;
    let response = logout(&s.server, &next.refresh_token).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_refresh_refused(refresh(&s.server, &next.refresh_token, s.device).await).await;
    assert_eq!(audit_count(&s.server, "logged_out").await, 1);
}

#[tokio::test]
async fn logout_with_an_unknown_token_still_answers_204() {
    let server = spawn_server().await;
    let random = URL_SAFE_NO_PAD.encode(uuid::Uuid::now_v7().as_bytes().repeat(2));
    for token in ["not-a-token", random.as_str(), ""] {
        let response = logout(&server, token).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{token:?}");
    }
}
