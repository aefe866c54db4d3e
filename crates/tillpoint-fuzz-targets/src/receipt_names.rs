//! A receipt whose names are anything a shop could type (or a synced catalog could carry):
//! laid out and rendered by `tillpoint-receipt` as ESC/POS for both paper widths and as HTML.
//!
//! The input is the receipt's texts separated by NUL bytes, in this order: the shop's name,
//! its location, the cashier, the refund reason, then a product name for each further piece
//! (up to eight lines). The amounts are a real sale's; only the names vary.
//!
//! What must hold, for any UTF-8:
//! - nothing panics;
//! - the ESC/POS bytes decode (`tillpoint_receipt::escpos::decode`, which refuses any byte
//!   or command the crate does not mean to send) and every printed line fits the paper;
//! - nothing is lost: every printable ASCII character of each name comes out, in order, in
//!   the printed text (other characters may become their ASCII cousins or `?`);
//! - the HTML carries each name escaped, and the names add no tag: the document has as many
//!   `<` as the same receipt with plain names.

use tillpoint_receipt::escpos::decode::{decode, Printed};
use tillpoint_receipt::{
    html, Amount, EscPosOptions, PaperWidth, Receipt, ReceiptKind, ReceiptLine, ReceiptPayment,
    ReceiptVat,
};

fn receipt(shop: &str, location: &str, cashier: &str, reason: &str, names: &[&str]) -> Receipt {
    let lines: Vec<ReceiptLine> = names
        .iter()
        .map(|name| ReceiptLine {
            name: (*name).to_owned(),
            quantity: "1".into(),
            unit_price_minor: 120,
            discount_minor: 0,
            total_minor: 120,
            tax_label: "15%".into(),
            price_overridden: false,
        })
        .collect();
    let total = 120 * lines.len() as i64;
    let vat = total * 15 / 115;
    Receipt {
        kind: if reason.is_empty() {
            ReceiptKind::Sale
        } else {
            ReceiptKind::Refund
        },
        shop_name: shop.to_owned(),
        location: Some(location.to_owned()),
        tax_number: Some("10012345".into()),
        receipt_no: "7F3A09C2-000123".into(),
        refund_of: (!reason.is_empty()).then(|| "7F3A09C2-000122".into()),
        reason: (!reason.is_empty()).then(|| reason.to_owned()),
        date: "2026-11-27 14:03".into(),
        cashier: cashier.to_owned(),
        currency: "USD".into(),
        minor_units: 2,
        lines,
        subtotal_minor: total,
        discount_minor: 0,
        total_minor: total,
        vat: vec![ReceiptVat {
            label: "15%".into(),
            gross_minor: total,
            vat_minor: vat,
            net_minor: total - vat,
        }],
        vat_total_minor: vat,
        payments: vec![ReceiptPayment {
            method: "Cash".into(),
            amount: Amount {
                currency: "USD".into(),
                minor_units: 2,
                minor: total + 100,
            },
            rate: None,
            reference: None,
        }],
        change: Some(Amount {
            currency: "USD".into(),
            minor_units: 2,
            minor: 100,
        }),
        change_rate: None,
        verification_code: "AB12-CD34-EF56-7890".into(),
        reprint: false,
    }
}

/// Whether the printable ASCII of `name`, spaces aside, comes out in order in `printed`.
fn survives(name: &str, printed: &str) -> bool {
    let mut printed = printed.chars().filter(|c| *c != ' ');
    name.chars()
        .filter(|c| (' '..='~').contains(c) && *c != ' ')
        .all(|wanted| printed.any(|c| c == wanted))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub fn receipt_names(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let mut next = || parts.next().unwrap_or("");
    let (shop, location, cashier, reason) = (next(), next(), next(), next());
    let mut names: Vec<&str> = Vec::new();
    for _ in 0..8 {
        match next() {
            "" if !names.is_empty() => break,
            name => names.push(name),
        }
    }
    let fuzzed = receipt(shop, location, cashier, reason, &names);
    let texts: Vec<&str> = [shop, location, cashier, reason]
        .into_iter()
        .chain(names.iter().copied())
        .collect();

    for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
        let options = EscPosOptions {
            width,
            kick_drawer: true,
        };
        let bytes = tillpoint_receipt::escpos::render(&fuzzed, &options);
        let printed = decode(&bytes).unwrap_or_else(|e| panic!("{width:?}: {e}"));
        let mut all = String::new();
        for line in printed.iter().filter_map(|p| match p {
            Printed::Line(line) => Some(line),
            _ => None,
        }) {
            assert!(
                line.columns() <= width.columns(),
                "{width:?}: {:?} is {} columns",
                line.text,
                line.columns()
            );
            all.push_str(&line.text);
            all.push(' ');
        }
        for name in &texts {
            assert!(
                survives(name, &all),
                "{width:?}: {name:?} is not all printed:\n{all}"
            );
        }
    }

    let page = html::render(&fuzzed);
    for name in &texts {
        assert!(page.contains(&escape(name)), "{name:?} is not in the HTML");
    }
    let plain_names: Vec<&str> = names.iter().map(|_| "Bread").collect();
    let plain = html::render(&receipt(
        "Shop",
        "Harare",
        "Tendai",
        if reason.is_empty() { "" } else { "Stale" },
        &plain_names,
    ));
    assert_eq!(
        page.matches('<').count(),
        plain.matches('<').count(),
        "a name added markup"
    );
}
