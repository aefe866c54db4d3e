//! What a till-session report says and in what order, in the same [`Block`]s as a receipt,
//! so the X or Z report on paper and on screen cannot disagree either.
//!
//! An X report is read in the middle of a session: it shows what the drawer should hold and
//! never anything counted, even when the model carries a count. A Z report closes the
//! session and adds, for each tender, what was counted and whether the till was over or
//! short.

use tillpoint_protocol::money::format_amount;

use super::{Align, Block, Emphasis};
use crate::report::{CashierReport, CurrencyReport, ReportKind, SessionReport, TenderLine};

/// What the counted and over/short columns of a Z report say for a tender nobody counted.
const NOT_COUNTED: &str = "—";

/// The title a report opens with.
fn title(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::X => "X REPORT",
        ReportKind::Z => "Z REPORT — till closed",
    }
}

/// Everything the report says, top to bottom.
pub(crate) fn lay_out_report(report: &SessionReport) -> Vec<Block> {
    let mut blocks = Vec::new();
    header(report, &mut blocks);
    for currency in &report.currencies {
        blocks.push(Block::Rule);
        currency_section(report.kind, currency, &mut blocks);
    }
    if !report.cashiers.is_empty() {
        blocks.push(Block::Rule);
        blocks.push(Block::text("Sales by cashier", Align::Left, Emphasis::Bold));
        for cashier in &report.cashiers {
            self::cashier(cashier, &mut blocks);
        }
    }
    blocks.push(Block::Rule);
    blocks.push(Block::text(
        format!("Printed: {}", report.printed_at),
        Align::Center,
        Emphasis::Normal,
    ));
    let end = match report.kind {
        ReportKind::X => "End of X report",
        ReportKind::Z => "End of Z report",
    };
    blocks.push(Block::text(end, Align::Center, Emphasis::Bold));
    blocks
}

fn header(report: &SessionReport, blocks: &mut Vec<Block>) {
    if let Some(shop_name) = &report.shop_name {
        blocks.push(Block::text(shop_name, Align::Center, Emphasis::Bold));
        blocks.push(Block::Rule);
    }
    blocks.push(Block::text(
        title(report.kind),
        Align::Center,
        Emphasis::Large,
    ));
    // The time on the right and the person under it: `Opened by <name> <time>` would not
    // fit 32 columns with a name of any length.
    blocks.push(Block::amount("Opened", &report.opened_at, Emphasis::Normal));
    blocks.push(Block::detail(format!("by {}", report.opened_by_name)));
    if report.kind == ReportKind::Z {
        blocks.push(match &report.closed_at {
            Some(closed_at) => Block::amount("Closed", closed_at, Emphasis::Normal),
            None => Block::text("Closed", Align::Left, Emphasis::Normal),
        });
        if let Some(closed_by) = &report.closed_by_name {
            blocks.push(Block::detail(format!("by {closed_by}")));
        }
    }
    blocks.push(Block::Rule);
    blocks.push(Block::amount(
        "Number of sales",
        report.sales_count.to_string(),
        Emphasis::Normal,
    ));
    blocks.push(Block::amount(
        "Number of refunds",
        report.refunds_count.to_string(),
        Emphasis::Normal,
    ));
}

/// One currency: its takings, its VAT, then what the drawer should hold of it (and, on a Z
/// report, what was counted). Every amount in the section is in its currency, named once
/// in its heading and again on its net line.
fn currency_section(kind: ReportKind, currency: &CurrencyReport, blocks: &mut Vec<Block>) {
    let units = currency.minor_units;
    let code = &currency.currency;
    blocks.push(Block::text(code, Align::Center, Emphasis::Large));
    blocks.push(Block::amount(
        "Opening float",
        format_amount(currency.float_minor, units),
        Emphasis::Normal,
    ));
    blocks.push(Block::amount(
        "Sales",
        format_amount(currency.sales_minor, units),
        Emphasis::Normal,
    ));
    blocks.push(Block::amount(
        "Refunds",
        format_amount(-currency.refunds_minor, units),
        Emphasis::Normal,
    ));
    // The sales above are after discounts: shown for information, indented so they are not
    // read as one more thing to subtract.
    blocks.push(Block::detail_amount(
        "Discounts (in sales)",
        format_amount(currency.discounts_minor, units),
    ));
    blocks.push(Block::amount(
        format!("NET {code}"),
        format_amount(currency.net_minor, units),
        Emphasis::Bold,
    ));
    if !currency.vat.is_empty() {
        super::vat_table(&currency.vat, units, blocks);
        let vat_total: i64 = currency.vat.iter().map(|vat| vat.vat_minor).sum();
        blocks.push(Block::amount(
            "VAT total",
            format_amount(vat_total, units),
            Emphasis::Bold,
        ));
    }
    if !currency.tenders.is_empty() {
        tenders(kind, currency, blocks);
    }
}

