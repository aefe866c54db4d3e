//! What a receipt (and, in [`report`], a till-session report) says and in what order, decided
//! once for every output.
//!
//! [`lay_out`] turns a [`Receipt`] into a list of [`Block`]s: lines of text, labelled amounts,
//! the VAT table and rules. The blocks carry meaning (this is an amount, this is the title),
//! never widths or bytes: the ESC/POS renderer fits them to 32 or 48 columns and the HTML
//! renderer leaves that to the browser. So a paper receipt and the one on screen can never
//! disagree about what was sold, what was paid or whether it is a copy.
//!
//! Amounts are formatted here, with the currency's own decimals, and only here.

mod report;

use tillpoint_protocol::money::format_amount;

use crate::model::{Amount, Receipt, ReceiptKind, ReceiptLine, ReceiptPayment, ReceiptVat};

pub(crate) use report::lay_out_report;

/// The mark a reprint carries at its top and its bottom, so no part of a torn copy can pass
/// for an original.
pub(crate) const REPRINT_MARK: &str = "REPRINT — COPY";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Emphasis {
    Normal,
    Bold,
    /// Bold and as large as the output allows: the title, the total, the reprint mark.
    Large,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// Text that may wrap. `indented` text belongs to the item above it.
    Text {
        text: String,
        align: Align,
        emphasis: Emphasis,
        indented: bool,
    },
    /// A label on the left and an amount on the right. The amount is never cut or split:
    /// if both do not fit on one line, the label gives way.
    Amount {
        label: String,
        amount: String,
        emphasis: Emphasis,
        indented: bool,
    },
    /// A label column, then amount columns: the VAT breakdown, a report's cash-up.
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// A horizontal line between sections.
    Rule,
    /// [`REPRINT_MARK`], at the top and the bottom of a reprint.
    ReprintMark,
}

impl Block {
    fn text(text: impl Into<String>, align: Align, emphasis: Emphasis) -> Self {
        Self::Text {
            text: text.into(),
            align,
            emphasis,
            indented: false,
        }
    }

    fn detail(text: impl Into<String>) -> Self {
        Self::Text {
            text: text.into(),
            align: Align::Left,
            emphasis: Emphasis::Normal,
            indented: true,
        }
    }

    fn amount(label: impl Into<String>, amount: impl Into<String>, emphasis: Emphasis) -> Self {
        Self::Amount {
            label: label.into(),
            amount: amount.into(),
            emphasis,
            indented: false,
        }
    }

    fn detail_amount(label: impl Into<String>, amount: impl Into<String>) -> Self {
        Self::Amount {
            label: label.into(),
            amount: amount.into(),
            emphasis: Emphasis::Normal,
            indented: true,
        }
    }
}

/// Everything the receipt says, top to bottom.
pub(crate) fn lay_out(receipt: &Receipt) -> Vec<Block> {
    let mut blocks = Vec::new();
    if receipt.reprint {
        blocks.push(Block::ReprintMark);
    }
    header(receipt, &mut blocks);
    blocks.push(Block::Rule);
    for line in &receipt.lines {
        item(receipt, line, &mut blocks);
    }
    blocks.push(Block::Rule);
    totals(receipt, &mut blocks);
    if !receipt.vat.is_empty() {
        blocks.push(Block::Rule);
        vat(receipt, &mut blocks);
    }
    if !receipt.payments.is_empty() || receipt.change.is_some() {
        blocks.push(Block::Rule);
        for payment in &receipt.payments {
            self::payment(payment, &mut blocks);
        }
        if let Some(change) = &receipt.change {
            blocks.push(Block::amount("Change", money(change), Emphasis::Bold));
            if let Some(rate) = &receipt.change_rate {
                blocks.push(Block::detail(rate.clone()));
            }
        }
    }
    blocks.push(Block::Rule);
    blocks.push(Block::text(
        "Verification code",
        Align::Center,
        Emphasis::Normal,
    ));
    blocks.push(Block::text(
        &receipt.verification_code,
        Align::Center,
        Emphasis::Bold,
    ));
    if receipt.reprint {
        blocks.push(Block::ReprintMark);
    }
    blocks
}

