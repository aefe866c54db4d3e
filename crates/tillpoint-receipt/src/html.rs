//! A receipt or a till-session report as one self-contained HTML document, for the screen and
//! for printing on A4 or a roll from the system print dialog.
//!
//! The app shows it in a sandboxed iframe under a strict Content Security Policy, so the
//! document has no scripts, loads nothing, and is styled by one `<style>` element and class
//! names only (no `style` attributes, which `style-src` without `'unsafe-inline'` would drop).
//! Every text from the receipt is escaped: product names are typed by whoever edits the
//! catalogue and must never become markup.
//!
//! The receipt is a column at most 80 mm wide, centred: on A4 it prints as a receipt in the
//! middle of the page, on a 58 or 80 mm roll it fills the paper. A report is the same column
//! widened to 140 mm, which fits an A4 page inside its margins; its tables are not split
//! across pages.

use std::fmt::Write;

use crate::layout::{lay_out, lay_out_report, Align, Block, Emphasis, REPRINT_MARK};
use crate::model::{Receipt, ReceiptKind};
use crate::report::{ReportKind, SessionReport};

const STYLE: &str = "\
*{box-sizing:border-box}
html{background:#f3f3f1}
body{margin:0;padding:16px 8px;color:#111;\
font:13px/1.35 ui-monospace,'SF Mono',Menlo,Consolas,'DejaVu Sans Mono','Liberation Mono',monospace}
.receipt{width:100%;max-width:80mm;margin:0 auto;padding:6mm 4mm;background:#fff;\
box-shadow:0 1px 4px rgba(0,0,0,.15)}
.report{max-width:140mm}
p{margin:0;overflow-wrap:anywhere}
.center{text-align:center}
.bold{font-weight:700}
.large{font-weight:700;font-size:1.45em;line-height:1.2;margin:.15em 0}
.indented{padding-left:2ch}
.amount{display:flex;justify-content:space-between;gap:1ch}
.amount>span:first-child{overflow-wrap:anywhere}
.amount>span:last-child,.figures td+td,.figures th+th{text-align:right;white-space:nowrap;\
font-variant-numeric:tabular-nums}
hr{border:0;border-top:1px dashed #777;margin:.5em 0}
table.figures{width:100%;border-collapse:collapse;break-inside:avoid}
.figures th{font-weight:700;text-align:left}
.figures th,.figures td{padding:0;vertical-align:top}
.figures th+th,.figures td+td{padding-left:1ch}
.figures td:first-child{overflow-wrap:anywhere}
.reprint{font-weight:700;font-size:1.3em;text-align:center;border:2px solid #111;\
padding:.1em 0;margin:.3em 0}
@page{size:auto;margin:6mm}
@media print{html{background:none}body{padding:0;font-size:11pt}\
.receipt{box-shadow:none;padding:0}}
";

/// The CSP source (`'sha256-…'`) that allows this module's one `<style>` element: the app's
/// Content Security Policy lists it, so receipts are styled without `'unsafe-inline'`.
pub fn style_csp_source() -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("\n{STYLE}").as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The whole document: `<!DOCTYPE html>` to `</html>`.
pub fn render(receipt: &Receipt) -> String {
    let title = match receipt.kind {
        ReceiptKind::Sale => "Receipt",
        ReceiptKind::Refund => "Refund",
    };
    document(
        &format!("{title} {}", receipt.receipt_no),
        "receipt",
        &lay_out(receipt),
    )
}

/// A till-session report (X or Z) as a whole document, under the same rules as a receipt:
/// a column wider than a receipt's, centred on the screen and on an A4 page.
pub fn render_report(report: &SessionReport) -> String {
    let title = match report.kind {
        ReportKind::X => "X report",
        ReportKind::Z => "Z report",
    };
    document(
        &format!("{title} {}", report.session_id),
        "receipt report",
        &lay_out_report(report),
    )
}

/// `blocks` in a `<main>` of class `main_class`, under the one stylesheet. `title` is escaped
/// here.
fn document(title: &str, main_class: &str, blocks: &[Block]) -> String {
    let mut html = String::with_capacity(8 * 1024);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(html, "<title>{}</title>", escape(title));
    let _ = writeln!(html, "<style>\n{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(html, "<main class=\"{main_class}\">");
    for block in blocks {
        push_block(block, &mut html);
    }
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

fn push_block(block: &Block, html: &mut String) {
    // `write!` into a String cannot fail.
    match block {
        Block::Text {
            text,
            align,
            emphasis,
            indented,
        } => {
            let mut classes = classes(*emphasis, *indented);
            if *align == Align::Center {
                classes.push("center");
            }
            let _ = writeln!(html, "<p{}>{}</p>", class_attribute(&classes), escape(text));
        }
        Block::Amount {
            label,
            amount,
            emphasis,
            indented,
        } => {
            let mut classes = classes(*emphasis, *indented);
            classes.insert(0, "amount");
            let _ = writeln!(
                html,
                "<p{}><span>{}</span><span>{}</span></p>",
                class_attribute(&classes),
                escape(label),
                escape(amount)
            );
        }
        Block::Table { header, rows } => {
            html.push_str("<table class=\"figures\">\n<thead><tr>");
            for cell in header {
                let _ = write!(html, "<th>{}</th>", escape(cell));
            }
            html.push_str("</tr></thead>\n<tbody>\n");
            for row in rows {
                html.push_str("<tr>");
                for cell in row {
                    let _ = write!(html, "<td>{}</td>", escape(cell));
                }
                html.push_str("</tr>\n");
            }
            html.push_str("</tbody>\n</table>\n");
        }
        Block::Rule => html.push_str("<hr>\n"),
        Block::ReprintMark => {
            let _ = writeln!(html, "<p class=\"reprint\">{REPRINT_MARK}</p>");
        }
    }
}

fn classes(emphasis: Emphasis, indented: bool) -> Vec<&'static str> {
    let mut classes = Vec::new();
    match emphasis {
        Emphasis::Normal => {}
        Emphasis::Bold => classes.push("bold"),
        Emphasis::Large => classes.push("large"),
    }
    if indented {
        classes.push("indented");
    }
    classes
}

fn class_attribute(classes: &[&str]) -> String {
    if classes.is_empty() {
        String::new()
    } else {
        format!(" class=\"{}\"", classes.join(" "))
    }
}

/// Text safe in element content and in quoted attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample_receipts::{cash_sale, refund, sale_paid_in_two_currencies};
    use crate::sample_reports::{x_report, z_report};

    /// The document with its tags removed and entities decoded: what a reader sees.
    fn visible_text(html: &str) -> String {
        let body = &html[html.find("<body>").unwrap()..];
        let mut text = String::new();
        let mut in_tag = false;
        for c in body.chars() {
            match c {
                '<' => {
                    in_tag = true;
                    text.push(' ');
                }
                '>' => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        let text = text
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn the_document_is_complete_and_self_contained() {
        let html = render(&cash_sale());
        assert_self_contained(&html);
        assert!(html.contains("<title>Receipt 7F3A09C2-000123</title>"));
    }

    /// A whole document, styled by the one stylesheet only, that runs and loads nothing.
    fn assert_self_contained(html: &str) {
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(html.trim_end().ends_with("</html>"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("@media print") && html.contains("@page"));
        assert_eq!(html.matches("<style>").count(), 1);
        assert!(html.contains(&format!("<style>\n{STYLE}</style>")));
        let lower = html.to_lowercase();
        for forbidden in [
            "<script", "<link", "<img", "<iframe", "url(", "@import", "http:", "https:", " style=",
        ] {
            assert!(!lower.contains(forbidden), "{forbidden:?} in the document");
        }
    }

    #[test]
    fn the_screen_shows_everything_the_paper_does() {
        let text = visible_text(&render(&cash_sale()));
        for expected in [
            "Corner Shop Harare CBD VAT No: 10012345",
            "TAX INVOICE",
            "Receipt: 7F3A09C2-000123 Date: 2026-11-27 14:03 Cashier: Tendai",
            "Bread 700g 2 x 1.20 15% 2.40",
            "Subtotal 7.39 TOTAL USD 7.39",
            "Rate Net VAT Gross 15% 3.82 0.57 4.39 0% 3.00 0.00 3.00 VAT total 0.57",
            "Cash USD 10.00 Change USD 2.61",
            "Verification code A1B2-C3D4-E5F6-0789",
        ] {
            assert!(text.contains(expected), "{expected:?} not in {text:?}");
        }
        assert!(!text.contains("REPRINT"));
        assert!(!text.contains("Discount"));
    }

    #[test]
    fn a_product_name_cannot_inject_markup() {
        let mut receipt = cash_sale();
        receipt.lines[0].name = "<script>alert('x')</script><img src=x onerror=alert(1)>".into();
        receipt.cashier = "\"><b>Boss</b> & co".into();
        let html = render(&receipt);
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>"));
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        let text = visible_text(&html);
        assert!(text.contains("<script>alert('x')</script><img src=x onerror=alert(1)>"));
        assert!(text.contains("Cashier: \"><b>Boss</b> & co"));
    }

    #[test]
    fn a_reprint_is_marked_at_its_top_and_its_bottom() {
        let mut receipt = cash_sale();
        receipt.reprint = true;
        let html = render(&receipt);
        let mark = "<p class=\"reprint\">REPRINT — COPY</p>";
        assert_eq!(html.matches(mark).count(), 2);
        let body = &html[html.find("<main").unwrap()..];
        let first_line = body.lines().nth(1).unwrap();
        assert_eq!(first_line, mark);
        assert!(body
            .trim_end()
            .ends_with(&format!("{mark}\n</main>\n</body>\n</html>")));
    }

    #[test]
    fn a_refund_and_a_sale_in_two_currencies_read_as_on_paper() {
        let text = visible_text(&render(&refund()));
        assert!(text.contains("REFUND Refund of 7F3A09C2-000123 Reason: Damaged packaging"));
        assert!(!text.contains("TAX INVOICE"));
        let html = render(&sale_paid_in_two_currencies());
        let text = visible_text(&html);
        assert!(
            text.contains("Cash USD 5.00 Rate: 1 USD = 26.80 ZWG"),
            "{text}"
        );
        assert!(text.contains("Card ZWG 50.00 Ref: AUTH 448812 Change ZWG 4.00"));
        assert!(html
            .contains("<p class=\"amount large\"><span>TOTAL ZWG</span><span>180.00</span></p>"));
    }

    #[test]
    fn names_keep_their_own_letters_on_screen() {
        let mut receipt = cash_sale();
        receipt.lines[0].name = "Crème brûlée — 茶".into();
        assert!(render(&receipt).contains("Crème brûlée — 茶"));
    }

    #[test]
    fn a_report_is_a_complete_self_contained_document_with_the_same_style() {
        let html = render_report(&z_report());
        assert_self_contained(&html);
        assert!(html.contains("<title>Z report 0b7e4c1a-5d2f-4e8b-9a3c-1f2e3d4c5b6a</title>"));
        assert!(html.contains("<main class=\"receipt report\">"));
    }

    #[test]
    fn a_z_report_on_screen_says_what_the_paper_does() {
        let text = visible_text(&render_report(&z_report()));
        for expected in [
            "Corner Shop Z REPORT — till closed",
            "Opened 2026-11-27 07:58 by Tendai Closed 2026-11-27 18:04 by Rudo",
            "Number of sales 42 Number of refunds 1",
            "USD Opening float 50.00 Sales 123.45 Refunds -2.40 Discounts (in sales) 1.50 \
             NET USD 121.05",
            "Rate Net VAT Gross 15% 79.17 11.88 91.05 0% 30.00 0.00 30.00 VAT total 11.88",
            "Cash-up (USD) Tender Expected Counted Over/short \
             Cash 131.05 129.55 SHORT -1.50 Card 40.00 — —",
            "Cash 2000.00 2005.00 OVER +5.00 Mobile money 680.00 680.00 0.00",
            "Sales by cashier Tendai 30 sales Net USD 81.05 Net ZWG 2680.00 \
             Rudo 12 sales Net USD 40.00",
            "Printed: 2026-11-27 18:05 End of Z report",
        ] {
            assert!(text.contains(expected), "{expected:?} not in {text:?}");
        }
    }

    #[test]
    fn a_cashier_name_cannot_inject_markup_into_a_report() {
        let mut report = z_report();
        report.cashiers[0].name =
            "<script>alert('x')</script><b onclick=\"go()\">Tendai</b>".into();
        report.opened_by_name = "<img src=x onerror=alert(1)> & co".into();
        report.shop_name = Some("</title><style>*{}</style>".into());
        let html = render_report(&report);
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b "));
        assert_eq!(html.matches("<style>").count(), 1);
        assert!(html.contains(
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b onclick=&quot;go()&quot;&gt;"
        ));
        let text = visible_text(&html);
        assert!(text.contains("<script>alert('x')</script><b onclick=\"go()\">Tendai</b> 30 sales"));
        assert!(text.contains("by <img src=x onerror=alert(1)> & co"));
    }

    #[test]
    fn an_x_report_on_screen_says_nothing_about_counted_cash() {
        let html = render_report(&x_report());
        assert!(html.contains("<title>X report "));
        let text = visible_text(&html);
        assert!(text.contains("X REPORT"));
        assert!(text.contains("Expected in drawer (USD) Tender Expected Cash 131.05 Card 40.00"));
        for word in [
            "Counted",
            "counted",
            "OVER",
            "SHORT",
            "Over/short",
            "Cash-up",
            "Closed",
        ] {
            assert!(!text.contains(word), "{word:?} in {text:?}");
        }
    }
}