/// A row per tender: what should be in the drawer and, on a Z report only, what was counted
/// and the difference.
fn tenders(kind: ReportKind, currency: &CurrencyReport, blocks: &mut Vec<Block>) {
    let units = currency.minor_units;
    let counted = kind == ReportKind::Z;
    let (heading, header): (_, &[&str]) = if counted {
        ("Cash-up", &["Tender", "Expected", "Counted", "Over/short"])
    } else {
        ("Expected in drawer", &["Tender", "Expected"])
    };
    blocks.push(Block::text(
        format!("{heading} ({})", currency.currency),
        Align::Left,
        Emphasis::Bold,
    ));
    let rows = currency
        .tenders
        .iter()
        .map(|tender| {
            let mut row = vec![
                tender.method.label().to_owned(),
                format_amount(tender.expected_minor, units),
            ];
            if counted {
                row.push(tender.counted_minor.map_or_else(
                    || NOT_COUNTED.to_owned(),
                    |counted| format_amount(counted, units),
                ));
                row.push(over_short(tender, units));
            }
            row
        })
        .collect();
    blocks.push(Block::Table {
        header: header.iter().map(|cell| (*cell).to_owned()).collect(),
        rows,
    });
}

/// `OVER +1.50` when more was counted than expected, `SHORT -2.00` when less, `0.00` when
/// the count was right, [`NOT_COUNTED`] when the tender was not counted.
fn over_short(tender: &TenderLine, units: u32) -> String {
    let Some(counted) = tender.counted_minor else {
        return NOT_COUNTED.to_owned();
    };
    let difference = tender
        .over_short_minor
        .unwrap_or(counted - tender.expected_minor);
    match difference.signum() {
        1 => format!("OVER +{}", format_amount(difference, units)),
        -1 => format!("SHORT {}", format_amount(difference, units)),
        _ => format_amount(0, units),
    }
}

