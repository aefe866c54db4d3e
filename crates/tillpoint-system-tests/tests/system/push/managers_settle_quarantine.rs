//! Managers settle the quarantine: they release or void quarantined records of their own
//! organisation only; a release is four-eyes and re-runs the checks, saying what still fails.

use super::{
    audit_events, batch, go_offline, journal, push_ok, relink, sales_on_server, sell,
    server_scalar, shop, token_on, Shop, PASSWORD,
};
use reqwest::StatusCode;
use serde_json::Value;
use tillpoint_protocol::journal::GENESIS_HASH;
use tillpoint_protocol::sync::Outcome;
use tillpoint_system_tests::new_device;
use tillpoint_system_tests::sync::{outcomes, reason};

#[tokio::test]
async fn managers_release_or_void_quarantined_records_of_their_own_organisation_only() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    for _ in 0..2 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    let mut records = journal(&shop.till);
    records[1].grant_jti = Some("forged-1".into());
    records[2].grant_jti = Some("forged-2".into());
    relink(&mut records, GENESIS_HASH);
    let token = shop.token().await;
    let request = batch(&shop.till, records);
    let answer = push_ok(&shop.server, &token, &request).await;
    assert_eq!(
        outcomes(&answer),
        [
            Outcome::Accepted,
            Outcome::Quarantined,
            Outcome::Quarantined
        ]
    );

    let client = reqwest::Client::new();
    let list_url = shop.server.at("api/v1/sync/quarantine");
    // A cashier may not look.
    let refused = client
        .get(&list_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let admin = shop.admin_token().await;
    let list = quarantine_list(&shop, &admin).await;
    let held = list["records"].as_array().unwrap();
    assert_eq!(held.len(), 2);
    let id_of = |seq: i64| -> String {
        held.iter().find(|r| r["seq"] == seq).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (to_release, to_void) = (id_of(2), id_of(3));
    assert!(held[0]["reason"]
        .as_str()
        .unwrap()
        .contains("unknown grant"));

    // Another organisation's manager: exactly like a missing record.
    let other = shop.server.create_organisation("Elsewhere").await;
    shop.server
        .create_user(&other, "eve", "Administrator", "eve-password-1")
        .await;
    let eve = token_on(&shop.server, "eve", "eve-password-1", new_device()).await;
    let settle = |id: &str, action: &str, token: &str| {
        client
            .post(
                shop.server
                    .at(&format!("api/v1/sync/quarantine/{id}/{action}")),
            )
            .bearer_auth(token.to_owned())
            .send()
    };
    let foreign = settle(&to_release, "release", &eve).await.unwrap();
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let foreign_body = foreign.text().await.unwrap();
    let missing = settle(&uuid::Uuid::now_v7().to_string(), "release", &eve)
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.text().await.unwrap(), foreign_body);
    assert_eq!(
        settle("not-a-uuid", "void", &admin).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        settle(&to_release, "release", &token)
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN,
        "a cashier may not release"
    );

    let released = settle(&to_release, "release", &admin).await.unwrap();
    assert_eq!(released.status(), StatusCode::OK);
    let released: Value = released.json().await.unwrap();
    assert_eq!(released["status"], "released");
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 1);
    let voided = settle(&to_void, "void", &admin).await.unwrap();
    assert_eq!(voided.status(), StatusCode::OK);
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 1);
    // Settled once only.
    assert_eq!(
        settle(&to_release, "void", &admin).await.unwrap().status(),
        StatusCode::CONFLICT
    );
    assert_eq!(audit_events(&shop.server, "quarantine_released").await, 1);
    assert_eq!(audit_events(&shop.server, "quarantine_voided").await, 1);
    let list = quarantine_list(&shop, &admin).await;
    assert_eq!(list["records"].as_array().unwrap().len(), 0);

    // The till resending learns what became of them.
    let again = push_ok(&shop.server, &token, &request).await;
    assert_eq!(outcomes(&again), [Outcome::Duplicate; 3]);
    assert_eq!(again.results[1].reason, None, "released");
    assert!(reason(&again, 2).contains("voided"), "{again:?}");
}

