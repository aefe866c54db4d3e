//! Exactly once: an offline sale reaches the server once, with its creator and organisation,
//! however often it is pushed; the till's own push client is answered record by record; a
//! batch continues where the last ended; two tills' sales of one product add up.

use super::{
    batch, device_of, go_offline, journal, push_ok, records_on_server, sales_on_server, sell,
    server_scalar, shop, token_on, PASSWORD,
};
use tillpoint_protocol::sync::Outcome;
use tillpoint_system_tests::sync::outcomes;

#[tokio::test]
async fn an_offline_sale_reaches_the_server_exactly_once_with_its_creator_and_org() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    let sale_id = sell(&shop.till, &shop.catalog.bread, "2", "5.00").await;
    let records = journal(&shop.till);
    assert_eq!(records.len(), 2, "the till's opening, then the sale");
    assert!(records[1].grant_jti.is_some(), "made offline");

    let token = shop.token().await;
    let request = batch(&shop.till, records);
    let first = push_ok(&shop.server, &token, &request).await;
    assert_eq!(outcomes(&first), [Outcome::Accepted, Outcome::Accepted]);

    // Pushed twice more (as after a lost answer): nothing doubles.
    for _ in 0..2 {
        let again = push_ok(&shop.server, &token, &request).await;
        assert_eq!(outcomes(&again), [Outcome::Duplicate, Outcome::Duplicate]);
        assert_eq!(again.results[1].reason, None);
    }
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 1);
    assert_eq!(records_on_server(&shop.server, &shop.org).await, 2);
    let (creator, org, total, jti): (String, String, i64, Option<String>) = shop
        .server
        .db
        .call(move |conn| -> Result<_, tillpoint_server::store::DbError> {
            Ok(conn.query_row(
                "SELECT creator_id, org_id, total_minor, grant_jti FROM sales WHERE id = ?1",
                [sale_id.clone()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(creator, shop.cashier.to_string());
    assert_eq!(org, shop.org.id.to_string());
    assert_eq!(total, 250);
    assert!(jti.is_some());
    // Two loaves left the (unknown to the server) stock: on hand is -2, flagged.
    let on_hand = server_scalar(
        &shop.server,
        "SELECT SUM(quantity_milli) FROM stock_movements WHERE product_id = ?1",
        shop.catalog.bread.id.clone(),
    )
    .await;
    assert_eq!(on_hand, -2000);
    let flagged = server_scalar(
        &shop.server,
        "SELECT COUNT(*) FROM sync_exceptions WHERE org_id = ?1 AND kind = 'negative_stock'",
        shop.org.id.to_string(),
    )
    .await;
    assert_eq!(flagged, 1, "selling below zero is allowed and flagged");
}

/// The till's own push client (tillpoint-core) against this server: what it sold offline
/// reaches the server, and a second round has nothing left to send.
#[tokio::test]
async fn the_tills_own_push_client_is_answered_record_by_record() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    for _ in 0..3 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    // Back online.
    shop.till.till.sign_in("tendai", PASSWORD).await.unwrap();
    let summary = shop.till.till.push_outbox(|_| {}).await.unwrap();
    assert_eq!(summary.accepted, 4, "{summary:?}");
    assert_eq!(summary.quarantined + summary.rejected, 0, "{summary:?}");
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 3);
    let again = shop.till.till.push_outbox(|_| {}).await.unwrap();
    assert_eq!(again.accepted + again.duplicate, 0, "{again:?}");
    assert_eq!(shop.till.till.unsynced_count().unwrap(), 0);
}

#[tokio::test]
async fn a_batch_continues_where_the_last_one_ended_and_a_later_batch_resends_nothing() {
    let shop = shop().await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    for _ in 0..3 {
        sell(&shop.till, &shop.catalog.bread, "1", "2.00").await;
    }
    let records = journal(&shop.till);
    let token = shop.token().await;
    let first = push_ok(
        &shop.server,
        &token,
        &batch(&shop.till, records[..2].to_vec()),
    )
    .await;
    assert_eq!(outcomes(&first), [Outcome::Accepted; 2]);
    // The next batch overlaps the first by one record (a till that lost the answer).
    let second = push_ok(
        &shop.server,
        &token,
        &batch(&shop.till, records[1..].to_vec()),
    )
    .await;
    assert_eq!(
        outcomes(&second),
        [Outcome::Duplicate, Outcome::Accepted, Outcome::Accepted]
    );
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 3);
}

#[tokio::test]
async fn two_tills_selling_the_same_product_offline_add_up_on_the_server() {
    let shop = shop().await;
    let second = shop.another_till("rudo", "rudo-password-1").await;
    go_offline(&shop.till, "tendai", PASSWORD).await;
    go_offline(&second, "rudo", "rudo-password-1").await;
    sell(&shop.till, &shop.catalog.bread, "2", "5.00").await;
    sell(&second, &shop.catalog.bread, "3", "5.00").await;
    sell(&shop.till, &shop.catalog.bread, "1", "5.00").await;
    sell(&second, &shop.catalog.bread, "4", "5.00").await;

    let tokens = [
        shop.token().await,
        token_on(&shop.server, "rudo", "rudo-password-1", device_of(&second)).await,
    ];
    // Pushed at once.
    let requests = [
        batch(&shop.till, journal(&shop.till)),
        batch(&second, journal(&second)),
    ];
    let (a, b) = tokio::join!(
        push_ok(&shop.server, &tokens[0], &requests[0]),
        push_ok(&shop.server, &tokens[1], &requests[1]),
    );
    assert!(
        outcomes(&a).iter().all(|o| *o == Outcome::Accepted),
        "{a:?}"
    );
    assert!(
        outcomes(&b).iter().all(|o| *o == Outcome::Accepted),
        "{b:?}"
    );
    let on_hand = server_scalar(
        &shop.server,
        "SELECT SUM(quantity_milli) FROM stock_movements WHERE product_id = ?1",
        shop.catalog.bread.id.clone(),
    )
    .await;
    assert_eq!(on_hand, -(2 + 3 + 1 + 4) * 1000);
    // The kept levels (one per till's shop location here) add up to the ledger.
    let levels = server_scalar(
        &shop.server,
        "SELECT SUM(on_hand_milli) FROM stock_levels WHERE product_id = ?1",
        shop.catalog.bread.id.clone(),
    )
    .await;
    assert_eq!(levels, on_hand);
    assert_eq!(sales_on_server(&shop.server, &shop.org).await, 4);
}
