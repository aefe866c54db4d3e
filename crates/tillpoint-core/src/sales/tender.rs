//! Tender: whether the payments handed over settle a sale, and the change due.
//!
//! Payments may be in any currency the till has a rate for; each is weighed against the
//! amount due as an exact fraction of the sale currency's minor units, never rounded first,
//! so paying the amount shown in another currency always settles the sale and the change is
//! exact until the one final rounding (down: a till never hands out more than is owed). Only
//! cash can be more than what is due: a card or mobile-money payment is for the amount due.

use serde::Serialize;
use tillpoint_protocol::money::{divide, to_minor, ExchangeRate, Rounding};
use tillpoint_protocol::sales::TenderMethod;
use tillpoint_protocol::CurrencyCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenderError {
    #[error("a payment must be more than 0")]
    NotPositive,
    #[error("a {0} payment cannot be more than what is still due; only cash gets change")]
    NonCashOverpaid(&'static str),
    #[error("the payments do not cover the total yet: {remaining_minor} (minor units of {currency}) is still due")]
    Short {
        currency: CurrencyCode,
        remaining_minor: i64,
    },
    #[error("change can only be given in a currency taken by this till")]
    NoChangeCurrency,
    #[error("this till takes no payments in that currency")]
    UnknownCurrency,
    #[error("the amounts are too large to weigh against each other")]
    Overflow,
    #[error("a {0} payment needs its reference (the slip or transaction number)")]
    NeedsReference(&'static str),
}

/// A currency as tender needs it: its decimals and its conversion from the sale currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenderCurrency {
    pub code: CurrencyCode,
    pub minor_units: u32,
    /// The rate as stored, and which currency is its base.
    pub rate: ExchangeRate,
    pub rate_base: CurrencyCode,
}

impl TenderCurrency {
    /// Units of this currency per unit of the sale currency, as a person reads it: `26.80`,
    /// or `1/26.80` when the organisation states the pair the other way round.
    pub fn rate_text(&self, sale: CurrencyCode) -> String {
        crate::catalog::rate_text(self.code, self.rate, self.rate_base, sale)
    }

    /// Minor units of this currency per minor unit of the sale currency, exactly.
    fn per_sale_minor(&self, sale: CurrencyCode, sale_units: u32) -> (i128, i128) {
        let (num, den) = match self.rate.as_fraction() {
            _ if self.code == sale => (1, 1),
            (num, den) if self.rate_base == sale => (num, den),
            (num, den) => (den, num),
        };
        let (num, den) = (
            num * 10_i128.pow(self.minor_units),
            den * 10_i128.pow(sale_units),
        );
        reduce(num, den)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentInput {
    pub method: TenderMethod,
    pub currency: CurrencyCode,
    pub amount_minor: i64,
    pub reference: Option<String>,
}

/// What the payments come to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settlement {
    /// What each payment counts for in the sale currency (rounded half up; for records).
    #[serde(skip)]
    pub values_minor: Vec<i64>,
    /// What all payments count for, in the sale currency (rounded down).
    pub paid_minor: i64,
    /// Still due in the sale currency (rounded up), 0 once covered.
    pub remaining_minor: i64,
    /// Change due in the change currency (rounded down).
    pub change_minor: i64,
    pub complete: bool,
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

fn reduce(num: i128, den: i128) -> (i128, i128) {
    let g = gcd(num, den);
    (num / g, den / g)
}

/// `a + b` as fractions, reduced; `None` on overflow.
fn add((an, ad): (i128, i128), (bn, bd): (i128, i128)) -> Option<(i128, i128)> {
    let num = an.checked_mul(bd)?.checked_add(bn.checked_mul(ad)?)?;
    Some(reduce(num, ad.checked_mul(bd)?))
}

/// Weighs `payments` against `total_minor` of `sale` (with `sale_units` decimals).
/// `currencies` must hold every payment's currency and `change_in`.
pub fn settle(
    sale: CurrencyCode,
    sale_units: u32,
    total_minor: i64,
    payments: &[PaymentInput],
    currencies: &[TenderCurrency],
    change_in: CurrencyCode,
) -> Result<Settlement, TenderError> {
    let find = |code: CurrencyCode| currencies.iter().find(|c| c.code == code);
    let mut paid = (0_i128, 1_i128);
    let mut non_cash = (0_i128, 1_i128);
    let mut values = Vec::with_capacity(payments.len());
    for payment in payments {
        if payment.amount_minor <= 0 {
            return Err(TenderError::NotPositive);
        }
        let currency = find(payment.currency).ok_or(TenderError::UnknownCurrency)?;
        let (per_num, per_den) = currency.per_sale_minor(sale, sale_units);
        // amount / per = amount × per_den / per_num minor units of the sale currency.
        let value = reduce(
            i128::from(payment.amount_minor)
                .checked_mul(per_den)
                .ok_or(TenderError::Overflow)?,
            per_num,
        );
        values.push(
            to_minor(divide(value.0, value.1, Rounding::HalfUp))
                .map_err(|_| TenderError::Overflow)?,
        );
        paid = add(paid, value).ok_or(TenderError::Overflow)?;
        if payment.method != TenderMethod::Cash {
            if payment
                .reference
                .as_deref()
                .is_none_or(|r| r.trim().is_empty())
            {
                return Err(TenderError::NeedsReference(payment.method.label()));
            }
            non_cash = add(non_cash, value).ok_or(TenderError::Overflow)?;
            // The amount asked in another currency is rounded up, so a card may go over by
            // less than one minor unit of its own currency; anything more needs cash.
            let over = add(non_cash, (-i128::from(total_minor), 1)).ok_or(TenderError::Overflow)?;
            let over_times_per = over.0.checked_mul(per_num).ok_or(TenderError::Overflow)?;
            if over.0 > 0
                && over_times_per >= over.1.checked_mul(per_den).ok_or(TenderError::Overflow)?
            {
                return Err(TenderError::NonCashOverpaid(payment.method.label()));
            }
        }
    }
    let excess = add(paid, (-i128::from(total_minor), 1)).ok_or(TenderError::Overflow)?;
    let change_currency = find(change_in).ok_or(TenderError::NoChangeCurrency)?;
    let (remaining, change) = if excess.0 >= 0 {
        let (per_num, per_den) = change_currency.per_sale_minor(sale, sale_units);
        let change = divide(
            excess.0.checked_mul(per_num).ok_or(TenderError::Overflow)?,
            excess.1.checked_mul(per_den).ok_or(TenderError::Overflow)?,
            Rounding::Down,
        );
        (0, to_minor(change).map_err(|_| TenderError::Overflow)?)
    } else {
        (
            to_minor(divide(-excess.0, excess.1, Rounding::Up))
                .map_err(|_| TenderError::Overflow)?,
            0,
        )
    };
    Ok(Settlement {
        values_minor: values,
        paid_minor: to_minor(divide(paid.0, paid.1, Rounding::Down))
            .map_err(|_| TenderError::Overflow)?,
        remaining_minor: remaining,
        change_minor: change,
        complete: excess.0 >= 0,
    })
}

/// `amount_minor` of the sale currency in `currency`, rounded up: what to ask for.
pub fn due_in(
    sale: CurrencyCode,
    sale_units: u32,
    amount_minor: i64,
    currency: &TenderCurrency,
) -> i64 {
    let (num, den) = currency.per_sale_minor(sale, sale_units);
    to_minor(divide(i128::from(amount_minor) * num, den, Rounding::Up)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> CurrencyCode {
        CurrencyCode::parse("USD").unwrap()
    }
    fn zwg() -> CurrencyCode {
        CurrencyCode::parse("ZWG").unwrap()
    }

    fn currencies() -> Vec<TenderCurrency> {
        vec![
            TenderCurrency {
                code: usd(),
                minor_units: 2,
                rate: ExchangeRate::ONE,
                rate_base: usd(),
            },
            TenderCurrency {
                code: zwg(),
                minor_units: 2,
                rate: ExchangeRate::parse("26.80").unwrap(),
                rate_base: usd(),
            },
        ]
    }

    fn cash(currency: CurrencyCode, amount_minor: i64) -> PaymentInput {
        PaymentInput {
            method: TenderMethod::Cash,
            currency,
            amount_minor,
            reference: None,
        }
    }

    #[test]
    fn cash_in_the_sale_currency_with_change_in_it() {
        let s = settle(usd(), 2, 1234, &[cash(usd(), 2000)], &currencies(), usd()).unwrap();
        assert!(s.complete);
        assert_eq!(
            (s.paid_minor, s.remaining_minor, s.change_minor),
            (2000, 0, 766)
        );
    }

    /// USD 12.34 paid with USD 20: change USD 7.66 = ZWG 205.288 → ZWG 205.28 (down).
    #[test]
    fn change_in_another_currency_rounds_down() {
        let s = settle(usd(), 2, 1234, &[cash(usd(), 2000)], &currencies(), zwg()).unwrap();
        assert_eq!(s.change_minor, 20_528);
    }

    /// USD 10.00 paid with ZWG 300.00: exactly ZWG 32.00 change, not 31.89 from rounding
    /// the tender to USD first.
    #[test]
    fn foreign_cash_change_is_exact() {
        let s = settle(usd(), 2, 1000, &[cash(zwg(), 30_000)], &currencies(), zwg()).unwrap();
        assert_eq!(s.change_minor, 3_200);
        assert_eq!(s.values_minor, vec![1119]);
    }

    #[test]
    fn paying_the_amount_shown_in_another_currency_always_settles() {
        let zwg_currency = currencies()[1];
        for total in [1, 7, 99, 1234, 100_001, 3_333_333] {
            let ask = due_in(usd(), 2, total, &zwg_currency);
            let s = settle(usd(), 2, total, &[cash(zwg(), ask)], &currencies(), zwg()).unwrap();
            assert!(s.complete, "total {total}: asked {ask}");
            assert!(
                s.change_minor < 27,
                "total {total}: change {}",
                s.change_minor
            );
            let short = settle(
                usd(),
                2,
                total,
                &[cash(zwg(), ask - 1)],
                &currencies(),
                zwg(),
            );
            assert!(
                !short.unwrap().complete,
                "total {total}: one less must not settle"
            );
        }
    }

    #[test]
    fn split_across_currencies_and_methods() {
        let card = PaymentInput {
            method: TenderMethod::Card,
            currency: usd(),
            amount_minor: 500,
            reference: Some("AUTH 1234".into()),
        };
        let payments = [card.clone(), cash(zwg(), 10_000)];
        // USD 10.00 due: 5.00 by card, ZWG 100.00 = 3.7313… → 1.2687 still due → 1.27.
        let s = settle(usd(), 2, 1000, &payments, &currencies(), usd()).unwrap();
        assert!(!s.complete);
        assert_eq!(s.remaining_minor, 127);
        assert_eq!(s.paid_minor, 873);
        let payments = [card, cash(zwg(), 20_000)];
        let s = settle(usd(), 2, 1000, &payments, &currencies(), usd()).unwrap();
        assert!(s.complete);
        // 5.00 + 7.4626… − 10.00 = 2.4626… → USD 2.46 change.
        assert_eq!(s.change_minor, 246);
    }

    #[test]
    fn only_cash_gets_change_and_non_cash_needs_a_reference() {
        let card = |amount, reference: Option<&str>| PaymentInput {
            method: TenderMethod::Card,
            currency: usd(),
            amount_minor: amount,
            reference: reference.map(str::to_owned),
        };
        assert_eq!(
            settle(
                usd(),
                2,
                1000,
                &[card(1001, Some("x"))],
                &currencies(),
                usd()
            ),
            Err(TenderError::NonCashOverpaid("Card"))
        );
        assert_eq!(
            settle(usd(), 2, 1000, &[card(1000, None)], &currencies(), usd()),
            Err(TenderError::NeedsReference("Card"))
        );
        // USD 0.99 is asked as ZWG 26.54 (26.532 rounded up): a card for exactly that settles,
        // one ZWG cent more does not.
        let zwg_card = |amount| PaymentInput {
            method: TenderMethod::Card,
            currency: zwg(),
            amount_minor: amount,
            reference: Some("x".into()),
        };
        let asked = due_in(usd(), 2, 99, &currencies()[1]);
        assert_eq!(asked, 2654);
        assert!(
            settle(usd(), 2, 99, &[zwg_card(asked)], &currencies(), usd())
                .unwrap()
                .complete
        );
        assert_eq!(
            settle(usd(), 2, 99, &[zwg_card(asked + 1)], &currencies(), usd()),
            Err(TenderError::NonCashOverpaid("Card"))
        );
        assert_eq!(
            settle(usd(), 2, 1000, &[cash(usd(), 0)], &currencies(), usd()),
            Err(TenderError::NotPositive)
        );
        let unknown = CurrencyCode::parse("GBP").unwrap();
        assert!(settle(usd(), 2, 1000, &[cash(unknown, 100)], &currencies(), usd()).is_err());
    }

    #[test]
    fn a_sale_in_the_quote_currency_uses_the_rate_inverted_exactly() {
        // ZWG 268.00 due, paid USD 10.00 at 1 USD = 26.80 ZWG: exactly settled, no change.
        let for_zwg = [
            TenderCurrency {
                code: zwg(),
                minor_units: 2,
                rate: ExchangeRate::ONE,
                rate_base: zwg(),
            },
            TenderCurrency {
                code: usd(),
                minor_units: 2,
                rate: ExchangeRate::parse("26.80").unwrap(),
                rate_base: usd(),
            },
        ];
        let s = settle(zwg(), 2, 26_800, &[cash(usd(), 1000)], &for_zwg, zwg()).unwrap();
        assert!(s.complete);
        assert_eq!(s.change_minor, 0);
        assert_eq!(s.values_minor, vec![26_800]);
    }
}