/// The quarantine list as `token`'s holder sees it.
async fn quarantine_list(shop: &Shop, token: &str) -> Value {
    reqwest::Client::new()
        .get(shop.server.at("api/v1/sync/quarantine"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The quarantine list, seen by `token`: the stored id of each record by its seq.
pub(super) async fn held_ids(shop: &Shop, token: &str) -> Vec<(i64, String)> {
    quarantine_list(shop, token).await["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["seq"].as_i64().unwrap(),
                r["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Releases stored record `id` as `token`'s holder.
pub(super) async fn release(shop: &Shop, id: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(
            shop.server
                .at(&format!("api/v1/sync/quarantine/{id}/release")),
        )
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_release_or_void_needs_someone_other_than_its_creator_and_its_pusher_and_a_release_says_what_still_fails(
) {
    let shop = shop().await;
    // farai, another Administrator, hands the till's batch in with their own token.
    shop.server
        .create_user(&shop.org, "farai", "Administrator", "farai-password-1")
        .await;
    let farai = token_on(&shop.server, "farai", "farai-password-1", new_device()).await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    for _ in 0..2 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    let mut records = journal(&shop.till);
    // Made by tendai under a grant the server never issued.
    records[1].grant_jti = Some("forged-1".into());
    // Said to be made by rumbi, likewise.
    records[2].creator_id = shop.admin;
    records[2].grant_jti = Some("forged-2".into());
    relink(&mut records, GENESIS_HASH);
    let answer = push_ok(&shop.server, &farai, &batch(&shop.till, records)).await;
    assert_eq!(
        outcomes(&answer),
        [
            Outcome::Accepted,
            Outcome::Quarantined,
            Outcome::Quarantined
        ]
    );
    let rumbi = shop.admin_token().await;
    // The list says who handed each record in.
    let list = quarantine_list(&shop, &rumbi).await;
    let farai_id = list["records"][0]["pushed_by"].as_str().unwrap().to_owned();
    assert!(list["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["pushed_by"] == farai_id.as_str() && r["pushed_via"] == "push"));
    assert_ne!(farai_id, shop.cashier.to_string());
    let held = held_ids(&shop, &rumbi).await;
    let id_of = |seq: i64| held.iter().find(|h| h.0 == seq).unwrap().1.clone();
    let (tendais, rumbis) = (id_of(2), id_of(3));

    // The person who handed a record in cannot release it, nor can its creator.
    let forbidden = |response: reqwest::Response, says: &'static str| async move {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let text = response.text().await.unwrap();
        assert!(text.contains(says), "{text}");
    };
    forbidden(
        release(&shop, &tendais, &farai).await,
        "you handed this record in",
    )
    .await;
    forbidden(
        release(&shop, &rumbis, &rumbi).await,
        "you made this record",
    )
    .await;
    // Nor may either of them void it: a void keeps a record out of the books for good.
    let void = |id: String, token: String| {
        let url = shop.server.at(&format!("api/v1/sync/quarantine/{id}/void"));
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    forbidden(
        void(tendais.clone(), farai.clone()).await,
        "you handed this record in: someone else must void it",
    )
    .await;
    forbidden(
        void(rumbis.clone(), rumbi.clone()).await,
        "you made this record: someone else must void it",
    )
    .await;
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 0);

    // A second person may, and is told what the re-run checks still find.
    let released = release(&shop, &tendais, &rumbi).await;
    assert_eq!(released.status(), StatusCode::OK);
    let released: Value = released.json().await.unwrap();
    assert_eq!(released["status"], "released");
    let still: Vec<&str> = released["still_failing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(still.len(), 1, "{still:?}");
    assert!(still[0].contains("unknown grant"), "{still:?}");
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 1);
    // The audit entry keeps it, with who released.
    let audited = server_scalar(
        &shop.server,
        "SELECT COUNT(*) FROM audit_log WHERE event = 'quarantine_released'
            AND detail LIKE '%still_failing%unknown grant%'
            AND actor_id = ?1",
        shop.admin.to_string(),
    )
    .await;
    assert_eq!(audited, 1);
    // Who handed each record in is kept with it.
    let by_farai = server_scalar(
        &shop.server,
        "SELECT COUNT(*) FROM sync_records WHERE org_id = ?1 AND pushed_via = 'push'
            AND pushed_by = (SELECT id FROM users WHERE username = 'farai')",
        shop.org.id.to_string(),
    )
    .await;
    assert_eq!(by_farai, 3);
}
