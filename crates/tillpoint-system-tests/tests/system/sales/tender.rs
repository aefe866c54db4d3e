//! Tender: short, overpaid by card, split across currencies, and a card payment of the
//! amount asked in another currency settling the sale.

use super::{
    card, cash, err_code, half_up, money, open_till, paying, shop, vat_in, written, zwg_asked,
};
use tillpoint_core::sales::PaymentRequest;
use tillpoint_protocol::money::ExchangeRate;
use tillpoint_protocol::sales::TenderMethod;

/// method, currency, amount, rate, rate base, value in the sale currency, reference.
type PaymentRow = (String, String, i64, String, String, i64, Option<String>);

#[tokio::test]
async fn tender_short_overpaid_by_card_and_split_across_currencies() {
    let shop = shop("Cashier").await;
    let till = shop.t();
    open_till(till);
    let c = &shop.catalog;
    till.scan_barcode(&c.bread.barcode).unwrap();
    till.scan_barcode(&c.oil.barcode).unwrap(); // 1.25 + 3.99 = 5.24
    let conn = shop.db();
    let before = written(&conn);

    let short = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await;
    assert_eq!(err_code(short), "payment_short");
    // ZWG 140.43 = USD 5.2399 (short by a fraction of a cent): still short.
    let short = till
        .checkout(&paying(
            vec![cash("ZWG", &money(zwg_asked(524) - 1))],
            "USD",
        ))
        .await;
    assert_eq!(err_code(short), "payment_short");
    assert_eq!(
        written(&conn),
        before,
        "nothing written for a short payment"
    );

    let over = till
        .checkout(&paying(vec![card("USD", "5.25", "AUTH 1")], "USD"))
        .await
        .expect_err("a card cannot pay more than is due");
    assert_eq!(over.code(), "invalid_input");
    assert!(over.to_string().contains("only cash"), "{over}");
    let no_reference = till
        .checkout(&paying(
            vec![PaymentRequest {
                method: TenderMethod::MobileMoney,
                currency: "USD".into(),
                amount: "5.24".into(),
                reference: Some("  ".into()),
            }],
            "USD",
        ))
        .await;
    assert_eq!(err_code(no_reference), "invalid_input");
    let unknown = till
        .checkout(&paying(vec![cash("GBP", "10.00")], "USD"))
        .await;
    assert_eq!(err_code(unknown), "invalid_input");
    assert_eq!(written(&conn), before);

    // Split: USD 2.00 by card, the rest (USD 3.24) in ZWG cash, exactly what is asked.
    let split = vec![card("USD", "2.00", "AUTH 2")];
    let preview = till.tender_preview(&paying(split.clone(), "ZWG")).unwrap();
    assert_eq!(preview.remaining_minor, 324);
    let zwg_due = preview
        .due_in
        .iter()
        .find(|d| d.currency == "ZWG")
        .expect("ZWG is taken")
        .amount_minor;
    assert_eq!(
        zwg_due,
        zwg_asked(324),
        "asked in ZWG, rounded up, at 26.80 (not the future rate)"
    );
    let mut payments = split;
    payments.push(cash("ZWG", &money(zwg_due)));
    let done = till.checkout(&paying(payments, "ZWG")).await.unwrap();
    let (change, vat): (i64, i64) = conn
        .query_row(
            "SELECT change_minor, vat_minor FROM sales WHERE id = ?1",
            [&done.sale_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    // ZWG 86.84 against ZWG 86.832 due: 0.008 over, which rounds down to no change.
    assert_eq!(change, 0);
    assert_eq!(vat, vat_in(524, 1500));
    let payments: Vec<PaymentRow> = conn
        .prepare(
            "SELECT method, currency, amount_minor, rate, rate_base, value_minor, reference
             FROM sale_payments WHERE sale_id = ?1 ORDER BY payment_no",
        )
        .unwrap()
        .query_map([&done.sale_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(payments.len(), 2);
    assert_eq!(
        (
            payments[0].0.as_str(),
            payments[0].1.as_str(),
            payments[0].2,
            payments[0].5
        ),
        ("card", "USD", 200, 200)
    );
    assert_eq!(payments[0].6.as_deref(), Some("AUTH 2"));
    assert_eq!(
        (
            payments[1].0.as_str(),
            payments[1].1.as_str(),
            payments[1].2
        ),
        ("cash", "ZWG", zwg_due)
    );
    assert_eq!(
        ExchangeRate::parse(&payments[1].3).unwrap(),
        ExchangeRate::parse("26.80").unwrap(),
        "the rate in force is captured on the payment"
    );
    assert_eq!(payments[1].4, "USD");
    assert_eq!(payments[1].5, half_up(i128::from(zwg_due) * 10, 268));
    let receipt = &done.printed.receipt;
    assert_eq!(receipt.payments.len(), 2);
    assert!(
        receipt.payments[1]
            .rate
            .as_deref()
            .is_some_and(|r| r.contains("26.8")),
        "{:?}",
        receipt.payments[1]
    );
}

/// money-and-tax.md: "What a customer is asked for in another currency rounds up (paying it
/// always settles the sale)". A card can only be charged whole ZWG cents, so for a price
/// whose ZWG value is not a whole cent the till asks for a little more than is due — and
/// then refuses that very amount by card as "more than what is still due".
#[tokio::test]
async fn a_card_payment_of_the_amount_asked_in_another_currency_settles_the_sale() {
    let shop = shop("Cashier").await;
    let till = shop.t();
    open_till(till);
    till.scan_barcode(&shop.catalog.milk.barcode).unwrap(); // USD 0.99 = ZWG 26.532
    let preview = till.tender_preview(&paying(vec![], "USD")).unwrap();
    let asked = preview
        .due_in
        .iter()
        .find(|d| d.currency == "ZWG")
        .unwrap()
        .amount_minor;
    assert_eq!(asked, 2_654);
    let result = till
        .checkout(&paying(vec![card("ZWG", &money(asked), "AUTH 9")], "ZWG"))
        .await;
    let done =
        result.expect("paying by card exactly what the till asked for in ZWG settles the sale");
    assert_eq!(done.printed.receipt.total_minor, 99);
}
