//! Money and VAT arithmetic (`tillpoint_protocol::money`, `tillpoint_protocol::tax`) against a
//! model written here: exact rationals in `i128` (checked where the model itself could
//! overflow), with rounding worked out from floor division rather than from the magnitude as
//! the real code does, and decimal text read digit by digit.
//!
//! The input is a sequence of operations: an operation byte, then the bytes its arguments
//! are read from (missing bytes read as zero). Every number is drawn from the range the
//! protocol lets a till send (`tillpoint_protocol::bounds`: amounts ±10^17, quantities
//! ±10^12 thousandths, rates 0-10,000 bp; 0-4 minor units, as the currencies table allows),
//! because that is what the server meets; the real code panicking or overflowing on any of
//! them is a finding.
//!
//! What must hold: each result equals the model's, or is `TooLarge` exactly when the model's
//! does not fit in `i64`; parsing and formatting round-trip; an allocation adds up to its
//! total with each part within one unit of its exact share; a VAT breakdown's bands add up to
//! the lines and each band's lines' shares add up to the band's VAT.

use tillpoint_protocol::bounds::{MAX_AMOUNT_MINOR, MAX_RATE_BP};
use tillpoint_protocol::money::{
    allocate, divide, extend, format_amount, parse_amount, parse_decimal, ExchangeRate, MoneyError,
    Quantity, Rounding, MAX_TYPED_MINOR,
};
use tillpoint_protocol::tax::{bands_of_lines, vat_breakdown, vat_included, TaxCode, TaxRate};

/// Reads arguments from the fuzzer's bytes; past the end, zeros.
struct Args<'a>(&'a [u8]);

impl Args<'_> {
    fn byte(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }
    fn i64(&mut self) -> i64 {
        let mut bytes = [0; 8];
        for b in &mut bytes {
            *b = self.byte();
        }
        i64::from_le_bytes(bytes)
    }
    /// In ±`max`, reaching both ends often.
    fn within(&mut self, max: i64) -> i64 {
        let raw = self.i64();
        match raw.rem_euclid(8) {
            0 => max,
            1 => -max,
            _ => raw % (max + 1),
        }
    }
    fn amount(&mut self) -> i64 {
        self.within(MAX_AMOUNT_MINOR)
    }
    fn units(&mut self) -> u32 {
        u32::from(self.byte() % 5)
    }
    fn rounding(&mut self) -> Rounding {
        match self.byte() % 3 {
            0 => Rounding::HalfUp,
            1 => Rounding::Down,
            _ => Rounding::Up,
        }
    }
    fn rate(&mut self) -> TaxRate {
        let code = match self.byte() % 3 {
            0 => TaxCode::Standard,
            1 => TaxCode::ZeroRated,
            _ => TaxCode::Exempt,
        };
        let rate_bp = match code {
            TaxCode::Standard => (self.i64().unsigned_abs() % u64::from(MAX_RATE_BP + 1)) as u32,
            _ => 0,
        };
        TaxRate { code, rate_bp }
    }
    /// Short text over the characters decimals are made of, and some that they are not.
    fn text(&mut self) -> String {
        let len = self.byte() % 40;
        (0..len)
            .map(|_| match self.byte() {
                b @ 0..=199 => char::from(b'0' + b % 10),
                200..=219 => '.',
                220..=224 => ' ',
                225..=229 => '-',
                230..=234 => '+',
                235..=239 => 'e',
                240..=244 => ',',
                b => char::from(b),
            })
            .collect()
    }
}

/// `n / d` (d > 0) rounded as `mode` says, from floor division.
fn model_divide(n: i128, d: i128, mode: Rounding) -> i128 {
    assert!(d > 0);
    let (q, r) = (n.div_euclid(d), n.rem_euclid(d));
    let up = |cond: bool| q + i128::from(cond);
    match (mode, n >= 0) {
        (Rounding::Down, true) => q,
        (Rounding::Down, false) => up(r != 0),
        (Rounding::Up, true) => up(r != 0),
        (Rounding::Up, false) => q,
        // Half away from zero: a positive half goes up, a negative half goes down.
        (Rounding::HalfUp, true) => up(2 * r >= d),
        (Rounding::HalfUp, false) => up(2 * r > d),
    }
}

fn fits(value: i128) -> Result<i64, MoneyError> {
    i64::try_from(value).map_err(|_| MoneyError::TooLarge)
}