fn header(receipt: &Receipt, blocks: &mut Vec<Block>) {
    blocks.push(Block::text(
        &receipt.shop_name,
        Align::Center,
        Emphasis::Bold,
    ));
    if let Some(location) = &receipt.location {
        blocks.push(Block::text(location, Align::Center, Emphasis::Normal));
    }
    if let Some(tax_number) = &receipt.tax_number {
        blocks.push(Block::text(
            format!("VAT No: {tax_number}"),
            Align::Center,
            Emphasis::Normal,
        ));
    }
    blocks.push(Block::Rule);
    let title = match receipt.kind {
        ReceiptKind::Sale => "TAX INVOICE",
        ReceiptKind::Refund => "REFUND",
    };
    blocks.push(Block::text(title, Align::Center, Emphasis::Large));
    if let Some(refund_of) = &receipt.refund_of {
        blocks.push(Block::text(
            format!("Refund of {refund_of}"),
            Align::Center,
            Emphasis::Bold,
        ));
    }
    if let Some(reason) = &receipt.reason {
        blocks.push(Block::text(
            format!("Reason: {reason}"),
            Align::Left,
            Emphasis::Normal,
        ));
    }
    for (label, value) in [
        ("Receipt", &receipt.receipt_no),
        ("Date", &receipt.date),
        ("Cashier", &receipt.cashier),
    ] {
        blocks.push(Block::text(
            format!("{label}: {value}"),
            Align::Left,
            Emphasis::Normal,
        ));
    }
}

/// An item: its name, then what it came to. When the line was discounted, the first amount
/// is quantity × price before the discount and the discount follows as a negative amount,
/// so the item's amounts add up to what it was charged and the items add up to the
/// subtotal, which is before discounts.
fn item(receipt: &Receipt, line: &ReceiptLine, blocks: &mut Vec<Block>) {
    let units = receipt.minor_units;
    blocks.push(Block::text(&line.name, Align::Left, Emphasis::Normal));
    let before_discount = line.total_minor + line.discount_minor;
    blocks.push(Block::detail_amount(
        format!(
            "{} x {}  {}",
            line.quantity,
            format_amount(line.unit_price_minor, units),
            line.tax_label
        ),
        format_amount(before_discount, units),
    ));
    if line.price_overridden {
        blocks.push(Block::detail("Price changed by hand"));
    }
    if line.discount_minor > 0 {
        blocks.push(Block::detail_amount(
            "Discount",
            format_amount(-line.discount_minor, units),
        ));
    }
}

fn totals(receipt: &Receipt, blocks: &mut Vec<Block>) {
    let units = receipt.minor_units;
    blocks.push(Block::amount(
        "Subtotal",
        format_amount(receipt.subtotal_minor, units),
        Emphasis::Normal,
    ));
    if receipt.discount_minor > 0 {
        blocks.push(Block::amount(
            "Discounts",
            format_amount(-receipt.discount_minor, units),
            Emphasis::Normal,
        ));
    }
    blocks.push(Block::amount(
        format!("TOTAL {}", receipt.currency),
        format_amount(receipt.total_minor, units),
        Emphasis::Large,
    ));
}

fn vat(receipt: &Receipt, blocks: &mut Vec<Block>) {
    vat_table(&receipt.vat, receipt.minor_units, blocks);
    blocks.push(Block::amount(
        "VAT total",
        format_amount(receipt.vat_total_minor, receipt.minor_units),
        Emphasis::Bold,
    ));
}

/// The VAT bands, one row each: rate, net, VAT, gross.
fn vat_table(vat: &[ReceiptVat], units: u32, blocks: &mut Vec<Block>) {
    let rows = vat
        .iter()
        .map(|vat| {
            vec![
                vat.label.clone(),
                format_amount(vat.net_minor, units),
                format_amount(vat.vat_minor, units),
                format_amount(vat.gross_minor, units),
            ]
        })
        .collect();
    blocks.push(Block::Table {
        header: ["Rate", "Net", "VAT", "Gross"].map(String::from).to_vec(),
        rows,
    });
}

fn payment(payment: &ReceiptPayment, blocks: &mut Vec<Block>) {
    blocks.push(Block::amount(
        &payment.method,
        money(&payment.amount),
        Emphasis::Normal,
    ));
    if let Some(rate) = &payment.rate {
        blocks.push(Block::detail(format!("Rate: {rate}")));
    }
    if let Some(reference) = &payment.reference {
        blocks.push(Block::detail(format!("Ref: {reference}")));
    }
}

