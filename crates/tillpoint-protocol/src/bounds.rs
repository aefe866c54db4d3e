//! The ranges every number a till sends must lie in, checked as the number is read.
//!
//! A record's numbers come from a till the server does not control. Read as bare `i64`s, an
//! amount of `i64::MIN` panics the first `.abs()` that meets it, a quantity of `i64::MIN`
//! the first negation, and a `seq` above `i64::MAX` fails the database's own checks — each
//! answered with a retryable 5xx that wedges the till's sync for ever. So each kind of number
//! has one documented range, far wider than any real sale and narrow enough that the sums
//! and products made of it (in `i128`, or checked) cannot overflow, and serde refuses a
//! number outside it with a message naming the range: a payload that carries one is
//! `rejected`, never half-read.
//!
//! | number | range |
//! |---|---|
//! | an amount (minor units: prices, totals, discounts, VAT, payments, change, counts) | ±[`MAX_AMOUNT_MINOR`] |
//! | a quantity (thousandths, [`crate::money::Quantity`]) | ±[`crate::money::Quantity::MAX_MILLI`] |
//! | a journal record's `seq` | 1..=[`MAX_SEQ`] |
//! | a tax rate (basis points, [`crate::tax::TaxRate`]) | 0..=[`MAX_RATE_BP`] |

use serde::{Deserialize, Deserializer};

/// The largest amount, either sign, in minor units: 10^17, ten times what the largest cart a
/// till rings up can come to (1,000 lines of 10^13) and room for its conversion into a
/// currency with more minor units per unit. A thousand such amounts still sum inside `i64`'s
/// range only in `i128`, which is where every sum of amounts is made.
pub const MAX_AMOUNT_MINOR: i64 = 100_000_000_000_000_000;

/// The largest `seq` of a journal record: what the server's `INTEGER` column holds.
pub const MAX_SEQ: u64 = i64::MAX as u64;

/// The largest tax rate: 100 % (10,000 basis points).
pub const MAX_RATE_BP: u32 = 10_000;

/// Whether `amount` lies in ±[`MAX_AMOUNT_MINOR`].
pub const fn amount_in_range(amount: i64) -> bool {
    -MAX_AMOUNT_MINOR <= amount && amount <= MAX_AMOUNT_MINOR
}

/// Reads an amount in minor units, refusing one outside ±[`MAX_AMOUNT_MINOR`]
/// (`#[serde(deserialize_with = "crate::bounds::amount")]`).
pub fn amount<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let amount = i64::deserialize(deserializer)?;
    if !amount_in_range(amount) {
        return Err(serde::de::Error::custom(format!(
            "amount {amount} is out of range: at most {MAX_AMOUNT_MINOR} minor units either way"
        )));
    }
    Ok(amount)
}

/// Reads a journal record's `seq`, refusing 0 and anything above [`MAX_SEQ`].
pub fn seq<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let seq = u64::deserialize(deserializer)?;
    if !(1..=MAX_SEQ).contains(&seq) {
        return Err(serde::de::Error::custom(format!(
            "seq {seq} is out of range: a record's seq runs from 1 to {MAX_SEQ}"
        )));
    }
    Ok(seq)
}

/// Reads a tax rate in basis points, refusing one above [`MAX_RATE_BP`].
pub fn rate_bp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let rate = u32::deserialize(deserializer)?;
    if rate > MAX_RATE_BP {
        return Err(serde::de::Error::custom(format!(
            "tax rate {rate} is out of range: at most {MAX_RATE_BP} basis points (100 %)"
        )));
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Numbers {
        #[serde(deserialize_with = "super::amount")]
        amount: i64,
        #[serde(deserialize_with = "super::seq")]
        seq: u64,
        #[serde(deserialize_with = "super::rate_bp")]
        rate: u32,
    }

    fn read(amount: &str, seq: &str, rate: &str) -> Result<Numbers, String> {
        serde_json::from_str(&format!(
            r#"{{"amount":{amount},"seq":{seq},"rate":{rate}}}"#
        ))
        .map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_inside_their_ranges_are_read() {
        let n = read("-100000000000000000", "9223372036854775807", "10000").unwrap();
        assert_eq!(
            (n.amount, n.seq, n.rate),
            (-super::MAX_AMOUNT_MINOR, super::MAX_SEQ, 10_000)
        );
    }

    #[test]
    fn numbers_outside_their_ranges_are_refused_with_the_range() {
        let err = read(&i64::MIN.to_string(), "1", "0").unwrap_err();
        assert!(
            err.contains("amount -9223372036854775808 is out of range"),
            "{err}"
        );
        let err = read("0", "9223372036854775808", "0").unwrap_err();
        assert!(
            err.contains("seq 9223372036854775808 is out of range"),
            "{err}"
        );
        assert!(read("0", "0", "0").unwrap_err().contains("seq 0"));
        let err = read("0", "1", "10001").unwrap_err();
        assert!(err.contains("tax rate 10001 is out of range"), "{err}");
    }
}
