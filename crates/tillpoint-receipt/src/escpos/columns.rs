//! Fitting the laid-out blocks to a fixed number of columns.
//!
//! The rule is that nothing is lost: a long name wraps onto as many lines as it needs, and an
//! amount is never cut or split across lines (only an amount longer than the paper is wide,
//! which no real amount is, would be). When a label and its amount do not share a line, the
//! label wraps and the amount goes right-aligned under it. Large text is printed double
//! width only when it fits in half the columns; otherwise it is double height only, which
//! keeps the full width.
//!
//! Text arrives here already in printable ASCII, so one character is one column.

use crate::layout::{Align, Block, Emphasis, REPRINT_MARK};

use super::ascii::to_printable_ascii;

/// How large the characters of a line are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Size {
    Normal,
    /// Double height, normal width: as many columns as normal text.
    Tall,
    /// Double width and height: half the columns.
    Double,
}

/// One line as the printer will print it: at most the paper's columns (half of them when
/// [`Size::Double`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FittedLine {
    pub text: String,
    pub align: Align,
    pub bold: bool,
    pub size: Size,
}

const INDENT: &str = "  ";

pub(super) fn fit(blocks: &[Block], columns: usize) -> Vec<FittedLine> {
    let mut lines = Vec::new();
    for block in blocks {
        match block {
            Block::Text {
                text,
                align,
                emphasis,
                indented,
            } => fit_text(
                &to_printable_ascii(text),
                *align,
                *emphasis,
                *indented,
                columns,
                &mut lines,
            ),
            Block::Amount {
                label,
                amount,
                emphasis,
                indented,
            } => fit_amount(
                &to_printable_ascii(label),
                &to_printable_ascii(amount),
                *emphasis,
                *indented,
                columns,
                &mut lines,
            ),
            Block::Table { header, rows } => fit_table(header, rows, columns, &mut lines),
            Block::Rule => lines.push(plain("-".repeat(columns), false)),
            Block::ReprintMark => fit_text(
                &to_printable_ascii(REPRINT_MARK),
                Align::Center,
                Emphasis::Large,
                false,
                columns,
                &mut lines,
            ),
        }
    }
    lines
}

fn plain(text: String, bold: bool) -> FittedLine {
    FittedLine {
        text,
        align: Align::Left,
        bold,
        size: Size::Normal,
    }
}

fn fit_text(
    text: &str,
    align: Align,
    emphasis: Emphasis,
    indented: bool,
    columns: usize,
    lines: &mut Vec<FittedLine>,
) {
    let size = match emphasis {
        Emphasis::Large if text.len() <= columns / 2 => Size::Double,
        Emphasis::Large => Size::Tall,
        Emphasis::Normal | Emphasis::Bold => Size::Normal,
    };
    let usable = if size == Size::Double {
        columns / 2
    } else {
        columns
    };
    let indent = if indented { INDENT } else { "" };
    for wrapped in wrap(text, usable - indent.len()) {
        lines.push(FittedLine {
            text: format!("{indent}{wrapped}"),
            align,
            bold: emphasis != Emphasis::Normal,
            size,
        });
    }
}

fn fit_amount(
    label: &str,
    amount: &str,
    emphasis: Emphasis,
    indented: bool,
    columns: usize,
    lines: &mut Vec<FittedLine>,
) {
    let indent = if indented { INDENT } else { "" };
    let label = format!("{indent}{label}");
    let (size, usable) = match emphasis {
        Emphasis::Large if label.len() + 1 + amount.len() <= columns / 2 => {
            (Size::Double, columns / 2)
        }
        Emphasis::Large => (Size::Tall, columns),
        Emphasis::Normal | Emphasis::Bold => (Size::Normal, columns),
    };
    let line = |text: String| FittedLine {
        text,
        align: Align::Left,
        bold: emphasis != Emphasis::Normal,
        size,
    };
    for text in label_and_amount(&label, indent, amount, usable) {
        lines.push(line(text));
    }
}

/// `label` (already indented) then `amount` flush right, on one line when they fit with a
/// space between them.
fn label_and_amount(label: &str, indent: &str, amount: &str, columns: usize) -> Vec<String> {
    if label.len() + 1 + amount.len() <= columns {
        return vec![format!(
            "{label:<width$}{amount}",
            width = columns - amount.len()
        )];
    }
    let mut texts: Vec<String> = wrap(&label[indent.len()..], columns - indent.len())
        .into_iter()
        .map(|wrapped| format!("{indent}{wrapped}"))
        .collect();
    let last = texts.pop().unwrap_or_default();
    if last.len() + 1 + amount.len() <= columns {
        texts.push(format!(
            "{last:<width$}{amount}",
            width = columns - amount.len()
        ));
    } else {
        texts.push(last);
        if amount.len() <= columns {
            texts.push(format!("{amount:>columns$}"));
        } else {
            texts.extend(wrap(amount, columns));
        }
    }
    texts
}

