//! ISO 4217 currency codes. Amounts themselves are integer minor units next to one of these.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Three upper-case ASCII letters, e.g. `USD`, `ZWG`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[cfg_attr(feature = "contract", derive(specta::Type), specta(type = String))]
pub struct CurrencyCode([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a currency code is three upper-case letters (ISO 4217), got {0:?}")]
pub struct CurrencyCodeError(pub String);

impl CurrencyCode {
    pub fn parse(code: &str) -> Result<Self, CurrencyCodeError> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(CurrencyCodeError(code.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).expect("currency codes are ASCII")
    }
}

impl TryFrom<String> for CurrencyCode {
    type Error = CurrencyCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CurrencyCode> for String {
    fn from(value: CurrencyCode) -> Self {
        value.as_str().to_owned()
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_codes_and_rejects_others() {
        assert_eq!(CurrencyCode::parse("ZWG").unwrap().as_str(), "ZWG");
        for bad in ["usd", "US", "USDT", "U$D", ""] {
            assert!(CurrencyCode::parse(bad).is_err(), "{bad} must be refused");
        }
    }
}