/// An amount with its currency, for the places where more than one currency can appear.
fn money(amount: &Amount) -> String {
    format!(
        "{} {}",
        amount.currency,
        format_amount(amount.minor, amount.minor_units)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample_receipts::{cash_sale, refund, sale_paid_in_two_currencies};

    fn texts(blocks: &[Block]) -> Vec<String> {
        blocks
            .iter()
            .map(|block| match block {
                Block::Text { text, .. } => text.clone(),
                Block::Amount { label, amount, .. } => format!("{label} | {amount}"),
                Block::Table { rows, .. } => format!("table of {}", rows.len()),
                Block::Rule => "---".to_owned(),
                Block::ReprintMark => REPRINT_MARK.to_owned(),
            })
            .collect()
    }

    fn position(texts: &[String], wanted: &str) -> usize {
        texts
            .iter()
            .position(|text| text == wanted)
            .unwrap_or_else(|| panic!("{wanted:?} is not on the receipt: {texts:#?}"))
    }

    #[test]
    fn a_sale_reads_top_to_bottom_from_the_shop_to_the_verification_code() {
        let texts = texts(&lay_out(&cash_sale()));
        let order = [
            "Corner Shop",
            "Harare CBD",
            "VAT No: 10012345",
            "TAX INVOICE",
            "Receipt: 7F3A09C2-000123",
            "Date: 2026-11-27 14:03",
            "Cashier: Tendai",
            "Bread 700g",
            "2 x 1.20  15% | 2.40",
            "Subtotal | 7.39",
            "TOTAL USD | 7.39",
            "table of 2",
            "VAT total | 0.57",
            "Cash | USD 10.00",
            "Change | USD 2.61",
            "Verification code",
            "A1B2-C3D4-E5F6-0789",
        ];
        let positions: Vec<usize> = order.iter().map(|text| position(&texts, text)).collect();
        assert!(
            positions.windows(2).all(|pair| pair[0] < pair[1]),
            "out of order: {texts:#?}"
        );
        assert!(!texts.iter().any(|text| text.contains("REPRINT")));
        assert!(!texts.iter().any(|text| text.contains("Refund")));
    }

    #[test]
    fn a_receipt_without_discounts_has_no_discount_line() {
        let texts = texts(&lay_out(&cash_sale()));
        assert!(
            !texts.iter().any(|text| text.contains("Discount")),
            "{texts:#?}"
        );
    }

    #[test]
    fn a_discounted_line_shows_its_price_before_the_discount_and_the_discount() {
        let mut receipt = cash_sale();
        receipt.lines[0].discount_minor = 40;
        receipt.lines[0].total_minor = 200;
        receipt.discount_minor = 40;
        let texts = texts(&lay_out(&receipt));
        let item = position(&texts, "2 x 1.20  15% | 2.40");
        assert_eq!(texts[item + 1], "Discount | -0.40");
        assert!(texts.contains(&"Discounts | -0.40".to_owned()));
    }

    #[test]
    fn a_price_changed_by_hand_is_marked_on_its_line() {
        let mut receipt = cash_sale();
        receipt.lines[1].price_overridden = true;
        let texts = texts(&lay_out(&receipt));
        let item = position(&texts, &receipt.lines[1].name);
        assert_eq!(texts[item + 2], "Price changed by hand");
        assert_eq!(
            texts
                .iter()
                .filter(|t| *t == "Price changed by hand")
                .count(),
            1
        );
    }

    #[test]
    fn a_refund_says_what_it_refunds_and_why() {
        let texts = texts(&lay_out(&refund()));
        assert!(!texts.contains(&"TAX INVOICE".to_owned()));
        let title = position(&texts, "REFUND");
        assert_eq!(texts[title + 1], "Refund of 7F3A09C2-000123");
        assert_eq!(texts[title + 2], "Reason: Damaged packaging");
        position(&texts, "TOTAL USD | -2.40");
    }

    #[test]
    fn a_reprint_is_marked_at_its_top_and_its_bottom() {
        let mut receipt = cash_sale();
        receipt.reprint = true;
        let texts = texts(&lay_out(&receipt));
        assert_eq!(texts.first().map(String::as_str), Some(REPRINT_MARK));
        assert_eq!(texts.last().map(String::as_str), Some(REPRINT_MARK));
    }

    #[test]
    fn each_tender_shows_its_own_currency_and_rate_and_change_its_own() {
        let texts = texts(&lay_out(&sale_paid_in_two_currencies()));
        let usd = position(&texts, "Cash | USD 5.00");
        assert_eq!(texts[usd + 1], "Rate: 1 USD = 26.80 ZWG");
        let card = position(&texts, "Card | ZWG 50.00");
        assert_eq!(texts[card + 1], "Ref: AUTH 448812");
        let change = position(&texts, "Change | ZWG 4.00");
        assert!(usd < card && card < change);
        position(&texts, "TOTAL ZWG | 180.00");
    }

    #[test]
    fn amounts_keep_their_currency_decimals() {
        let mut receipt = cash_sale();
        receipt.payments[0].amount = Amount {
            currency: "UGX".to_owned(),
            minor_units: 0,
            minor: 36_000,
        };
        let texts = texts(&lay_out(&receipt));
        position(&texts, "Cash | UGX 36000");
    }
}
