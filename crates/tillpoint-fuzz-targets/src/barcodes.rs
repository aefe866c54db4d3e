//! What a scanner types into the till: `Barcode::parse` (GTIN check digit) and the reading of
//! a shop's own scale labels (`tillpoint_core::catalog::decode_in_store`), each against a
//! model written here from the GS1 rules.
//!
//! The input is the scanned text (UTF-8; a scanner can send anything a keyboard can). Its
//! bytes also make a scale label (`2`, a kind digit, a 5-digit item, a 5-digit value, the
//! check digit), so labels that are valid are met on every run, not only when the fuzzer
//! happens on a check digit.
//!
//! What must hold: nothing panics; a code is accepted exactly when the model accepts it
//! (digits only after trimming, 8/12/13/14 of them, the GS1 check digit right) and is kept as
//! scanned; a scale label reads as the model reads it (kinds 0-4 a price in minor units, 5-9
//! a weight in grams) and names the item label with a zero value; a label made from an item
//! and a value reads back as that item and that value.

use tillpoint_core::catalog::{decode_in_store, LabelValue};
use tillpoint_protocol::money::Quantity;
use tillpoint_protocol::Barcode;

/// The GS1 check digit of `body` (digits only): from the right, weights 3, 1, 3, 1…
fn check_digit(body: &[u8]) -> u8 {
    let len = body.len();
    let sum: u32 = body
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let from_right = len - 1 - i;
            u32::from(d - b'0') * if from_right.is_multiple_of(2) { 3 } else { 1 }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Whether a scanner's `text` is a GTIN the till must take.
fn model_accepts(text: &str) -> bool {
    let code = text.trim().as_bytes();
    matches!(code.len(), 8 | 12 | 13 | 14)
        && code.iter().all(u8::is_ascii_digit)
        && code[code.len() - 1] - b'0' == check_digit(&code[..code.len() - 1])
}

/// The model's reading of a scale label: the item's label and the value.
fn model_label(code: &str) -> Option<(String, LabelValue)> {
    let digits = code.as_bytes();
    if digits.len() != 13 || digits[0] != b'2' {
        return None;
    }
    let value = digits[7..12]
        .iter()
        .fold(0_i64, |v, d| v * 10 + i64::from(d - b'0'));
    let mut item = digits[..7].to_vec();
    item.extend_from_slice(b"00000");
    item.push(b'0' + check_digit(&item));
    let label = if digits[1] - b'0' <= 4 {
        LabelValue::Price(value)
    } else {
        LabelValue::Weight(Quantity::from_milli(value))
    };
    Some((String::from_utf8(item).expect("digits"), label))
}

fn check_scanned(text: &str) {
    let parsed = Barcode::parse(text);
    assert_eq!(
        parsed.is_ok(),
        model_accepts(text),
        "{text:?}: parse says {parsed:?}"
    );
    let Ok(code) = parsed else { return };
    assert_eq!(code.as_str(), text.trim(), "a code is kept as scanned");
    let read = decode_in_store(&code).map(|(item, value)| (item.as_str().to_owned(), value));
    assert_eq!(
        read,
        model_label(code.as_str()),
        "{text:?} as a scale label"
    );
    if let Some((item, _)) = read {
        let item = Barcode::parse(&item).expect("the item's label is a barcode");
        let (again, zero) = decode_in_store(&item).expect("the item's label is a scale label");
        assert_eq!(again, item);
        assert!(matches!(
            zero,
            LabelValue::Price(0) | LabelValue::Weight(Quantity::ZERO)
        ));
    }
}

pub fn barcodes(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        check_scanned(text);
    }

    // A scale label printed for item `IIIII` of kind `k` with value `VVVVV`.
    let digit = |i: usize| b'0' + data.get(i).map_or(0, |b| b % 10);
    let kind = digit(0);
    let item: Vec<u8> = (1..6).map(digit).collect();
    let value: Vec<u8> = (6..11).map(digit).collect();
    let mut body = vec![b'2', kind];
    body.extend_from_slice(&item);
    body.extend_from_slice(&value);
    let body = String::from_utf8(body).expect("digits");
    let label = Barcode::ean13_from_body(&body).expect("twelve digits make an EAN-13");
    assert!(
        model_accepts(label.as_str()),
        "{label} fails its own check digit"
    );
    let (read_item, read_value) = decode_in_store(&label).expect("a scale label");
    let value: i64 = std::str::from_utf8(&value)
        .expect("digits")
        .parse()
        .expect("number");
    let expected = if kind <= b'4' {
        LabelValue::Price(value)
    } else {
        LabelValue::Weight(Quantity::from_milli(value))
    };
    assert_eq!(read_value, expected, "{label}");
    assert_eq!(&read_item.as_str()[..7], &body[..7], "{label}: the item");
    check_scanned(label.as_str());
}
