//! VAT through the till: worked out per band after all discounts and shared over the lines.

use super::{
    amount_off, cash, line_id_of, open_till, paying, payload_of, percent, scalar, shop, vat_in,
};
use rusqlite::Connection;

#[tokio::test]
async fn vat_is_worked_out_per_band_after_all_discounts_and_shared_over_the_lines() {
    let shop = shop("Administrator").await;
    let till = shop.t();
    open_till(till);
    let c = &shop.catalog;
    till.cart_add(&c.bread.id, Some("4")).unwrap();
    till.cart_add(&c.oil.id, None).unwrap();
    till.cart_add(&c.milk.id, Some("3")).unwrap();
    till.cart_add(&c.maize.id, None).unwrap();
    let view = till.cart_add(&c.soap.id, Some("2")).unwrap();
    till.cart_set_line_discount(line_id_of(&view, &c.bread), Some(&percent("10")))
        .unwrap();
    till.cart_set_price(line_id_of(&view, &c.oil), Some("3.50"))
        .unwrap();
    till.cart_set_line_discount(line_id_of(&view, &c.soap), Some(&amount_off("0.66")))
        .unwrap();
    let view = till.cart_set_discount(Some(&amount_off("1.00"))).unwrap();
    // 450 + 350 + 297 + 850 + 600 = 2547, less 1.00 shared by what each line costs.
    assert_eq!(view.total_minor, 2547 - 100);
    assert_eq!(view.subtotal_minor, 500 + 350 + 297 + 850 + 666);
    let done = till
        .checkout(&paying(vec![cash("USD", "30.00")], "USD"))
        .await
        .unwrap();
    assert_vat_per_band(&shop.db(), &done.sale_id);

    let conn = shop.db();
    let (total, subtotal, discount): (i64, i64, i64) = conn
        .query_row(
            "SELECT total_minor, subtotal_minor, discount_minor FROM sales WHERE id = ?1",
            [&done.sale_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(total, 2447);
    assert_eq!(subtotal - discount, total);
    let (line_sum, cart_shares, line_discounts): (i64, i64, i64) = conn
        .query_row(
            "SELECT SUM(total_minor), SUM(cart_discount_minor), SUM(line_discount_minor)
             FROM sale_lines WHERE sale_id = ?1",
            [&done.sale_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(line_sum, total);
    assert_eq!(cart_shares, 100, "the cart discount is shared out exactly");
    assert_eq!(line_discounts, 50 + 66);
    let oil: (i64, i64) = conn
        .query_row(
            "SELECT unit_price_minor, list_price_minor FROM sale_lines WHERE sale_id = ?1 AND product_id = ?2",
            [&done.sale_id, &c.oil.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        oil,
        (350, 399),
        "the hand-set price and the list price are both kept"
    );

    // Seven sweets at 0.04: VAT on 0.28 is 0.0365 → 0.04, not 7 × 0.01 line by line.
    for sweet in &c.sweets {
        till.cart_add(&sweet.id, None).unwrap();
    }
    let done = till
        .checkout(&paying(vec![cash("USD", "1.00")], "USD"))
        .await
        .unwrap();
    assert_vat_per_band(&conn, &done.sale_id);
    assert_eq!(
        scalar::<i64>(
            &conn,
            "SELECT vat_minor FROM sales WHERE id = ?1",
            [&done.sale_id]
        ),
        4
    );
}

/// The stored VAT per band equals gross × rate / (1 + rate), half up, once per band; the
/// lines' VAT adds up to their band; the sale, its receipt and its journal payload agree.
fn assert_vat_per_band(conn: &Connection, sale_id: &str) {
    let bands: Vec<(String, i64, i64, i64)> = conn
        .prepare(
            "SELECT tax_code, tax_rate_bp, SUM(total_minor), SUM(vat_minor) FROM sale_lines
             WHERE sale_id = ?1 GROUP BY tax_code, tax_rate_bp ORDER BY tax_code",
        )
        .unwrap()
        .query_map([sale_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut total_vat = 0;
    for (code, rate_bp, gross, lines_vat) in &bands {
        let expected = if code == "standard" {
            vat_in(*gross, *rate_bp)
        } else {
            0
        };
        assert_eq!(*lines_vat, expected, "band {code}: gross {gross}");
        total_vat += expected;
    }
    assert_eq!(
        scalar::<i64>(conn, "SELECT vat_minor FROM sales WHERE id = ?1", [sale_id]),
        total_vat
    );
    let payload = payload_of(conn, sale_id);
    assert_eq!(payload.vat.len(), bands.len());
    for band in &payload.vat {
        let (_, _, gross, vat) = bands
            .iter()
            .find(|b| b.0 == band.rate.code.as_str())
            .expect("the same bands");
        assert_eq!((band.gross_minor, band.vat_minor), (*gross, *vat));
        assert_eq!(band.net_minor, band.gross_minor - band.vat_minor);
    }
    let line_vat: i64 = payload.lines.iter().map(|l| l.vat_minor).sum();
    assert_eq!(line_vat, total_vat);
}
