//! Checkout writes everything in one go — the sale, its lines, payments, stock movements,
//! journal entry and outbox row — keeps the rate change was worked out at, and a sale that
//! fails halfway leaves nothing behind and burns no receipt number.

use super::{
    cash, grouped_code, open_till, paying, payload_of, receipt_prefix, rows, scalar, shop, vat_in,
    written, zwg_tenths, PASSWORD,
};
use tillpoint_core::journal::{self};
use tillpoint_protocol::money::ExchangeRate;

#[tokio::test]
async fn checkout_writes_the_sale_its_lines_payments_stock_journal_and_outbox_together() {
    let shop = shop("Cashier").await;
    let till = shop.t();
    open_till(till);
    let c = &shop.catalog;
    till.scan_barcode(&c.bread.barcode).unwrap();
    let view = till.scan_barcode(&c.milk.barcode).unwrap();
    assert_eq!(view.total_minor, 224);

    let done = till
        .checkout(&paying(vec![cash("USD", "20.00")], "ZWG"))
        .await
        .unwrap();
    // USD 17.76 change = ZWG 475.968 → ZWG 475.96 (change rounds down).
    let change = zwg_tenths(2000 - 224) / 10;
    assert_eq!(change, 47_596);
    assert_eq!(done.receipt_no, format!("{}-000001", receipt_prefix(till)));

    let conn = shop.db();
    let (kind, total, subtotal, discount, vat, change_minor, change_currency, creator, seq, jti): (
        String,
        i64,
        i64,
        i64,
        i64,
        i64,
        String,
        String,
        i64,
        Option<String>,
    ) = conn
        .query_row(
            "SELECT kind, total_minor, subtotal_minor, discount_minor, vat_minor, change_minor,
                    change_currency, creator_id, journal_seq, grant_jti
             FROM sales WHERE id = ?1",
            [&done.sale_id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(kind, "sale");
    assert_eq!((total, subtotal, discount), (224, 224, 0));
    assert_eq!(vat, vat_in(125, 1500), "VAT only on the bread");
    assert_eq!((change_minor, change_currency.as_str()), (change, "ZWG"));
    assert_eq!(creator, shop.user.to_string());
    assert_eq!(jti, None, "an online sale carries no grant");

    let lines: Vec<(String, i64, i64, String)> = conn
        .prepare("SELECT product_id, quantity_milli, total_minor, tax_code FROM sale_lines WHERE sale_id = ?1 ORDER BY line_no")
        .unwrap()
        .query_map([&done.sale_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        lines,
        vec![
            (c.bread.id.clone(), 1000, 125, "standard".into()),
            (c.milk.id.clone(), 1000, 99, "zero_rated".into())
        ]
    );

    let (method, currency, amount, rate, base, value): (String, String, i64, String, String, i64) = conn
        .query_row(
            "SELECT method, currency, amount_minor, rate, rate_base, value_minor FROM sale_payments WHERE sale_id = ?1",
            [&done.sale_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    assert_eq!(
        (method.as_str(), currency.as_str(), amount, value),
        ("cash", "USD", 2000, 2000)
    );
    assert_eq!(ExchangeRate::parse(&rate).unwrap(), ExchangeRate::ONE);
    assert_eq!(base, "USD");

    let movements: Vec<(String, i64, i64)> = conn
        .prepare("SELECT product_id, quantity_milli, journal_seq FROM stock_movements WHERE sale_id = ?1 ORDER BY product_id")
        .unwrap()
        .query_map([&done.sale_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut expected = vec![
        (c.bread.id.clone(), -1000, seq),
        (c.milk.id.clone(), -1000, seq),
    ];
    expected.sort();
    assert_eq!(movements, expected, "one negative movement per line");

    // The journal: the till's opening, then the sale; the chain verifies.
    assert_eq!(journal::verify(&conn).unwrap(), 2);
    let (journal_kind, journal_id, journal_jti, hash): (String, String, Option<String>, String) =
        conn.query_row(
            "SELECT kind, id, grant_jti, hash FROM journal WHERE seq = ?1",
            [seq],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(journal_kind, "sale");
    assert_eq!(journal_id, done.sale_id);
    assert_eq!(journal_jti, None);
    let payload = payload_of(&conn, &done.sale_id);
    assert_eq!(payload.receipt_no, done.receipt_no);
    assert_eq!(payload.total_minor, 224);
    assert_eq!(payload.lines.len(), 2);
    assert_eq!(payload.change_minor, change);

    let outbox: Vec<(i64, String)> = conn
        .prepare("SELECT journal_seq, state FROM outbox WHERE journal_seq = ?1")
        .unwrap()
        .query_map([seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(outbox, vec![(seq, "pending".to_owned())]);

    // The receipt: read back from the store, change in ZWG, verification code from the hash.
    let receipt = &done.printed.receipt;
    assert_eq!(receipt.receipt_no, done.receipt_no);
    assert_eq!(receipt.total_minor, 224);
    let change_amount = receipt.change.as_ref().expect("change is shown");
    assert_eq!(
        (change_amount.currency.as_str(), change_amount.minor),
        ("ZWG", change)
    );
    assert_eq!(receipt.verification_code, grouped_code(&hash));
    assert!(!receipt.reprint);
    assert!(!done.printed.printed, "no printer is set up");
    assert_eq!(done.printed.print_error, None);
    assert!(done.printed.html.contains(&done.receipt_no));

    // The cart is empty after, in the store too.
    assert!(till.pos_state().unwrap().cart.lines.is_empty());
    assert_eq!(rows(&conn, "open_cart"), 0);
}

/// ARCHITECTURE.md §5: "the exchange rate captured on the sale". Change given in ZWG for a
/// USD payment is worked out at the USD→ZWG rate, but no payment is in ZWG, so that rate is
/// stored nowhere: neither the sale row nor the journal payload lets anyone (the server's
/// re-check at sync, an auditor, a reprint) see what rate the ZWG 475.96 came from.
#[tokio::test]
async fn change_in_another_currency_keeps_the_rate_it_was_worked_out_at() {
    let shop = shop("Cashier").await;
    let till = shop.t();
    open_till(till);
    till.scan_barcode(&shop.catalog.bread.barcode).unwrap();
    till.scan_barcode(&shop.catalog.milk.barcode).unwrap();
    let done = till
        .checkout(&paying(vec![cash("USD", "20.00")], "ZWG"))
        .await
        .unwrap();
    let conn = shop.db();
    let payload: serde_json::Value = serde_json::from_str(&scalar::<String>(
        &conn,
        "SELECT j.payload FROM journal j JOIN sales s ON s.journal_seq = j.seq WHERE s.id = ?1",
        [&done.sale_id],
    ))
    .unwrap();
    let text = payload.to_string();
    assert!(
        text.contains("26.8"),
        "the sale's record holds the USD→ZWG rate its ZWG change was worked out at: {text}"
    );
}

#[tokio::test]
async fn a_sale_that_fails_halfway_leaves_nothing_behind_and_burns_no_number() {
    let shop = shop("Cashier").await;
    let till = shop.t();
    open_till(till);
    // Offline, so the grant's running total is part of what must roll back.
    till.lock();
    till.unlock_offline("tendai", PASSWORD).await.unwrap();
    till.scan_barcode(&shop.catalog.bread.barcode).unwrap();
    till.scan_barcode(&shop.catalog.milk.barcode).unwrap();

    let conn = shop.db();
    let before = written(&conn);
    conn.execute_batch(
        "CREATE TRIGGER test_stock_fails BEFORE INSERT ON stock_movements
         BEGIN SELECT RAISE (ABORT, 'the disk is full (test)'); END;",
    )
    .unwrap();
    let err = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await
        .expect_err("the stock insert fails");
    assert_eq!(err.code(), "store_unavailable", "{err}");
    assert_eq!(written(&conn), before, "nothing of the sale is left behind");
    assert_eq!(rows(&conn, "sales"), 0);
    assert_eq!(
        rows(&conn, "offline_totals"),
        0,
        "the offline total is unchanged"
    );
    let cart = till.pos_state().unwrap().cart;
    assert_eq!(cart.lines.len(), 2, "the cart is still there to try again");
    assert_eq!(cart.total_minor, 224);
    assert!(journal::verify(&conn).is_ok());

    conn.execute_batch("DROP TRIGGER test_stock_fails").unwrap();
    let done = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await
        .unwrap();
    assert!(
        done.receipt_no.ends_with("-000001"),
        "no number was used by the failed attempt: {}",
        done.receipt_no
    );
    assert_eq!(
        scalar::<i64>(&conn, "SELECT SUM(total_minor) FROM offline_totals", []),
        224
    );
    assert_eq!(rows(&conn, "stock_movements"), 2);
}
