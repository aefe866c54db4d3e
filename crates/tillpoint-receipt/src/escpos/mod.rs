//! A receipt or a till-session report as ESC/POS bytes for a thermal roll printer, 58 or 80 mm wide.
//!
//! Only the commands nearly every ESC/POS printer (Epson and its many clones) understands are
//! sent: initialise, Font A, alignment, bold, character size, line feed, partial cut and the
//! cash-drawer pulse. Text is printable ASCII only (accents dropped, anything else `?`), so the printer's code page
//! never matters. [`decode`] reads the bytes back for tests.

mod ascii;
mod columns;
pub mod decode;

use crate::layout::{lay_out, lay_out_report, Align, Block};
use crate::model::Receipt;
use crate::report::SessionReport;

use columns::{fit, FittedLine, Size};

/// Paper width; the number of Font A columns is what matters to the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperWidth {
    /// 58 mm roll: 32 columns.
    Mm58,
    /// 80 mm roll: 48 columns.
    Mm80,
}

impl PaperWidth {
    /// Characters per line in Font A at normal width.
    pub const fn columns(self) -> usize {
        match self {
            Self::Mm58 => 32,
            Self::Mm80 => 48,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscPosOptions {
    pub width: PaperWidth,
    /// Open the cash drawer wired to the printer: asked for on a cash sale, never on a
    /// reprint or a card-only sale.
    pub kick_drawer: bool,
}

const INIT: &[u8] = b"\x1b@";
const FONT_A: &[u8] = b"\x1bM\x00";
/// Pin 2 of the drawer port, 50 ms on and 500 ms off: the pulse most drawers expect.
const DRAWER_KICK: &[u8] = b"\x1bp\x00\x19\xfa";
/// Feed to the cutter, then cut leaving a tab so the receipt does not fall.
const PARTIAL_CUT: &[u8] = b"\x1dVB\x00";

/// The bytes that print `receipt`, ending with the cut.
pub fn render(receipt: &Receipt, options: &EscPosOptions) -> Vec<u8> {
    print(&lay_out(receipt), options.width, options.kick_drawer)
}

/// The bytes that print an X or Z report, ending with the cut. A report never opens the
/// drawer, whatever `options.kick_drawer` says: only a cash sale does.
pub fn render_report(report: &SessionReport, options: &EscPosOptions) -> Vec<u8> {
    print(&lay_out_report(report), options.width, false)
}

fn print(blocks: &[Block], width: PaperWidth, kick_drawer: bool) -> Vec<u8> {
    let lines = fit(blocks, width.columns());
    let mut bytes = Vec::with_capacity(lines.iter().map(|line| line.text.len() + 8).sum());
    bytes.extend_from_slice(INIT);
    bytes.extend_from_slice(FONT_A);
    // Before the text, so the drawer opens while the receipt prints.
    if kick_drawer {
        bytes.extend_from_slice(DRAWER_KICK);
    }
    let mut printer = StyleTracker::default();
    for line in &lines {
        printer.switch_to(line, &mut bytes);
        bytes.extend_from_slice(line.text.as_bytes());
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(PARTIAL_CUT);
    bytes
}

/// The style the printer is in, so a command is sent only when a line needs another.
struct StyleTracker {
    align: Align,
    bold: bool,
    size: Size,
}

impl Default for StyleTracker {
    /// What `ESC @` leaves the printer in.
    fn default() -> Self {
        Self {
            align: Align::Left,
            bold: false,
            size: Size::Normal,
        }
    }
}

impl StyleTracker {
    fn switch_to(&mut self, line: &FittedLine, bytes: &mut Vec<u8>) {
        if line.align != self.align {
            let n = match line.align {
                Align::Left => 0,
                Align::Center => 1,
            };
            bytes.extend_from_slice(&[0x1B, b'a', n]);
            self.align = line.align;
        }
        if line.bold != self.bold {
            bytes.extend_from_slice(&[0x1B, b'E', u8::from(line.bold)]);
            self.bold = line.bold;
        }
        if line.size != self.size {
            let n = match line.size {
                Size::Normal => 0x00,
                Size::Tall => 0x01,
                Size::Double => 0x11,
            };
            bytes.extend_from_slice(&[0x1D, b'!', n]);
            self.size = line.size;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decode::{decode, Alignment, Printed, PrintedLine};
    use super::*;
    use crate::sample_receipts::{cash_sale, refund, sale_paid_in_two_currencies};
    use crate::sample_reports::{x_report, z_report};

    const BOTH_WIDTHS: [PaperWidth; 2] = [PaperWidth::Mm58, PaperWidth::Mm80];

    fn print(receipt: &Receipt, width: PaperWidth) -> Vec<Printed> {
        let options = EscPosOptions {
            width,
            kick_drawer: false,
        };
        let bytes = render(receipt, &options);
        decode(&bytes).unwrap_or_else(|error| panic!("{error}"))
    }

    fn lines(printed: &[Printed]) -> Vec<&PrintedLine> {
        printed
            .iter()
            .filter_map(|printed| match printed {
                Printed::Line(line) => Some(line),
                _ => None,
            })
            .collect()
    }

    /// The paper as a plain-text dump, for assertion messages.
    fn paper(printed: &[Printed]) -> String {
        lines(printed)
            .iter()
            .map(|line| format!("{line}\n"))
            .collect()
    }

    fn find<'a>(printed: &'a [Printed], starting: &str) -> &'a PrintedLine {
        lines(printed)
            .into_iter()
            .find(|line| line.text.trim_start().starts_with(starting))
            .unwrap_or_else(|| panic!("no line starts {starting:?} in\n{}", paper(printed)))
    }

    fn assert_fits(printed: &[Printed], width: PaperWidth) {
        for line in lines(printed) {
            assert!(
                line.columns() <= width.columns(),
                "{:?} takes {} columns of {}",
                line.text,
                line.columns(),
                width.columns()
            );
        }
    }

    #[test]
    fn every_line_fits_the_paper_and_the_cut_comes_last() {
        for receipt in [cash_sale(), refund(), sale_paid_in_two_currencies()] {
            for width in BOTH_WIDTHS {
                let printed = print(&receipt, width);
                assert_fits(&printed, width);
                assert_eq!(printed.first(), Some(&Printed::Init));
                assert_eq!(printed.last(), Some(&Printed::Cut { partial: true }));
                let cuts = printed.iter().filter(|p| matches!(p, Printed::Cut { .. }));
                assert_eq!(cuts.count(), 1);
            }
        }
    }

    #[test]
    fn amounts_sit_at_the_right_edge_of_either_paper() {
        for width in BOTH_WIDTHS {
            let printed = print(&cash_sale(), width);
            let subtotal = find(&printed, "Subtotal");
            assert_eq!(subtotal.text.len(), width.columns());
            assert!(subtotal.text.ends_with(" 7.39"));
            let change = find(&printed, "Change");
            assert_eq!(change.text.len(), width.columns());
            assert!(change.text.ends_with(" USD 2.61"), "{:?}", change.text);
            assert!(change.bold);
        }
    }

    #[test]
    fn the_title_and_the_total_are_printed_large() {
        for width in BOTH_WIDTHS {
            let printed = print(&cash_sale(), width);
            let title = find(&printed, "TAX INVOICE");
            assert_eq!((title.width_scale, title.height_scale), (2, 2));
            assert_eq!(title.align, Alignment::Center);
            let total = find(&printed, "TOTAL USD");
            assert_eq!(
                total.text,
                format!("{:<w$}7.39", "TOTAL USD", w = width.columns() / 2 - 4)
            );
            assert!(total.bold && total.height_scale == 2);
        }
    }

    #[test]
    fn the_vat_breakdown_lines_up_under_its_header() {
        let printed = print(&cash_sale(), PaperWidth::Mm58);
        assert_eq!(
            find(&printed, "Rate").text,
            "Rate              Net  VAT Gross"
        );
        assert_eq!(
            find(&printed, "15%").text,
            "15%              3.82 0.57  4.39"
        );
        assert_eq!(
            find(&printed, "0%").text,
            "0%               3.00 0.00  3.00"
        );
        assert!(find(&printed, "VAT total").text.ends_with(" 0.57"));
    }

    #[test]
    fn the_verification_code_is_printed_whole_and_centred() {
        let printed = print(&cash_sale(), PaperWidth::Mm58);
        let code = find(&printed, "A1B2");
        assert_eq!(code.text, "A1B2-C3D4-E5F6-0789");
        assert_eq!(code.align, Alignment::Center);
    }

    #[test]
    fn a_reprint_says_so_first_and_last() {
        let mut receipt = cash_sale();
        receipt.reprint = true;
        for width in BOTH_WIDTHS {
            let printed = print(&receipt, width);
            let lines = lines(&printed);
            for line in [lines[0], lines[lines.len() - 1]] {
                assert_eq!(line.text, "REPRINT - COPY");
                assert!(line.bold && line.width_scale == 2);
            }
        }
        let original = print(&cash_sale(), PaperWidth::Mm80);
        assert!(!paper(&original).contains("REPRINT"));
    }

    #[test]
    fn the_drawer_opens_only_when_asked() {
        let receipt = cash_sale();
        for kick_drawer in [false, true] {
            let options = EscPosOptions {
                width: PaperWidth::Mm80,
                kick_drawer,
            };
            let bytes = render(&receipt, &options);
            let printed = decode(&bytes).unwrap();
            let kicks: Vec<&Printed> = printed
                .iter()
                .filter(|p| matches!(p, Printed::DrawerKick { .. }))
                .collect();
            if kick_drawer {
                let pulse = Printed::DrawerKick {
                    pin: 0,
                    on_time: 25,
                    off_time: 250,
                };
                assert_eq!(kicks, [&pulse]);
                assert!(bytes
                    .windows(5)
                    .any(|w| w == [0x1B, 0x70, 0x00, 0x19, 0xFA]));
            } else {
                assert!(kicks.is_empty());
            }
        }
    }

    #[test]
    fn names_in_any_language_print_as_plain_ascii() {
        let mut receipt = cash_sale();
        receipt.shop_name = "Café Zoë".to_owned();
        receipt.lines[0].name = "Crème brûlée — “home made” 茶".to_owned();
        receipt.cashier = "Jürgen".to_owned();
        let bytes = render(
            &receipt,
            &EscPosOptions {
                width: PaperWidth::Mm58,
                kick_drawer: true,
            },
        );
        let printed = decode(&bytes).unwrap();
        let text = paper(&printed);
        assert!(text.contains("Cafe Zoe"), "{text}");
        assert!(text.contains("Creme brulee - \"home made\" ?"), "{text}");
        assert!(text.contains("Cashier: Jurgen"), "{text}");
        for line in lines(&printed) {
            assert!(line.text.bytes().all(|byte| (0x20..0x80).contains(&byte)));
        }
    }

    #[test]
    fn a_300_character_name_wraps_without_losing_a_character() {
        let words = [
            "Extra",
            "long",
            "imported",
            "artisanal",
            "sourdough",
            "loaf,",
            "sliced",
        ];
        let name: String = words
            .iter()
            .cycle()
            .take(60)
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(300)
            .collect();
        assert_eq!(name.len(), 300);
        let unbroken = format!("{}{}", "X".repeat(60), &name[60..]);
        for name in [name, unbroken] {
            let mut receipt = cash_sale();
            receipt.lines[0].name = name.clone();
            for width in BOTH_WIDTHS {
                let printed = print(&receipt, width);
                assert_fits(&printed, width);
                let lines = lines(&printed);
                let first = lines
                    .iter()
                    .position(|l| name.starts_with(&l.text))
                    .unwrap();
                let end = lines
                    .iter()
                    .position(|l| l.text.starts_with("  2 x 1.20"))
                    .unwrap();
                let wrapped: String = lines[first..end].iter().map(|l| l.text.as_str()).collect();
                assert!(end - first > 1);
                assert_eq!(wrapped.replace(' ', ""), name.replace(' ', ""));
            }
        }
    }

    #[test]
    fn a_refund_prints_its_title_and_what_it_refunds() {
        let printed = print(&refund(), PaperWidth::Mm58);
        let text = paper(&printed);
        assert!(!text.contains("TAX INVOICE"));
        assert_eq!(find(&printed, "REFUND").width_scale, 2);
        assert_eq!(
            find(&printed, "Refund of").text,
            "Refund of 7F3A09C2-000123"
        );
        assert_eq!(find(&printed, "Reason").text, "Reason: Damaged packaging");
        assert!(find(&printed, "TOTAL USD").text.ends_with(" -2.40"));
    }

    #[test]
    fn tenders_in_two_currencies_keep_their_own_and_change_its_own() {
        for width in BOTH_WIDTHS {
            let printed = print(&sale_paid_in_two_currencies(), width);
            assert!(find(&printed, "Cash ").text.ends_with(" USD 5.00"));
            assert_eq!(find(&printed, "Rate:").text, "  Rate: 1 USD = 26.80 ZWG");
            assert!(find(&printed, "Card").text.ends_with(" ZWG 50.00"));
            assert_eq!(find(&printed, "Ref:").text, "  Ref: AUTH 448812");
            assert!(find(&printed, "Change").text.ends_with(" ZWG 4.00"));
            let total = find(&printed, "TOTAL ZWG");
            assert!(total.text.ends_with(" 180.00"));
            assert_fits(&printed, width);
        }
    }

    #[test]
    fn an_amount_too_long_for_half_the_paper_is_still_printed_whole() {
        let mut receipt = cash_sale();
        receipt.total_minor = 9_876_543_210_987;
        receipt.currency = "ZWG".to_owned();
        let printed = print(&receipt, PaperWidth::Mm58);
        let total = find(&printed, "TOTAL ZWG");
        assert!(total.text.ends_with(" 98765432109.87"), "{:?}", total.text);
        assert_eq!((total.width_scale, total.height_scale), (1, 2));
        assert_fits(&printed, PaperWidth::Mm58);
    }

    fn print_report(report: &SessionReport, width: PaperWidth) -> Vec<Printed> {
        let options = EscPosOptions {
            width,
            kick_drawer: true,
        };
        decode(&render_report(report, &options)).unwrap_or_else(|error| panic!("{error}"))
    }

    /// The lines from the first one starting `from` up to (not including) the next rule.
    fn section<'a>(printed: &'a [Printed], from: &str) -> Vec<&'a str> {
        let lines = lines(printed);
        let start = lines
            .iter()
            .position(|line| line.text.starts_with(from))
            .unwrap_or_else(|| panic!("no line starts {from:?} in\n{}", paper(printed)));
        lines[start..]
            .iter()
            .map(|line| line.text.as_str())
            .take_while(|text| !text.starts_with("----"))
            .collect()
    }

    #[test]
    fn reports_fit_either_paper_end_with_the_cut_and_never_open_the_drawer() {
        for report in [x_report(), z_report()] {
            for width in BOTH_WIDTHS {
                let printed = print_report(&report, width);
                assert_fits(&printed, width);
                assert_eq!(printed.first(), Some(&Printed::Init));
                assert_eq!(printed.last(), Some(&Printed::Cut { partial: true }));
                let cuts = printed.iter().filter(|p| matches!(p, Printed::Cut { .. }));
                assert_eq!(cuts.count(), 1);
                assert!(
                    !printed
                        .iter()
                        .any(|p| matches!(p, Printed::DrawerKick { .. })),
                    "a report opened the drawer"
                );
            }
        }
    }

    #[test]
    fn a_z_report_on_80_mm_shows_the_cash_up_in_columns_with_over_and_short_signed() {
        let printed = print_report(&z_report(), PaperWidth::Mm80);
        let title = find(&printed, "Z REPORT");
        assert_eq!(title.text, "Z REPORT - till closed");
        assert_eq!((title.width_scale, title.height_scale), (2, 2));
        assert_eq!(
            section(&printed, "Cash-up (USD)"),
            [
                "Cash-up (USD)",
                "Tender              Expected Counted  Over/short",
                "Cash                  131.05  129.55 SHORT -1.50",
                "Card                   40.00       -           -",
            ]
        );
        assert_eq!(
            section(&printed, "Cash-up (ZWG)"),
            [
                "Cash-up (ZWG)",
                "Tender               Expected Counted Over/short",
                "Cash                  2000.00 2005.00 OVER +5.00",
                "Mobile money           680.00  680.00       0.00",
            ]
        );
    }

    #[test]
    fn a_z_report_on_58_mm_gives_each_tender_its_own_lines_with_the_amounts_whole() {
        let printed = print_report(&z_report(), PaperWidth::Mm58);
        assert_eq!(
            section(&printed, "Cash-up (USD)"),
            [
                "Cash-up (USD)",
                "Cash",
                "  Expected                131.05",
                "  Counted                 129.55",
                "  Over/short         SHORT -1.50",
                "Card",
                "  Expected                 40.00",
                "  Counted                      -",
                "  Over/short                   -",
            ]
        );
        let zwg = section(&printed, "Cash-up (ZWG)");
        assert!(
            zwg.contains(&"  Over/short          OVER +5.00"),
            "{zwg:#?}"
        );
        assert!(
            zwg.contains(&"  Over/short                0.00"),
            "{zwg:#?}"
        );
    }

    #[test]
    fn each_currency_has_its_own_section_with_its_own_net_and_vat() {
        for width in BOTH_WIDTHS {
            let printed = print_report(&z_report(), width);
            let w = width.columns();
            let usd = section(&printed, "USD");
            assert_eq!(usd[1], format!("{:<w2$}50.00", "Opening float", w2 = w - 5));
            assert!(usd.contains(&format!("{:<w2$}-2.40", "Refunds", w2 = w - 5).as_str()));
            assert!(usd.contains(&format!("{:<w2$}121.05", "NET USD", w2 = w - 6).as_str()));
            assert!(usd
                .iter()
                .any(|line| line.starts_with("VAT total") && line.ends_with(" 11.88")));
            let zwg = section(&printed, "ZWG");
            assert!(zwg.contains(&format!("{:<w2$}2680.00", "NET ZWG", w2 = w - 7).as_str()));
            assert!(zwg
                .iter()
                .any(|line| line.starts_with("VAT total") && line.ends_with(" 349.57")));
            assert!(!zwg.iter().any(|line| line.contains("121.05")));
            let heading = find(&printed, "ZWG");
            assert_eq!((heading.align, heading.width_scale), (Alignment::Center, 2));
        }
    }

    #[test]
    fn sales_by_cashier_come_last_with_each_cashiers_count_and_currencies() {
        let printed = print_report(&z_report(), PaperWidth::Mm58);
        assert_eq!(
            section(&printed, "Sales by cashier"),
            [
                "Sales by cashier",
                "Tendai                  30 sales",
                "  Net USD                  81.05",
                "  Net ZWG                2680.00",
                "Rudo                    12 sales",
                "  Net USD                  40.00",
            ]
        );
        assert_eq!(
            section(&printed, "Printed"),
            ["Printed: 2026-11-27 18:05", "End of Z report"]
        );
    }

    #[test]
    fn an_x_report_prints_what_is_expected_and_nothing_about_counted_cash() {
        for width in BOTH_WIDTHS {
            let printed = print_report(&x_report(), width);
            assert_eq!(find(&printed, "X REPORT").width_scale, 2);
            let text = paper(&printed);
            for word in [
                "Counted", "Over", "OVER", "SHORT", "Cash-up", "Closed", "Z REPORT",
            ] {
                assert!(!text.contains(word), "{word:?} in\n{text}");
            }
            let expected = section(&printed, "Expected in drawer (USD)");
            assert_eq!(expected.len(), 4, "{expected:#?}");
            assert!(expected[2].starts_with("Cash") && expected[2].ends_with(" 131.05"));
        }
    }

    #[test]
    #[ignore = "prints the sample reports, for a human to look at"]
    fn show_reports() {
        for report in [x_report(), z_report()] {
            for width in BOTH_WIDTHS {
                println!("{}", paper(&print_report(&report, width)));
            }
        }
    }
}
