//! Offline grant limits: offline sales are held to the grant's limits and carry its jti.

use super::{cash, open_till, paying, scalar, shop, stored_grant_jti, written, PASSWORD};
use tillpoint_core::journal::{self};

#[tokio::test]
async fn offline_sales_are_held_to_the_grants_limits_and_carry_its_jti() {
    let shop = shop("Cashier").await;
    let till = shop.t();
    let c = &shop.catalog;
    open_till(till);
    till.scan_barcode(&c.bread.barcode).unwrap();
    let online = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await
        .unwrap();
    till.lock();
    till.unlock_offline("tendai", PASSWORD).await.unwrap();
    let conn = shop.db();
    let jti = stored_grant_jti(&conn, "tendai");

    // Over the largest sale (500.00): refused, nothing written, the cart kept.
    till.cart_add(&c.fridge.id, None).unwrap();
    let before = written(&conn);
    let too_big = till
        .checkout(&paying(vec![cash("USD", "600.00")], "USD"))
        .await
        .expect_err("over the grant's largest sale");
    assert_eq!(too_big.code(), "offline_limit", "{too_big}");
    assert_eq!(written(&conn), before);
    assert_eq!(till.pos_state().unwrap().cart.total_minor, 60_000);
    till.cart_void().unwrap();

    // Ten sales of exactly 500.00 reach the 5,000.00 in all; the next is refused.
    let mut offline = Vec::new();
    for _ in 0..10 {
        till.cart_add(&c.tv.id, Some("2")).unwrap();
        let done = till
            .checkout(&paying(vec![cash("USD", "500.00")], "USD"))
            .await
            .expect("within the limits");
        offline.push(done.sale_id);
    }
    assert_eq!(
        scalar::<i64>(
            &conn,
            "SELECT total_minor FROM offline_totals WHERE grant_jti = ?1 AND currency = 'USD'",
            [&jti]
        ),
        500_000
    );
    till.scan_barcode(&c.bread.barcode).unwrap();
    let before = written(&conn);
    let over_total = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await
        .expect_err("the offline total is used up");
    assert_eq!(over_total.code(), "offline_limit");
    assert!(over_total.to_string().contains("in all"), "{over_total}");
    assert_eq!(written(&conn), before);

    for sale in &offline {
        let (sale_jti, journal_jti): (Option<String>, Option<String>) = conn
            .query_row(
                "SELECT s.grant_jti, j.grant_jti FROM sales s JOIN journal j ON j.seq = s.journal_seq WHERE s.id = ?1",
                [sale],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(sale_jti.as_deref(), Some(jti.as_str()));
        assert_eq!(journal_jti.as_deref(), Some(jti.as_str()));
    }
    let online_jti: Option<String> = scalar(
        &conn,
        "SELECT j.grant_jti FROM sales s JOIN journal j ON j.seq = s.journal_seq WHERE s.id = ?1",
        [&online.sale_id],
    );
    assert_eq!(online_jti, None, "an online sale carries no grant");
    assert!(journal::verify(&conn).is_ok());
}