/// A non-negative decimal with at most `decimals` places and at most 20 whole digits, scaled
/// by 10^decimals.
fn model_decimal(text: &str, decimals: u32) -> Option<i128> {
    let (whole, fraction) = match text.find('.') {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 20
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > decimals as usize
        || text.ends_with('.')
    {
        return None;
    }
    let mut value: i128 = 0;
    let padded = format!("{whole}{fraction:0<width$}", width = decimals as usize);
    for c in padded.chars() {
        value = value
            .checked_mul(10)?
            .checked_add(i128::from(c as u8 - b'0'))?;
    }
    Some(value)
}

fn check_extend(a: &mut Args) {
    let price = a.amount();
    let quantity = Quantity::from_milli(a.within(Quantity::MAX_MILLI));
    let exact = i128::from(price) * i128::from(quantity.milli());
    let expected = fits(model_divide(exact, 1000, Rounding::HalfUp));
    assert_eq!(extend(price, quantity), expected, "{price} x {quantity}");
}

fn check_divide(a: &mut Args) {
    let n = i128::from(a.i64()) * i128::from(a.i64());
    let d = i128::from(a.i64().unsigned_abs().max(1));
    let mode = a.rounding();
    assert_eq!(
        divide(n, d, mode),
        model_divide(n, d, mode),
        "{n} / {d} {mode:?}"
    );
}

fn check_decimal(a: &mut Args) {
    let text = a.text();
    let decimals = u32::from(a.byte() % 9);
    assert_eq!(
        parse_decimal(&text, decimals),
        model_decimal(&text, decimals),
        "{text:?} with {decimals}"
    );
    let units = a.units();
    let expected = model_decimal(text.trim(), units)
        .and_then(|v| i64::try_from(v).ok())
        .filter(|v| *v <= MAX_TYPED_MINOR);
    assert_eq!(
        parse_amount(&text, units).ok(),
        expected,
        "{text:?} as an amount"
    );
    let minor = a.amount();
    let shown = format_amount(minor, units);
    let magnitude = shown.strip_prefix('-').unwrap_or(&shown);
    assert_eq!(
        model_decimal(magnitude, units),
        Some(i128::from(minor).abs()),
        "{shown}"
    );
    assert_eq!(shown.starts_with('-'), minor < 0, "{shown}");
    if let Ok(quantity) = Quantity::parse(&text) {
        let again = Quantity::parse(&quantity.to_string()).expect("a shown quantity parses");
        assert_eq!(again, quantity, "{text:?}");
    }
}

fn check_rate(a: &mut Args) {
    let text = a.text();
    let parsed = ExchangeRate::parse(&text);
    let trimmed = text.trim();
    let decimals = trimmed.find('.').map_or(0, |at| trimmed.len() - at - 1);
    let model = (decimals <= 8)
        .then(|| model_decimal(trimmed, decimals as u32))
        .flatten()
        .filter(|m| *m > 0);
    assert_eq!(parsed.is_ok(), model.is_some(), "{text:?}: {parsed:?}");
    let Ok(rate) = parsed else { return };
    let (num, den) = rate.as_fraction();
    assert_eq!(num, model.expect("accepted"));
    assert_eq!(den, 10_i128.pow(decimals as u32));
    assert_eq!(
        ExchangeRate::parse(&rate.to_string()),
        Ok(rate),
        "{rate} reads back"
    );

    let amount = a.amount();
    let (from, to) = (a.units(), a.units());
    let mode = a.rounding();
    // amount × rate, from `from` decimals to `to`: amount·num·10^to / (den·10^from).
    let expected = i128::from(amount)
        .checked_mul(num)
        .and_then(|v| v.checked_mul(10_i128.pow(to)))
        .map_or(Err(MoneyError::TooLarge), |n| {
            fits(model_divide(n, den * 10_i128.pow(from), mode))
        });
    assert_eq!(
        rate.convert(amount, from, to, mode),
        expected,
        "{amount} at {rate}"
    );
    let expected = fits(model_divide(
        i128::from(amount) * den * 10_i128.pow(to),
        num * 10_i128.pow(from),
        mode,
    ));
    assert_eq!(
        rate.convert_back(amount, from, to, mode),
        expected,
        "{amount} back at {rate}"
    );
}

fn check_vat(a: &mut Args) {
    let gross = a.amount();
    let rate = a.rate();
    let r = i128::from(rate.rate_bp);
    let expected = model_divide(i128::from(gross) * r, 10_000 + r, Rounding::HalfUp);
    assert_eq!(
        i128::from(vat_included(gross, rate.rate_bp)),
        expected,
        "{gross} at {r}"
    );
}

fn check_allocate(a: &mut Args) {
    let total = a.amount();
    let count = usize::from(a.byte() % 12);
    // One sign, as `allocate` asks (line amounts of one sale, or of one refund).
    let negative = a.byte() % 2 == 1;
    let weights: Vec<i64> = (0..count)
        .map(|_| {
            let w = a.amount().abs();
            if negative {
                -w
            } else {
                w
            }
        })
        .collect();
    let parts = allocate(total, &weights);
    assert_eq!(parts.len(), weights.len());
    if weights.is_empty() {
        return;
    }
    let sum_parts: i128 = parts.iter().map(|p| i128::from(*p)).sum();
    assert_eq!(
        sum_parts,
        i128::from(total),
        "{total} over {weights:?}: {parts:?}"
    );
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if sum != 0 {
        for (part, weight) in parts.iter().zip(&weights) {
            // |part - total·weight/sum| < 1, in integers.
            let off = (i128::from(*part) * sum - i128::from(total) * i128::from(*weight)).abs();
            assert!(off < sum.abs(), "{total} over {weights:?}: {parts:?}");
        }
    }
}

/// A sale's lines (all charged ≥ 0, adding up to at most the largest amount, as
/// `sale_checks` makes sure before it asks for the VAT) through `vat_breakdown`; a refund's
/// lines with VAT shares (each ≤ 0, adding up to at most the largest amount, as
/// `sale_checks` makes sure) through `bands_of_lines`.
fn check_breakdown(a: &mut Args) {
    let count = usize::from(a.byte() % 120);
    let refund = a.byte() % 2 == 1;
    let (mut room, mut vat_room) = (i128::from(MAX_AMOUNT_MINOR), i128::from(MAX_AMOUNT_MINOR));
    let mut lines: Vec<(TaxRate, i64, i64)> = Vec::with_capacity(count);
    for _ in 0..count {
        let rate = a.rate();
        let gross = i64::try_from(i128::from(a.amount().abs()).min(room)).expect("in range");
        room -= i128::from(gross);
        let vat = i64::try_from(i128::from(a.amount().abs()).min(vat_room)).expect("in range");
        vat_room -= i128::from(vat);
        let vat = -vat;
        lines.push((rate, if refund { -gross } else { gross }, vat));
    }
    let in_bands = |rate: TaxRate| -> Vec<usize> {
        (0..lines.len()).filter(|i| lines[*i].0 == rate).collect()
    };
    if refund {
        let bands = bands_of_lines(&lines);
        for band in &bands {
            let members = in_bands(band.rate);
            let gross: i128 = members.iter().map(|i| i128::from(lines[*i].1)).sum();
            let vat: i128 = members.iter().map(|i| i128::from(lines[*i].2)).sum();
            assert_eq!(i128::from(band.gross_minor), gross);
            assert_eq!(i128::from(band.vat_minor), vat);
            assert_eq!(i128::from(band.net_minor), gross - vat);
        }
        assert!(bands.windows(2).all(|w| w[0].rate < w[1].rate));
        return;
    }
    let charged: Vec<(TaxRate, i64)> = lines.iter().map(|(r, g, _)| (*r, *g)).collect();
    let (bands, shares) = vat_breakdown(&charged);
    assert_eq!(shares.len(), lines.len());
    for band in &bands {
        let members = in_bands(band.rate);
        assert!(!members.is_empty(), "a band for a rate no line has");
        let gross: i64 = members.iter().map(|i| lines[*i].1).sum();
        assert_eq!(band.gross_minor, gross);
        assert_eq!(band.vat_minor, vat_included(gross, band.rate.rate_bp));
        assert_eq!(band.net_minor, band.gross_minor - band.vat_minor);
        let shared: i64 = members.iter().map(|i| shares[*i]).sum();
        assert_eq!(shared, band.vat_minor, "shares of {:?}", band.rate);
    }
    assert!(
        bands.windows(2).all(|w| w[0].rate < w[1].rate),
        "bands in rate order, once each"
    );
    assert_eq!(
        bands.iter().map(|b| b.gross_minor).sum::<i64>(),
        charged.iter().map(|l| l.1).sum::<i64>()
    );
}

pub fn money_tax(data: &[u8]) {
    let mut args = Args(data);
    // Bounded, so a long input is many operations, not a slow one.
    for _ in 0..64 {
        if args.0.is_empty() {
            break;
        }
        match args.byte() % 7 {
            0 => check_extend(&mut args),
            1 => check_divide(&mut args),
            2 => check_decimal(&mut args),
            3 => check_rate(&mut args),
            4 => check_vat(&mut args),
            5 => check_allocate(&mut args),
            _ => check_breakdown(&mut args),
        }
    }
}