/// A table in columns when every cell fits at its widest; otherwise each row becomes its
/// label followed by one indented line per amount, headed by the column's name.
fn fit_table(header: &[String], rows: &[Vec<String>], columns: usize, lines: &mut Vec<FittedLine>) {
    let header: Vec<String> = header.iter().map(|cell| to_printable_ascii(cell)).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| to_printable_ascii(cell)).collect())
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|row| row.get(column).map_or(0, String::len))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let needed = widths.iter().sum::<usize>() + widths.len().saturating_sub(1);
    if needed <= columns {
        // The label column takes the slack, so the amounts line up with the totals above.
        let label_width = columns - (needed - widths[0]);
        let row_text = |row: &[String]| {
            let mut text = format!("{:<label_width$}", row.first().map_or("", String::as_str));
            for (cell, width) in row.iter().zip(&widths).skip(1) {
                text.push_str(&format!(" {cell:>width$}"));
            }
            text
        };
        lines.push(plain(row_text(&header), true));
        for row in &rows {
            lines.push(plain(row_text(row), false));
        }
        return;
    }
    for row in &rows {
        for wrapped in wrap(row.first().map_or("", String::as_str), columns) {
            lines.push(plain(wrapped, true));
        }
        for (name, cell) in header.iter().zip(row).skip(1) {
            let label = format!("{INDENT}{name}");
            for text in label_and_amount(&label, INDENT, cell, columns) {
                lines.push(plain(text, false));
            }
        }
    }
}

/// Word-wraps ASCII `text` to `width` columns; a word longer than the width is split. Runs of
/// spaces collapse to one. Always at least one line, so an empty text still takes its place.
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|word| !word.is_empty()) {
        let mut word = word;
        if !current.is_empty() && current.len() + 1 + word.len() <= width {
            current.push(' ');
            current.push_str(word);
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        while word.len() > width {
            let (head, tail) = word.split_at(width);
            lines.push(head.to_owned());
            word = tail;
        }
        current.push_str(word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[FittedLine]) -> Vec<&str> {
        lines.iter().map(|line| line.text.as_str()).collect()
    }

    #[test]
    fn words_wrap_at_spaces_and_long_words_split() {
        assert_eq!(
            wrap("Bread white sliced 700g", 10),
            ["Bread", "white", "sliced", "700g"]
        );
        assert_eq!(wrap("Bread  white", 20), ["Bread white"]);
        assert_eq!(wrap("abcdefghijkl xy", 5), ["abcde", "fghij", "kl xy"]);
        assert_eq!(wrap("", 5), [""]);
    }

    #[test]
    fn a_label_and_its_amount_share_a_line_when_they_fit() {
        let mut lines = Vec::new();
        fit_amount("Cash", "USD 10.00", Emphasis::Normal, false, 20, &mut lines);
        assert_eq!(texts(&lines), ["Cash       USD 10.00"]);
    }

    #[test]
    fn a_long_label_wraps_and_keeps_the_amount_whole_on_the_right() {
        let mut lines = Vec::new();
        fit_amount(
            "1.235 kg x 1234.99  exempt",
            "1525.21",
            Emphasis::Normal,
            true,
            20,
            &mut lines,
        );
        assert_eq!(
            texts(&lines),
            ["  1.235 kg x 1234.99", "  exempt     1525.21"]
        );
    }

    #[test]
    fn a_large_amount_is_double_width_only_when_it_fits_half_the_columns() {
        let mut lines = Vec::new();
        fit_amount("TOTAL USD", "7.39", Emphasis::Large, false, 32, &mut lines);
        assert_eq!(lines[0].size, Size::Double);
        assert_eq!(lines[0].text, "TOTAL USD   7.39");
        lines.clear();
        fit_amount(
            "TOTAL USD",
            "123456.78",
            Emphasis::Large,
            false,
            32,
            &mut lines,
        );
        assert_eq!(lines[0].size, Size::Tall);
        assert_eq!(lines[0].text.len(), 32);
        assert!(lines[0].text.ends_with(" 123456.78"));
    }

    #[test]
    fn a_table_too_wide_for_the_paper_becomes_one_block_per_row() {
        let header = ["Rate", "Net", "VAT", "Gross"].map(String::from).to_vec();
        let rows = vec![["15%", "1000000.00", "150000.00", "1150000.00"]
            .map(String::from)
            .to_vec()];
        let mut lines = Vec::new();
        fit_table(&header, &rows, 32, &mut lines);
        assert_eq!(
            texts(&lines),
            [
                "15%",
                "  Net                 1000000.00",
                "  VAT                  150000.00",
                "  Gross               1150000.00",
            ]
        );
        lines.clear();
        fit_table(&header, &rows, 48, &mut lines);
        assert_eq!(
            texts(&lines),
            [
                "Rate                    Net       VAT      Gross",
                "15%              1000000.00 150000.00 1150000.00",
            ]
        );
        assert!(lines[0].bold && !lines[1].bold);
    }
}
