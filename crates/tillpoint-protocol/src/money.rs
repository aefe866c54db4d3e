//! Money arithmetic both sides must do identically: quantities, exchange rates, rounding and
//! sharing an amount out. Amounts are integer minor units of one currency (`i64`); every
//! intermediate product is `i128`, so nothing overflows and nothing is ever a float.
//!
//! The rounding rules are written down in `docs/decisions/money-and-tax.md`; the one rule
//! used for prices, tax and conversions is half away from zero ([`Rounding::HalfUp`]), with
//! two deliberate exceptions: what a customer owes in another currency rounds up (so paying
//! the amount shown always settles the sale) and change rounds down (a till never hands out
//! more than is owed).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How an exact quotient becomes a whole number of minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Half away from zero: 0.5 → 1, −0.5 → −1.
    HalfUp,
    /// Toward zero.
    Down,
    /// Away from zero.
    Up,
}

/// `numerator / denominator` rounded by `mode`. `denominator` must be positive.
pub fn divide(numerator: i128, denominator: i128, mode: Rounding) -> i128 {
    assert!(denominator > 0, "a denominator is positive");
    let (magnitude, sign) = (numerator.unsigned_abs(), numerator.signum());
    let denominator = denominator as u128;
    let (quotient, remainder) = (magnitude / denominator, magnitude % denominator);
    let rounded = match mode {
        Rounding::Down => quotient,
        Rounding::Up => quotient + u128::from(remainder != 0),
        Rounding::HalfUp => quotient + u128::from(remainder * 2 >= denominator),
    };
    sign * rounded as i128
}

/// Narrows an `i128` amount to minor units, refusing what cannot be real money.
pub fn to_minor(amount: i128) -> Result<i64, MoneyError> {
    i64::try_from(amount).map_err(|_| MoneyError::TooLarge)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("the amount is too large")]
    TooLarge,
    #[error("{0:?} is not a quantity: use digits with at most 3 decimals, like 2 or 0.750")]
    BadQuantity(String),
    #[error(
        "{0:?} is not an exchange rate: use a positive decimal with at most 8 decimals, like 26.80"
    )]
    BadRate(String),
    #[error("{0:?} is not an amount: use digits with at most {1} decimals")]
    BadAmount(String, u32),
}

/// How a product is sold: in whole units, or by weight in kilograms (to the gram).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub enum Unit {
    Each,
    Kg,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Each => "each",
            Self::Kg => "kg",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "each" => Some(Self::Each),
            "kg" => Some(Self::Kg),
            _ => None,
        }
    }

    /// Whether `quantity` can be sold in this unit: whole numbers only for `Each`.
    pub fn allows(self, quantity: Quantity) -> bool {
        match self {
            Self::Each => quantity.0 % Quantity::SCALE == 0,
            Self::Kg => true,
        }
    }
}

/// A quantity in thousandths of its unit (1 = one gram of a kg product), so weighed goods
/// are exact. Negative only on the lines of a refund. Read from the wire only within
/// ±[`Quantity::MAX_MILLI`] (`crate::bounds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Quantity(i64);

impl TryFrom<i64> for Quantity {
    type Error = String;
    fn try_from(milli: i64) -> Result<Self, Self::Error> {
        if milli.checked_abs().is_none_or(|m| m > Self::MAX_MILLI) {
            return Err(format!(
                "quantity {milli} is out of range: at most {} thousandths either way",
                Self::MAX_MILLI
            ));
        }
        Ok(Self(milli))
    }
}

impl From<Quantity> for i64 {
    fn from(quantity: Quantity) -> Self {
        quantity.0
    }
}

impl Quantity {
    pub const SCALE: i64 = 1000;
    /// The largest quantity either way, in thousandths: a billion units, ten thousand
    /// times what a till lets one line hold. Its product with any amount in range fits in
    /// `i128` many times over.
    pub const MAX_MILLI: i64 = 1_000_000_000_000;
    pub const ONE: Self = Self(Self::SCALE);
    pub const ZERO: Self = Self(0);

    pub const fn from_milli(milli: i64) -> Self {
        Self(milli)
    }

    pub const fn whole(units: i64) -> Self {
        Self(units * Self::SCALE)
    }

    pub const fn milli(self) -> i64 {
        self.0
    }

