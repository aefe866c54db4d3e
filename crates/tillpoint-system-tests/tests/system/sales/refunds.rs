//! Refunds never return more than was charged (no line twice), restock unless damaged, pay
//! money back the way it was paid, and never hand back more VAT than the sale carried.

use super::{
    card, cash, err_code, line_id_of, money, open_till, paying, percent, refund_line, refund_of,
    scalar, shop, written,
};
use tillpoint_core::journal::{self};
use tillpoint_core::sales::{RefundLineInput, SaleDone};
use tillpoint_protocol::sales::TenderMethod;

#[tokio::test]
async fn refunds_never_return_more_than_was_charged_and_restock_unless_damaged() {
    let shop = shop("Administrator").await;
    let till = shop.t();
    open_till(till);
    let c = &shop.catalog;
    let view = till.cart_add(&c.soap.id, Some("3")).unwrap();
    till.cart_set_line_discount(line_id_of(&view, &c.soap), Some(&percent("10")))
        .unwrap();
    till.cart_add(&c.milk.id, Some("2")).unwrap();
    till.cart_add(&c.bananas.id, Some("1.235")).unwrap();
    let sale = till
        .checkout(&paying(vec![cash("USD", "20.00")], "USD"))
        .await
        .unwrap();
    let conn = shop.db();
    let line_total = |line: u32| -> i64 {
        scalar(
            &conn,
            "SELECT total_minor FROM sale_lines WHERE sale_id = ?1 AND line_no = ?2",
            (&sale.sale_id, line),
        )
    };
    // 3 × 3.33 = 9.99, less 10 % (1.00) = 8.99.
    assert_eq!(line_total(1), 899);
    assert_eq!(line_total(3), 246, "1.235 kg × 1.99 = 2.45765");

    let refund = |lines: Vec<RefundLineInput>| {
        let input = refund_of(&sale.sale_id, lines, None);
        async move { till.refund(&input).await }
    };
    let first = refund(vec![refund_line(1, "1", true)]).await.unwrap();
    let second = refund(vec![refund_line(1, "1", true)]).await.unwrap();
    let third = refund(vec![refund_line(1, "1", false)]).await.unwrap();
    let refunded: Vec<i64> = [&first, &second, &third]
        .iter()
        .map(|r| {
            scalar(
                &conn,
                "SELECT total_minor FROM sales WHERE id = ?1",
                [&r.sale_id],
            )
        })
        .collect();
    // 8.99 in three: each refund returns the line's share between what was refunded
    // before and after it (3.00, 5.99 − 3.00, 8.99 − 5.99): together exactly what was paid.
    assert_eq!(
        refunded,
        vec![-300, -299, -300],
        "each refund takes its share, and the three take exactly the line's total"
    );
    assert_eq!(refunded.iter().sum::<i64>(), -line_total(1));

    let kg_part = refund(vec![refund_line(3, "0.5", true)]).await.unwrap();
    let kg_rest = refund(vec![refund_line(3, "0.735", true)]).await.unwrap();
    let kg: i64 = [&kg_part, &kg_rest]
        .iter()
        .map(|r| {
            scalar::<i64>(
                &conn,
                "SELECT total_minor FROM sales WHERE id = ?1",
                [&r.sale_id],
            )
        })
        .sum();
    assert_eq!(kg, -246);

    let before = written(&conn);
    for (lines, code) in [
        (vec![refund_line(1, "1", true)], "not_refundable"),
        (vec![refund_line(3, "0.001", true)], "not_refundable"),
        (vec![refund_line(2, "3", true)], "not_refundable"),
        (vec![refund_line(2, "0", true)], "invalid_input"),
        (vec![refund_line(2, "0.5", true)], "invalid_input"),
        (vec![refund_line(9, "1", true)], "invalid_input"),
        (vec![], "invalid_input"),
    ] {
        let what = format!("{lines:?}");
        assert_eq!(err_code(refund(lines).await), code, "{what}");
    }
    let of_refund = till
        .refund(&refund_of(
            &first.sale_id,
            vec![refund_line(1, "1", true)],
            None,
        ))
        .await;
    assert_eq!(err_code(of_refund), "not_refundable");
    assert_eq!(written(&conn), before);

    let detail = till.sale_detail(&sale.sale_id).unwrap();
    assert_eq!(detail.lines[0].refundable_quantity, "0");
    assert_eq!(detail.lines[1].refundable_quantity, "2");
    assert!(detail.sale.refundable);

    // Restocked goods go back on the shelf; damaged ones do not.
    let movements = |refund: &SaleDone| -> Vec<(String, i64)> {
        conn.prepare("SELECT product_id, quantity_milli FROM stock_movements WHERE sale_id = ?1")
            .unwrap()
            .query_map([&refund.sale_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(movements(&first), vec![(c.soap.id.clone(), 1000)]);
    assert_eq!(movements(&third), Vec::new(), "damaged: no movement");
    assert_eq!(
        scalar::<i64>(
            &conn,
            "SELECT restock FROM sale_lines WHERE sale_id = ?1",
            [&third.sale_id]
        ),
        0
    );
    assert_eq!(
        scalar::<i64>(
            &conn,
            "SELECT COALESCE(SUM(quantity_milli), 0) FROM stock_movements WHERE product_id = ?1",
            [&c.soap.id]
        ),
        -1000,
        "3 sold, 2 back on the shelf"
    );
    assert!(journal::verify(&conn).is_ok());
}

/// A refund checks each line it is asked for against what was left *before* the refund, so
/// naming the same line twice returns it twice.
#[tokio::test]
async fn one_refund_cannot_return_the_same_line_twice() {
    let shop = shop("Administrator").await;
    let till = shop.t();
    open_till(till);
    till.cart_add(&shop.catalog.milk.id, Some("2")).unwrap();
    let sale = till
        .checkout(&paying(vec![cash("USD", "2.00")], "USD"))
        .await
        .unwrap();
    let conn = shop.db();
    let before = written(&conn);
    let twice = till
        .refund(&refund_of(
            &sale.sale_id,
            vec![refund_line(1, "2", true), refund_line(1, "2", true)],
            None,
        ))
        .await;
    let refunded: i64 = scalar(
        &conn,
        "SELECT COALESCE(SUM(total_minor), 0) FROM sales WHERE kind = 'refund'",
        (),
    );
    assert_eq!(
        err_code(twice),
        "not_refundable",
        "2 milk sold, 4 asked back; refunded {refunded} of 198"
    );
    assert_eq!(written(&conn), before);
    // Named twice for one each, it returns exactly the line.
    let both = till
        .refund(&refund_of(
            &sale.sale_id,
            vec![refund_line(1, "1", true), refund_line(1, "1", false)],
            None,
        ))
        .await
        .unwrap();
    assert_eq!(both.printed.receipt.total_minor, -198);
    assert_eq!(
        till.sale_detail(&sale.sale_id).unwrap().lines[0].refundable_quantity,
        "0"
    );
}

#[tokio::test]
async fn money_goes_back_the_way_it_was_paid() {
    let shop = shop("Administrator").await;
    let till = shop.t();
    open_till(till);
    let c = &shop.catalog;
    // Paid by card: the drawer pays nothing back.
    till.scan_barcode(&c.bread.barcode).unwrap();
    let by_card = till
        .checkout(&paying(
            vec![card("USD", &money(c.bread.price), "AUTH 9")],
            "USD",
        ))
        .await
        .unwrap();
    let mut input = refund_of(&by_card.sale_id, vec![refund_line(1, "1", true)], None);
    assert_eq!(err_code(till.refund(&input).await), "not_refundable");
    input.tender = TenderMethod::Card;
    till.refund(&input).await.unwrap();
    // Paid in cash with change: what comes back in cash is what was kept, not what was handed over.
    till.scan_barcode(&c.bread.barcode).unwrap();
    let by_cash = till
        .checkout(&paying(vec![cash("USD", "20.00")], "USD"))
        .await
        .unwrap();
    let mut input = refund_of(&by_cash.sale_id, vec![refund_line(1, "1", true)], None);
    input.tender = TenderMethod::Card;
    assert_eq!(err_code(till.refund(&input).await), "not_refundable");
    input.tender = TenderMethod::Cash;
    let refund = till.refund(&input).await.unwrap();
    assert_eq!(refund.printed.receipt.total_minor, -c.bread.price);
}

#[tokio::test]
async fn partial_refunds_never_hand_back_more_vat_than_the_sale_carried() {
    let shop = shop("Administrator").await;
    let till = shop.t();
    open_till(till);
    let c = &shop.catalog;
    let view = till.scan_barcode(&c.soap.barcode).unwrap();
    till.cart_set_quantity(view.lines[0].line_id, "10").unwrap();
    let sale = till
        .checkout(&paying(vec![cash("USD", "100.00")], "USD"))
        .await
        .unwrap();
    let conn = shop.db();
    let (charged, vat): (i64, i64) = conn
        .query_row(
            "SELECT total_minor, vat_minor FROM sales WHERE id = ?1",
            [&sale.sale_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    for _ in 0..10 {
        till.refund(&refund_of(
            &sale.sale_id,
            vec![refund_line(1, "1", true)],
            None,
        ))
        .await
        .unwrap();
    }
    let (refunded, vat_back): (i64, i64) = conn
        .query_row(
            "SELECT -SUM(total_minor), -SUM(vat_minor) FROM sales WHERE refund_of = ?1",
            [&sale.sale_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((refunded, vat_back), (charged, vat));
    let lines_vat: i64 = scalar(
        &conn,
        "SELECT -SUM(l.vat_minor) FROM sale_lines l JOIN sales s ON s.id = l.sale_id
         WHERE s.refund_of = ?1",
        [&sale.sale_id],
    );
    assert_eq!(lines_vat, vat, "the lines add up to the bands");
}
