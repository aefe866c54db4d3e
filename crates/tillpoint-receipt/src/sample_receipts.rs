//! Receipts the tests print: shaped like what `tillpoint-core` builds from a stored sale,
//! with amounts that add up, so a test failing on a total is about the layout and not about
//! a careless example.

use crate::model::{Amount, Receipt, ReceiptKind, ReceiptLine, ReceiptPayment, ReceiptVat};

fn line(
    name: &str,
    quantity: &str,
    unit_price_minor: i64,
    total_minor: i64,
    tax: &str,
) -> ReceiptLine {
    ReceiptLine {
        name: name.to_owned(),
        quantity: quantity.to_owned(),
        unit_price_minor,
        discount_minor: 0,
        total_minor,
        tax_label: tax.to_owned(),
        price_overridden: false,
    }
}

fn amount(currency: &str, minor: i64) -> Amount {
    Amount {
        currency: currency.to_owned(),
        minor_units: 2,
        minor,
    }
}

/// Three items in USD, no discounts, paid in cash with change.
pub(crate) fn cash_sale() -> Receipt {
    Receipt {
        kind: ReceiptKind::Sale,
        shop_name: "Corner Shop".to_owned(),
        location: Some("Harare CBD".to_owned()),
        tax_number: Some("10012345".to_owned()),
        receipt_no: "7F3A09C2-000123".to_owned(),
        refund_of: None,
        reason: None,
        date: "2026-11-27 14:03".to_owned(),
        cashier: "Tendai".to_owned(),
        currency: "USD".to_owned(),
        minor_units: 2,
        lines: vec![
            line("Bread 700g", "2", 120, 240, "15%"),
            line("Milk 1L", "1", 199, 199, "15%"),
            line("Tomatoes", "1.5 kg", 200, 300, "0%"),
        ],
        subtotal_minor: 739,
        discount_minor: 0,
        total_minor: 739,
        vat: vec![
            ReceiptVat {
                label: "15%".to_owned(),
                gross_minor: 439,
                vat_minor: 57,
                net_minor: 382,
            },
            ReceiptVat {
                label: "0%".to_owned(),
                gross_minor: 300,
                vat_minor: 0,
                net_minor: 300,
            },
        ],
        vat_total_minor: 57,
        payments: vec![ReceiptPayment {
            method: "Cash".to_owned(),
            amount: amount("USD", 1000),
            rate: None,
            reference: None,
        }],
        change: Some(amount("USD", 261)),
        change_rate: None,
        verification_code: "A1B2-C3D4-E5F6-0789".to_owned(),
        reprint: false,
    }
}

/// The bread of [`cash_sale`] brought back, refunded in cash.
pub(crate) fn refund() -> Receipt {
    Receipt {
        kind: ReceiptKind::Refund,
        receipt_no: "7F3A09C2-000124".to_owned(),
        refund_of: Some("7F3A09C2-000123".to_owned()),
        reason: Some("Damaged packaging".to_owned()),
        lines: vec![line("Bread 700g", "-2", 120, -240, "15%")],
        subtotal_minor: -240,
        total_minor: -240,
        vat: vec![ReceiptVat {
            label: "15%".to_owned(),
            gross_minor: -240,
            vat_minor: -31,
            net_minor: -209,
        }],
        vat_total_minor: -31,
        payments: vec![ReceiptPayment {
            method: "Cash".to_owned(),
            amount: amount("USD", -240),
            rate: None,
            reference: None,
        }],
        change: None,
        change_rate: None,
        verification_code: "9C8B-7A6F-5E4D-3C2B".to_owned(),
        ..cash_sale()
    }
}

/// A sale in ZWG paid partly in US dollars at the day's rate and partly by card, with the
/// change given in ZWG.
pub(crate) fn sale_paid_in_two_currencies() -> Receipt {
    Receipt {
        currency: "ZWG".to_owned(),
        lines: vec![line("Cooking oil 2L", "1", 18_000, 18_000, "15%")],
        subtotal_minor: 18_000,
        total_minor: 18_000,
        vat: vec![ReceiptVat {
            label: "15%".to_owned(),
            gross_minor: 18_000,
            vat_minor: 2_348,
            net_minor: 15_652,
        }],
        vat_total_minor: 2_348,
        payments: vec![
            ReceiptPayment {
                method: "Cash".to_owned(),
                amount: amount("USD", 500),
                rate: Some("1 USD = 26.80 ZWG".to_owned()),
                reference: None,
            },
            ReceiptPayment {
                method: "Card".to_owned(),
                amount: amount("ZWG", 5_000),
                rate: None,
                reference: Some("AUTH 448812".to_owned()),
            },
        ],
        change: Some(amount("ZWG", 400)),
        change_rate: Some("1 USD = 26.80 ZWG".into()),
        ..cash_sale()
    }
}
