//! Product barcodes. A till trusts a scanned code only after its check digit holds, so a
//! misread never matches the wrong product.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A GTIN barcode (EAN-8, UPC-A, EAN-13 or GTIN-14) whose check digit has been verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct Barcode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    #[error("a barcode holds digits only, got {0:?}")]
    NotDigits(String),
    #[error("a barcode has 8, 12, 13 or 14 digits, got {0}")]
    Length(usize),
    #[error("barcode {code} has check digit {found}, expected {expected}")]
    CheckDigit {
        code: String,
        found: u8,
        expected: u8,
    },
}

impl Barcode {
    pub fn parse(code: &str) -> Result<Self, BarcodeError> {
        let code = code.trim();
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BarcodeError::NotDigits(code.to_owned()));
        }
        if !matches!(code.len(), 8 | 12 | 13 | 14) {
            return Err(BarcodeError::Length(code.len()));
        }
        let (body, check) = code.split_at(code.len() - 1);
        let found = check.as_bytes()[0] - b'0';
        let expected = gtin_check_digit(body);
        if found != expected {
            return Err(BarcodeError::CheckDigit {
                code: code.to_owned(),
                found,
                expected,
            });
        }
        Ok(Self(code.to_owned()))
    }

    /// Completes a 12-digit body into a valid EAN-13.
    pub fn ean13_from_body(body: &str) -> Result<Self, BarcodeError> {
        if body.len() != 12 {
            return Err(BarcodeError::Length(body.len() + 1));
        }
        if !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BarcodeError::NotDigits(body.to_owned()));
        }
        Ok(Self(format!("{body}{}", gtin_check_digit(body))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// GS1 check digit: weights 3,1,3,1… from the rightmost body digit.
fn gtin_check_digit(body: &str) -> u8 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl TryFrom<String> for Barcode {
    type Error = BarcodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Barcode> for String {
    fn from(value: Barcode) -> Self {
        value.0
    }
}

impl fmt::Display for Barcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_world_codes() {
        // EAN-13 from a retail product, an EAN-8 and a UPC-A.
        for code in [
            "4006381333931",
            "96385074",
            "036000291452",
            "10614141000415",
        ] {
            assert_eq!(Barcode::parse(code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn rejects_a_wrong_check_digit() {
        assert_eq!(
            Barcode::parse("4006381333932"),
            Err(BarcodeError::CheckDigit {
                code: "4006381333932".into(),
                found: 2,
                expected: 1
            })
        );
    }

    #[test]
    fn rejects_letters_and_odd_lengths() {
        assert!(matches!(
            Barcode::parse("40063813339a1"),
            Err(BarcodeError::NotDigits(_))
        ));
        assert!(matches!(
            Barcode::parse(""),
            Err(BarcodeError::NotDigits(_))
        ));
        assert_eq!(Barcode::parse("123456789"), Err(BarcodeError::Length(9)));
    }

    #[test]
    fn completes_a_body_into_a_valid_ean13() {
        let code = Barcode::ean13_from_body("400638133393").unwrap();
        assert_eq!(code.as_str(), "4006381333931");
        assert!(Barcode::ean13_from_body("40063813339").is_err());
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<Barcode>("\"4006381333931\"").is_ok());
        assert!(serde_json::from_str::<Barcode>("\"4006381333932\"").is_err());
    }
}
