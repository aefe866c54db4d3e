//! Several server instances on one PostgreSQL database, consecutive requests landing on
//! different ones as behind a load balancer: they share nothing but the database, so every
//! rule that remembers something must hold across them. On SQLite (one instance owns the
//! file) these tests have nothing to check and say so.

use super::{assert_refresh_refused, audit_count, live_grants, refresh, refreshed, signed_in};
use tillpoint_server::identity::refresh::RETRY_GRACE_SECS;
use tillpoint_server::testing::spawn_another_instance;

#[tokio::test]
async fn a_refresh_token_rotated_on_one_instance_is_spent_on_the_other_and_reuse_revokes_the_family(
) {
    let s = signed_in("Cashier").await;
    let Some(other) = spawn_another_instance(&s.server).await else {
        eprintln!("SQLite: one instance per database, nothing to check");
        return;
    };
    let first = &s.tokens.refresh_token;
    // Rotated on the second instance, then again on the first with the new token.
    let second = refreshed(&other, first, s.device).await;
    let third = refreshed(&s.server, &second.refresh_token, s.device).await;
    // The first token replayed on either instance after the grace is reuse: the whole family
    // ends, on both.
    s.server.clock.advance(RETRY_GRACE_SECS + 1);
    other.clock.advance(RETRY_GRACE_SECS + 1);
    assert_refresh_refused(refresh(&other, first, s.device).await).await;
    assert_refresh_refused(refresh(&s.server, &third.refresh_token, s.device).await).await;
    assert_refresh_refused(refresh(&other, &third.refresh_token, s.device).await).await;
    assert_eq!(audit_count(&s.server, "refresh_reuse_detected").await, 1);
    assert_eq!(
        live_grants(&other).await,
        0,
        "the family's grants end with it"
    );
}

#[tokio::test]
async fn the_same_refresh_token_sent_to_two_instances_at_once_rotates_once() {
    let s = signed_in("Cashier").await;
    let Some(other) = spawn_another_instance(&s.server).await else {
        eprintln!("SQLite: one instance per database, nothing to check");
        return;
    };
    // Ten at once, alternating instances: within the retry grace each may succeed (a lost
    // answer's retry), but together they must leave the family exactly one live token.
    let mut set = tokio::task::JoinSet::new();
    for i in 0..10 {
        let url = if i % 2 == 0 { &s.server } else { &other }.at("api/v1/auth/refresh");
        let body =
            serde_json::json!({"refresh_token": s.tokens.refresh_token, "device_id": s.device});
        set.spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .expect("the server answers")
                .status()
                .as_u16()
        });
    }
    let answers = set.join_all().await;
    assert!(answers.contains(&200), "{answers:?}");
    assert!(
        answers.iter().all(|status| matches!(status, 200 | 401)),
        "{answers:?}"
    );
    let live: i64 = super::query(&s.server, |conn| {
        conn.query_row(
            "SELECT COUNT(*) FROM refresh_tokens WHERE rotated_at IS NULL AND revoked_at IS NULL",
            (),
            |r| r.get(0),
        )
    })
    .await;
    assert_eq!(live, 1, "one live token in the family");
}
