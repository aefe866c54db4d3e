//! Session reports the tests print: shaped like what `tillpoint-core` builds from a session's
//! totals, with figures that add up (sales less refunds is the net, the tenders and the float
//! make up what is expected, the VAT bands make up the net), so a failing test is about the
//! layout and not about a careless example.

use tillpoint_protocol::sales::TenderMethod;

use crate::model::ReceiptVat;
use crate::report::{
    CashierReport, CashierTotal, CurrencyReport, ReportKind, SessionReport, TenderLine,
};

fn vat(label: &str, gross_minor: i64, vat_minor: i64) -> ReceiptVat {
    ReceiptVat {
        label: label.to_owned(),
        gross_minor,
        vat_minor,
        net_minor: gross_minor - vat_minor,
    }
}

fn tender(method: TenderMethod, expected_minor: i64, counted_minor: Option<i64>) -> TenderLine {
    TenderLine {
        method,
        expected_minor,
        counted_minor,
        over_short_minor: counted_minor.map(|counted| counted - expected_minor),
    }
}

fn total(currency: &str, amount_minor: i64) -> CashierTotal {
    CashierTotal {
        currency: currency.to_owned(),
        minor_units: 2,
        amount_minor,
    }
}

/// A day closed with two currencies: USD cash 1.50 short and card not counted; ZWG cash
/// 5.00 over and mobile money exactly right. Two cashiers.
pub(crate) fn z_report() -> SessionReport {
    SessionReport {
        kind: ReportKind::Z,
        session_id: "0b7e4c1a-5d2f-4e8b-9a3c-1f2e3d4c5b6a".to_owned(),
        shop_name: Some("Corner Shop".to_owned()),
        opened_at: "2026-11-27 07:58".to_owned(),
        opened_by_name: "Tendai".to_owned(),
        closed_at: Some("2026-11-27 18:04".to_owned()),
        closed_by_name: Some("Rudo".to_owned()),
        printed_at: "2026-11-27 18:05".to_owned(),
        sales_count: 42,
        refunds_count: 1,
        currencies: vec![
            CurrencyReport {
                currency: "USD".to_owned(),
                minor_units: 2,
                float_minor: 5_000,
                sales_minor: 12_345,
                refunds_minor: 240,
                discounts_minor: 150,
                net_minor: 12_105,
                vat: vec![vat("15%", 9_105, 1_188), vat("0%", 3_000, 0)],
                tenders: vec![
                    tender(TenderMethod::Cash, 13_105, Some(12_955)),
                    tender(TenderMethod::Card, 4_000, None),
                ],
            },
            CurrencyReport {
                currency: "ZWG".to_owned(),
                minor_units: 2,
                float_minor: 0,
                sales_minor: 268_000,
                refunds_minor: 0,
                discounts_minor: 0,
                net_minor: 268_000,
                vat: vec![vat("15%", 268_000, 34_957)],
                tenders: vec![
                    tender(TenderMethod::Cash, 200_000, Some(200_500)),
                    tender(TenderMethod::MobileMoney, 68_000, Some(68_000)),
                ],
            },
        ],
        cashiers: vec![
            CashierReport {
                name: "Tendai".to_owned(),
                sales_count: 30,
                totals: vec![total("USD", 8_105), total("ZWG", 268_000)],
            },
            CashierReport {
                name: "Rudo".to_owned(),
                sales_count: 12,
                totals: vec![total("USD", 4_000)],
            },
        ],
    }
}

/// The same session read in the middle of the day: nothing counted, nothing closed.
pub(crate) fn x_report() -> SessionReport {
    let mut report = SessionReport {
        kind: ReportKind::X,
        closed_at: None,
        closed_by_name: None,
        printed_at: "2026-11-27 13:30".to_owned(),
        ..z_report()
    };
    for tender in report.currencies.iter_mut().flat_map(|c| &mut c.tenders) {
        tender.counted_minor = None;
        tender.over_short_minor = None;
    }
    report
}