    /// Parses `2`, `0.75`, `1.250` (at most three decimals, not negative).
    pub fn parse(text: &str) -> Result<Self, MoneyError> {
        parse_decimal(text.trim(), 3)
            .filter(|v| *v >= 0)
            .and_then(|v| i64::try_from(v).ok())
            .map(Self)
            .ok_or_else(|| MoneyError::BadQuantity(text.to_owned()))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, milli) = (self.0 / Self::SCALE, (self.0 % Self::SCALE).abs());
        let sign = if self.0 < 0 && whole == 0 { "-" } else { "" };
        if milli == 0 {
            write!(f, "{sign}{whole}")
        } else {
            let decimals = format!("{milli:03}");
            write!(f, "{sign}{whole}.{}", decimals.trim_end_matches('0'))
        }
    }
}

/// Price × quantity, in minor units, half away from zero.
pub fn extend(unit_price_minor: i64, quantity: Quantity) -> Result<i64, MoneyError> {
    to_minor(divide(
        i128::from(unit_price_minor) * i128::from(quantity.milli()),
        i128::from(Quantity::SCALE),
        Rounding::HalfUp,
    ))
}

/// Parses a non-negative decimal with at most `decimals` digits after the point into an
/// integer scaled by 10^decimals. No signs, no exponents, no thousands separators.
pub fn parse_decimal(text: &str, decimals: u32) -> Option<i128> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > decimals as usize
    {
        return None;
    }
    if text.ends_with('.') || whole.len() > 20 {
        return None;
    }
    let whole: i128 = whole.parse().ok()?;
    let mut scaled_fraction: i128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    scaled_fraction *= 10_i128.pow(decimals - fraction.len() as u32);
    whole
        .checked_mul(10_i128.pow(decimals))?
        .checked_add(scaled_fraction)
}

/// The largest amount a person may type: 10^13 minor units (100 billion with 2 decimals).
/// Far above any real sale, and low enough that no sum of a few thousand such amounts, nor
/// its conversion at any sane rate, overflows.
pub const MAX_TYPED_MINOR: i64 = 10_000_000_000_000;

/// Parses an amount typed in a currency with `minor_units` decimals (`12.5` → 1250), at most
/// [`MAX_TYPED_MINOR`].
pub fn parse_amount(text: &str, minor_units: u32) -> Result<i64, MoneyError> {
    parse_decimal(text.trim(), minor_units)
        .and_then(|v| i64::try_from(v).ok())
        .filter(|v| *v <= MAX_TYPED_MINOR)
        .ok_or_else(|| MoneyError::BadAmount(text.to_owned(), minor_units))
}

/// Formats minor units with the currency's decimals: 1250 with 2 → `12.50`.
pub fn format_amount(minor: i64, minor_units: u32) -> String {
    if minor_units == 0 {
        return minor.to_string();
    }
    let scale = 10_i64.pow(minor_units);
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale as u64,
        magnitude % scale as u64,
        width = minor_units as usize
    )
}

/// Units of the quote currency for one unit of the base currency, exact: `26.80` is kept as
/// 2680 with scale 2, never as a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExchangeRate {
    mantissa: i128,
    scale: u32,
}

impl ExchangeRate {
    pub const MAX_DECIMALS: u32 = 8;
    pub const ONE: Self = Self {
        mantissa: 1,
        scale: 0,
    };

    pub fn parse(text: &str) -> Result<Self, MoneyError> {
        let text = text.trim();
        let decimals = text.split_once('.').map_or(0, |(_, f)| f.len() as u32);
        if decimals > Self::MAX_DECIMALS {
            return Err(MoneyError::BadRate(text.to_owned()));
        }
        match parse_decimal(text, decimals) {
            Some(mantissa) if mantissa > 0 => Ok(Self {
                mantissa,
                scale: decimals,
            }),
            _ => Err(MoneyError::BadRate(text.to_owned())),
        }
    }

    /// The rate as the exact fraction `(numerator, denominator)`.
    pub fn as_fraction(self) -> (i128, i128) {
        (self.mantissa, 10_i128.pow(self.scale))
    }

    /// `amount` (minor units of the base currency, `from_units` decimals) in the quote
    /// currency (`to_units` decimals).
    pub fn convert(
        self,
        amount: i64,
        from_units: u32,
        to_units: u32,
        mode: Rounding,
    ) -> Result<i64, MoneyError> {
        // A rate may be as large as 10^20 (20 whole digits), so this product can pass i128
        // where the result could never be an amount anyway.
        let numerator = i128::from(amount)
            .checked_mul(self.mantissa)
            .and_then(|n| n.checked_mul(10_i128.pow(to_units)))
            .ok_or(MoneyError::TooLarge)?;
        let denominator = 10_i128.pow(self.scale + from_units);
        to_minor(divide(numerator, denominator, mode))
    }

