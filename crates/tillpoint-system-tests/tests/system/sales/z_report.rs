//! The Z report adds up to the sales and payments of its session.

use super::{
    card, cash, count, money, open_till, paying, percent, refund_line, refund_of, scalar, shop,
    zwg_asked, SplitMix, FLOAT_USD, FLOAT_ZWG,
};
use tillpoint_core::journal::{self};
use tillpoint_core::sales::till_session::CountInput;
use tillpoint_protocol::sales::TenderMethod;
use tillpoint_protocol::tax::{TaxCode, TaxRate};

#[tokio::test]
async fn the_z_report_adds_up_to_the_sales_and_payments_of_its_session() {
    let shop = shop("Administrator").await;
    let till = shop.t();
    open_till(till);
    let c = &shop.catalog;
    let each = [&c.bread, &c.milk, &c.maize, &c.soap, &c.oil];
    let mut rng = SplitMix(0x5EED_2025);
    let mut refunds = 0;
    for n in 0..30 {
        for _ in 0..1 + rng.below(4) {
            if rng.below(6) == 0 {
                let grams = 100 + rng.below(1900);
                till.cart_add(
                    &c.bananas.id,
                    Some(&format!("{}.{:03}", grams / 1000, grams % 1000)),
                )
                .unwrap();
            } else {
                let item = each[rng.below(each.len() as u64) as usize];
                till.cart_add(&item.id, Some(&(1 + rng.below(3)).to_string()))
                    .unwrap();
            }
        }
        if rng.below(5) == 0 {
            till.cart_set_discount(Some(&percent("5"))).unwrap();
        }
        let total = till.pos_state().unwrap().cart.total_minor;
        let change = if rng.below(2) == 0 { "USD" } else { "ZWG" };
        let payments = match rng.below(4) {
            0 => vec![cash("USD", &money((total / 100 + 1 + rng.below(3)) * 100))],
            1 => vec![cash("ZWG", &money(zwg_asked(total) + rng.below(5000)))],
            2 => vec![card("USD", &money(total), &format!("AUTH {n}"))],
            _ => {
                let half = total / 2;
                vec![
                    card("USD", &money(half), &format!("AUTH {n}")),
                    cash("ZWG", &money(zwg_asked(total - half) + rng.below(1000))),
                ]
            }
        };
        let done = till
            .checkout(&paying(payments, change))
            .await
            .unwrap_or_else(|e| panic!("sale {n} (total {total}): {e}"));
        if rng.below(4) == 0 {
            let detail = till.sale_detail(&done.sale_id).unwrap();
            let line = &detail.lines[0];
            let quantity = if line.unit == tillpoint_protocol::money::Unit::Kg {
                line.refundable_quantity.clone()
            } else {
                "1".to_owned()
            };
            // Money goes back the way it came: cash while the sale's cash covers it, else card.
            let mut input = refund_of(
                &done.sale_id,
                vec![refund_line(line.line_no, &quantity, rng.below(2) == 0)],
                None,
            );
            if let Err(err) = till.refund(&input).await {
                assert_eq!(err.code(), "not_refundable", "{err}");
                input.tender = TenderMethod::Card;
                till.refund(&input).await.unwrap();
            }
            refunds += 1;
        }
    }
    assert!(refunds >= 3, "some refunds: {refunds}");

    let conn = shop.db();
    let session: String = scalar(
        &conn,
        "SELECT id FROM till_sessions WHERE closed_at IS NULL",
        (),
    );
    let sum = |sql: &str, currency: &str| -> i64 { scalar(&conn, sql, (&session, currency)) };
    let cash_in = |currency: &str| {
        sum(
            "SELECT COALESCE(SUM(p.amount_minor), 0) FROM sale_payments p JOIN sales s ON s.id = p.sale_id
             WHERE s.session_id = ?1 AND p.method = 'cash' AND p.currency = ?2",
            currency,
        )
    };
    let change_out = |currency: &str| {
        sum(
            "SELECT COALESCE(SUM(change_minor), 0) FROM sales WHERE session_id = ?1 AND change_currency = ?2",
            currency,
        )
    };
    let expected_cash =
        |currency: &str, float: i64| float + cash_in(currency) - change_out(currency);
    let (usd_cash, zwg_cash) = (
        expected_cash("USD", FLOAT_USD),
        expected_cash("ZWG", FLOAT_ZWG),
    );
    let card_usd = sum(
        "SELECT COALESCE(SUM(p.amount_minor), 0) FROM sale_payments p JOIN sales s ON s.id = p.sale_id
         WHERE s.session_id = ?1 AND p.method = 'card' AND p.currency = ?2",
        "USD",
    );
    // Counted: USD 0.37 over, ZWG 12.50 short, the card slips exactly.
    let counted = [
        count("USD", &money(usd_cash + 37)),
        count("ZWG", &money(zwg_cash - 1250)),
        CountInput {
            currency: "USD".into(),
            tender: TenderMethod::Card,
            amount: money(card_usd),
        },
    ];
    let z = till.close_till(&counted).await.unwrap().report;
    assert_eq!(z.kind, tillpoint_receipt::ReportKind::Z);
    assert_eq!(z.session_id, session);
    assert_eq!(
        z.sales_count,
        scalar::<i64>(
            &conn,
            "SELECT COUNT(*) FROM sales WHERE session_id = ?1 AND kind = 'sale'",
            [&session]
        )
    );
    assert_eq!(z.sales_count, 30);
    assert_eq!(z.refunds_count, refunds);

    for (currency, float, cash_expected, over_short) in [
        ("USD", FLOAT_USD, usd_cash, 37),
        ("ZWG", FLOAT_ZWG, zwg_cash, -1250),
    ] {
        let report = z
            .currencies
            .iter()
            .find(|r| r.currency == currency)
            .unwrap_or_else(|| panic!("{currency} in the report"));
        let of_kind = |kind: &str| -> i64 {
            scalar(
                &conn,
                "SELECT COALESCE(SUM(total_minor), 0) FROM sales WHERE session_id = ?1 AND currency = ?2 AND kind = ?3",
                (&session, currency, kind),
            )
        };
        assert_eq!(report.float_minor, float, "{currency} float");
        assert_eq!(report.sales_minor, of_kind("sale"), "{currency} sales");
        assert_eq!(
            report.refunds_minor,
            -of_kind("refund"),
            "{currency} refunds"
        );
        assert_eq!(
            report.net_minor,
            of_kind("sale") + of_kind("refund"),
            "{currency} net"
        );
        assert_eq!(
            report.discounts_minor,
            sum(
                "SELECT COALESCE(SUM(discount_minor), 0) FROM sales WHERE session_id = ?1 AND currency = ?2",
                currency
            ),
            "{currency} discounts"
        );
        let report_vat: i64 = report.vat.iter().map(|b| b.vat_minor).sum();
        assert_eq!(
            report_vat,
            sum(
                "SELECT COALESCE(SUM(vat_minor), 0) FROM sales WHERE session_id = ?1 AND currency = ?2",
                currency
            ),
            "{currency} VAT"
        );
        let bands: Vec<(String, u32, i64, i64)> = conn
            .prepare(
                "SELECT l.tax_code, l.tax_rate_bp, SUM(l.total_minor), SUM(l.vat_minor)
                 FROM sale_lines l JOIN sales s ON s.id = l.sale_id
                 WHERE s.session_id = ?1 AND s.currency = ?2 GROUP BY l.tax_code, l.tax_rate_bp",
            )
            .unwrap()
            .query_map((&session, currency), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(report.vat.len(), bands.len(), "{currency} VAT bands");
        for (code, rate_bp, gross, vat) in bands {
            let label = TaxRate {
                code: TaxCode::parse(&code).unwrap(),
                rate_bp,
            }
            .label();
            let band = report
                .vat
                .iter()
                .find(|b| b.label == label)
                .unwrap_or_else(|| panic!("band {label}"));
            assert_eq!(
                (band.gross_minor, band.vat_minor),
                (gross, vat),
                "band {label}"
            );
        }
        for tender in &report.tenders {
            let expected = match tender.method {
                TenderMethod::Cash => cash_expected,
                method => sum(
                    &format!(
                        "SELECT COALESCE(SUM(p.amount_minor), 0) FROM sale_payments p JOIN sales s ON s.id = p.sale_id
                         WHERE s.session_id = ?1 AND p.currency = ?2 AND p.method = '{}'",
                        method.as_str()
                    ),
                    currency,
                ),
            };
            assert_eq!(
                tender.expected_minor, expected,
                "{currency} {:?} expected",
                tender.method
            );
            let counted = tender.counted_minor.expect("counted");
            assert_eq!(tender.over_short_minor, Some(counted - expected));
        }
        let cash = report
            .tenders
            .iter()
            .find(|t| t.method == TenderMethod::Cash)
            .expect("cash line");
        assert_eq!(
            cash.over_short_minor,
            Some(over_short),
            "{currency} over/short"
        );
    }
    let cashier_total: i64 = z
        .cashiers
        .iter()
        .flat_map(|c| &c.totals)
        .map(|t| t.amount_minor)
        .sum();
    assert_eq!(
        cashier_total,
        scalar::<i64>(
            &conn,
            "SELECT SUM(total_minor) FROM sales WHERE session_id = ?1",
            [&session]
        )
    );
    assert!(journal::verify(&conn).is_ok());
}