fn cashier(cashier: &CashierReport, blocks: &mut Vec<Block>) {
    let sales = match cashier.sales_count {
        1 => "1 sale".to_owned(),
        n => format!("{n} sales"),
    };
    blocks.push(Block::amount(&cashier.name, sales, Emphasis::Normal));
    for total in &cashier.totals {
        blocks.push(Block::detail_amount(
            format!("Net {}", total.currency),
            format_amount(total.amount_minor, total.minor_units),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample_reports::{x_report, z_report};

    /// One string per block; a table gives one per row, its cells joined by ` | `.
    fn texts(blocks: &[Block]) -> Vec<String> {
        let mut texts = Vec::new();
        for block in blocks {
            match block {
                Block::Text { text, .. } => texts.push(text.clone()),
                Block::Amount { label, amount, .. } => texts.push(format!("{label} | {amount}")),
                Block::Table { header, rows } => texts.extend(
                    std::iter::once(header)
                        .chain(rows)
                        .map(|row| row.join(" | ")),
                ),
                Block::Rule => texts.push("---".to_owned()),
                Block::ReprintMark => texts.push("reprint".to_owned()),
            }
        }
        texts
    }

    #[test]
    fn a_z_report_reads_from_the_session_through_each_currency_to_the_cashiers() {
        let texts = texts(&lay_out_report(&z_report()));
        let expected = [
            "Corner Shop",
            "---",
            "Z REPORT — till closed",
            "Opened | 2026-11-27 07:58",
            "by Tendai",
            "Closed | 2026-11-27 18:04",
            "by Rudo",
            "---",
            "Number of sales | 42",
            "Number of refunds | 1",
            "---",
            "USD",
            "Opening float | 50.00",
            "Sales | 123.45",
            "Refunds | -2.40",
            "Discounts (in sales) | 1.50",
            "NET USD | 121.05",
            "Rate | Net | VAT | Gross",
            "15% | 79.17 | 11.88 | 91.05",
            "0% | 30.00 | 0.00 | 30.00",
            "VAT total | 11.88",
            "Cash-up (USD)",
            "Tender | Expected | Counted | Over/short",
            "Cash | 131.05 | 129.55 | SHORT -1.50",
            "Card | 40.00 | — | —",
            "---",
            "ZWG",
            "Opening float | 0.00",
            "Sales | 2680.00",
            "Refunds | 0.00",
            "Discounts (in sales) | 0.00",
            "NET ZWG | 2680.00",
            "Rate | Net | VAT | Gross",
            "15% | 2330.43 | 349.57 | 2680.00",
            "VAT total | 349.57",
            "Cash-up (ZWG)",
            "Tender | Expected | Counted | Over/short",
            "Cash | 2000.00 | 2005.00 | OVER +5.00",
            "Mobile money | 680.00 | 680.00 | 0.00",
            "---",
            "Sales by cashier",
            "Tendai | 30 sales",
            "Net USD | 81.05",
            "Net ZWG | 2680.00",
            "Rudo | 12 sales",
            "Net USD | 40.00",
            "---",
            "Printed: 2026-11-27 18:05",
            "End of Z report",
        ];
        assert_eq!(texts, expected);
    }

    #[test]
    fn an_x_report_shows_what_is_expected_and_nothing_counted_even_if_a_count_is_known() {
        let mut report = x_report();
        // A count in the model (a half-finished cash-up, say) must still not show on an X.
        report.currencies[0].tenders[0].counted_minor = Some(12_955);
        report.currencies[0].tenders[0].over_short_minor = Some(-150);
        let texts = texts(&lay_out_report(&report));
        assert_eq!(texts[2], "X REPORT");
        let expected = texts
            .iter()
            .position(|text| text == "Expected in drawer (USD)")
            .unwrap();
        assert_eq!(texts[expected + 1], "Tender | Expected");
        assert_eq!(texts[expected + 2], "Cash | 131.05");
        assert_eq!(texts[expected + 3], "Card | 40.00");
        assert_eq!(texts.last().map(String::as_str), Some("End of X report"));
        for text in &texts {
            for word in [
                "Counted", "Over", "OVER", "SHORT", "short", "Closed", "Cash-up", "129.55",
            ] {
                assert!(!text.contains(word), "{word:?} in {text:?}");
            }
        }
    }

    #[test]
    fn over_and_short_keep_the_currency_decimals_and_the_difference_is_derived_if_missing() {
        let tender = TenderLine {
            method: tillpoint_protocol::sales::TenderMethod::Cash,
            expected_minor: 36_000,
            counted_minor: Some(35_500),
            over_short_minor: None,
        };
        assert_eq!(over_short(&tender, 0), "SHORT -500");
        let over = TenderLine {
            counted_minor: Some(36_001),
            over_short_minor: Some(1),
            ..tender.clone()
        };
        assert_eq!(over_short(&over, 3), "OVER +0.001");
        let uncounted = TenderLine {
            counted_minor: None,
            over_short_minor: None,
            ..tender
        };
        assert_eq!(over_short(&uncounted, 2), "—");
    }

    #[test]
    fn a_report_without_a_shop_name_or_sales_starts_with_its_title() {
        let mut report = x_report();
        report.shop_name = None;
        report.currencies.clear();
        report.cashiers.clear();
        let texts = texts(&lay_out_report(&report));
        assert_eq!(texts[0], "X REPORT");
        assert!(!texts.contains(&"Sales by cashier".to_owned()));
        assert!(texts.contains(&"Number of sales | 42".to_owned()));
    }
}