    /// The reverse: `amount` of the quote currency in the base currency.
    pub fn convert_back(
        self,
        amount: i64,
        from_units: u32,
        to_units: u32,
        mode: Rounding,
    ) -> Result<i64, MoneyError> {
        let numerator = i128::from(amount) * 10_i128.pow(self.scale + to_units);
        let denominator = self.mantissa * 10_i128.pow(from_units);
        to_minor(divide(numerator, denominator, mode))
    }

    /// `amount` of the quote currency in the base currency as the exact fraction
    /// `(numerator, denominator)` of base minor units: how a tender is weighed against what
    /// is due without rounding first.
    pub fn exact_back(self, amount: i64, from_units: u32, to_units: u32) -> (i128, i128) {
        (
            i128::from(amount) * 10_i128.pow(self.scale + to_units),
            self.mantissa * 10_i128.pow(from_units),
        )
    }
}

impl fmt::Display for ExchangeRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let scale = 10_i128.pow(self.scale);
        write!(
            f,
            "{}.{:0width$}",
            self.mantissa / scale,
            self.mantissa % scale,
            width = self.scale as usize
        )
    }
}

impl FromStr for ExchangeRate {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ExchangeRate {
    type Error = MoneyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ExchangeRate> for String {
    fn from(value: ExchangeRate) -> Self {
        value.to_string()
    }
}

/// Shares `total` out in proportion to `weights` (largest remainder: the parts sum to
/// `total` exactly, and ties go to the earliest). How a cart discount is spread over its
/// lines, so each line's VAT is computed on what was really charged for it. The weights are
/// of one sign (line amounts of one sale or one refund): with mixed signs a share can exceed
/// any `i64` (found by the `money_tax` fuzz target).
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if weights.is_empty() {
        return Vec::new();
    }
    if sum == 0 {
        let mut parts = vec![0; weights.len()];
        parts[0] = total;
        return parts;
    }
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (index, weight) in weights.iter().enumerate() {
        let exact = i128::from(total) * i128::from(*weight);
        parts.push((exact / sum) as i64);
        remainders.push(((exact % sum).abs(), index));
    }
    let mut left = total - parts.iter().sum::<i64>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let step = left.signum();
    for (_, index) in remainders {
        if left == 0 {
            break;
        }
        parts[index] += step;
        left -= step;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fuzz target finding (docs/reliability.md, "Fuzzing"): the largest amount at the
    /// largest rate overflowed i128 (a panic where overflow is checked) instead of being
    /// refused as too large.
    #[test]
    fn converting_past_i128_is_too_large_not_a_panic() {
        let rate = ExchangeRate::parse("99999999999999999999.99999999").unwrap();
        let amount = crate::bounds::MAX_AMOUNT_MINOR;
        assert_eq!(
            rate.convert(amount, 0, 4, Rounding::HalfUp),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            ExchangeRate::parse("26.80")
                .unwrap()
                .convert(1000, 2, 2, Rounding::HalfUp),
            Ok(26_800)
        );
    }

    #[test]
    fn division_rounds_as_named() {
        assert_eq!(divide(5, 2, Rounding::HalfUp), 3);
        assert_eq!(divide(-5, 2, Rounding::HalfUp), -3);
        assert_eq!(divide(4, 3, Rounding::HalfUp), 1);
        assert_eq!(divide(5, 3, Rounding::HalfUp), 2);
        assert_eq!(divide(5, 3, Rounding::Down), 1);
        assert_eq!(divide(4, 3, Rounding::Up), 2);
        assert_eq!(divide(-4, 3, Rounding::Up), -2);
        assert_eq!(divide(6, 3, Rounding::Up), 2);
    }

    #[test]
    fn quantities_parse_to_thousandths() {
        assert_eq!(Quantity::parse("2").unwrap(), Quantity::whole(2));
        assert_eq!(Quantity::parse("0.75").unwrap().milli(), 750);
        assert_eq!(Quantity::parse("1.250").unwrap().milli(), 1250);
        for bad in ["", "-1", "1.2345", "1,5", "1e3", ".5", "5.", "abc"] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(Quantity::from_milli(1250).to_string(), "1.25");
        assert_eq!(Quantity::whole(3).to_string(), "3");
        assert_eq!(Quantity::from_milli(-500).to_string(), "-0.5");
        assert!(Unit::Each.allows(Quantity::whole(2)));
        assert!(!Unit::Each.allows(Quantity::from_milli(1500)));
        assert!(Unit::Kg.allows(Quantity::from_milli(1)));
    }

    #[test]
    fn a_quantity_out_of_range_is_refused_as_it_is_read() {
        let read = |text: &str| serde_json::from_str::<Quantity>(text).map_err(|e| e.to_string());
        assert_eq!(read("-1000").unwrap(), Quantity::from_milli(-1000));
        assert_eq!(read("1000000000000").unwrap().milli(), Quantity::MAX_MILLI);
        for bad in [
            "1000000000001",
            "-9223372036854775808",
            "9223372036854775807",
        ] {
            let err = read(bad).unwrap_err();
            assert!(err.contains("is out of range"), "{bad}: {err}");
        }
        assert_eq!(serde_json::to_string(&Quantity::whole(2)).unwrap(), "2000");
    }

    #[test]
    fn extending_a_price_rounds_half_up() {
        assert_eq!(extend(199, Quantity::whole(3)).unwrap(), 597);
        // 1.235 kg at 4.99/kg = 6.16265 → 6.16
        assert_eq!(extend(499, Quantity::from_milli(1235)).unwrap(), 616);
        // 0.5 kg at 0.01/kg = 0.005 → 0.01
        assert_eq!(extend(1, Quantity::from_milli(500)).unwrap(), 1);
        assert_eq!(
            extend(i64::MAX, Quantity::whole(2)),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn amounts_parse_and_format_with_the_currency_decimals() {
        assert_eq!(parse_amount("12.5", 2).unwrap(), 1250);
        assert_eq!(parse_amount("12", 2).unwrap(), 1200);
        assert_eq!(parse_amount("0.05", 2).unwrap(), 5);
        assert!(parse_amount("12.555", 2).is_err());
        assert!(parse_amount("-1", 2).is_err());
        assert!(parse_amount("92233720368547758.07", 2).is_err());
        assert_eq!(parse_amount("100000000000", 2).unwrap(), MAX_TYPED_MINOR);
        assert!(parse_amount("100000000000.01", 2).is_err());
        assert_eq!(format_amount(1250, 2), "12.50");
        assert_eq!(format_amount(-5, 2), "-0.05");
        assert_eq!(format_amount(7, 0), "7");
    }

    #[test]
    fn exchange_rates_are_exact_decimals() {
        let rate = ExchangeRate::parse("26.80").unwrap();
        assert_eq!(rate.to_string(), "26.80");
        // USD 10.00 → ZWG 268.00
        assert_eq!(rate.convert(1000, 2, 2, Rounding::HalfUp).unwrap(), 26_800);
        // USD 0.01 → ZWG 0.268: half-up 0.27, down 0.26, up 0.27
        assert_eq!(rate.convert(1, 2, 2, Rounding::HalfUp).unwrap(), 27);
        assert_eq!(rate.convert(1, 2, 2, Rounding::Down).unwrap(), 26);
        // ZWG 100.00 → USD 3.731343… → 3.73 (half-up), 3.74 (up)
        assert_eq!(
            rate.convert_back(10_000, 2, 2, Rounding::HalfUp).unwrap(),
            373
        );
        assert_eq!(rate.convert_back(10_000, 2, 2, Rounding::Up).unwrap(), 374);
        // A currency with no decimals: USD 1.00 at 3600 → 3600 units.
        let ugx = ExchangeRate::parse("3600").unwrap();
        assert_eq!(ugx.convert(100, 2, 0, Rounding::HalfUp).unwrap(), 3600);
        for bad in ["0", "-1", "1.123456789", "abc", "", "1e2"] {
            assert!(ExchangeRate::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn allocation_sums_to_the_total_and_follows_the_weights() {
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(allocate(10, &[300, 100]), vec![8, 2]);
        assert_eq!(allocate(-7, &[1, 1]), vec![-4, -3]);
        assert_eq!(allocate(5, &[0, 0]), vec![5, 0]);
        assert_eq!(allocate(0, &[3, 9]), vec![0, 0]);
        for (total, weights) in [
            (999, vec![1, 2, 3, 4]),
            (1, vec![7, 7, 7]),
            (12345, vec![1, 100_000, 3]),
        ] {
            let parts = allocate(total, &weights);
            assert_eq!(parts.iter().sum::<i64>(), total);
        }
    }
}
