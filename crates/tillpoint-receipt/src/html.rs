//! A receipt as one self-contained HTML document, for the screen and for printing on A4 or a
//! roll from the system print dialog.
//!
//! The app shows it in a sandboxed iframe under a strict Content Security Policy, so the
//! document has no scripts, loads nothing, and is styled by one `<style>` element and class
//! names only (no `style` attributes, which `style-src` without `'unsafe-inline'` would drop).
//! Every text from the receipt is escaped: product names are typed by whoever edits the
//! catalogue and must never become markup.
//!
//! The receipt is a column at most 80 mm wide, centred: on A4 it prints as a receipt in the
//! middle of the page, on a 58 or 80 mm roll it fills the paper.

use std::fmt::Write;

use crate::layout::{lay_out, Align, Block, Emphasis, REPRINT_MARK};
use crate::model::{Receipt, ReceiptKind};

const STYLE: &str = "\
*{box-sizing:border-box}
html{background:#f3f3f1}
body{margin:0;padding:16px 8px;color:#111;\
font:13px/1.35 ui-monospace,'SF Mono',Menlo,Consolas,'DejaVu Sans Mono','Liberation Mono',monospace}
.receipt{width:100%;max-width:80mm;margin:0 auto;padding:6mm 4mm;background:#fff;\
box-shadow:0 1px 4px rgba(0,0,0,.15)}
p{margin:0;overflow-wrap:anywhere}
.center{text-align:center}
.bold{font-weight:700}
.large{font-weight:700;font-size:1.45em;line-height:1.2;margin:.15em 0}
.indented{padding-left:2ch}
.amount{display:flex;justify-content:space-between;gap:1ch}
.amount>span:first-child{overflow-wrap:anywhere}
.amount>span:last-child,.vat td+td,.vat th+th{text-align:right;white-space:nowrap;\
font-variant-numeric:tabular-nums}
hr{border:0;border-top:1px dashed #777;margin:.5em 0}
table.vat{width:100%;border-collapse:collapse}
.vat th{font-weight:700;text-align:left}
.vat th,.vat td{padding:0;vertical-align:top}
.vat td:first-child{overflow-wrap:anywhere}
.reprint{font-weight:700;font-size:1.3em;text-align:center;border:2px solid #111;\
padding:.1em 0;margin:.3em 0}
@page{size:auto;margin:6mm}
@media print{html{background:none}body{padding:0;font-size:11pt}\
.receipt{box-shadow:none;padding:0}}
";

/// The whole document: `<!DOCTYPE html>` to `</html>`.
pub fn render(receipt: &Receipt) -> String {
    let title = match receipt.kind {
        ReceiptKind::Sale => "Receipt",
        ReceiptKind::Refund => "Refund",
    };
    let mut html = String::with_capacity(8 * 1024);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        html,
        "<title>{title} {}</title>",
        escape(&receipt.receipt_no)
    );
    let _ = writeln!(html, "<style>\n{STYLE}</style>\n</head>\n<body>");
    html.push_str("<main class=\"receipt\">\n");
    for block in lay_out(receipt) {
        push_block(&block, &mut html);
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
            html.push_str("<table class=\"vat\">\n<thead><tr>");
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
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(html.trim_end().ends_with("</html>"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("<title>Receipt 7F3A09C2-000123</title>"));
        assert!(html.contains("@media print") && html.contains("@page"));
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
}
