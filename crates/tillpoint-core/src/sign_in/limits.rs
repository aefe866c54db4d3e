//! The offline grant's money limits, per currency: the largest sale, the largest discount on
//! one sale, and the most sold offline in all under that grant. Online, the server's rules
//! apply and these do not. Checkout calls [`check_sale`] and [`record_offline_sale`] inside the sale's own
//! transaction, so the running total can never
//! disagree with the sales.

use rusqlite::{Connection, OptionalExtension};
use tillpoint_protocol::auth::GrantLimits;
use tillpoint_protocol::CurrencyCode;

use super::session::SignInError;
use crate::till::Till;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("offline, you may not sell in {0}: your offline access sets no limit for it")]
    CurrencyNotAllowed(CurrencyCode),
    #[error("offline, one sale may be at most {limit} (minor units of {currency}); this one is {amount}")]
    SaleTooLarge {
        currency: CurrencyCode,
        amount: i64,
        limit: i64,
    },
    #[error("offline, a discount may be at most {limit} (minor units of {currency}); this one is {amount}")]
    DiscountTooLarge {
        currency: CurrencyCode,
        amount: i64,
        limit: i64,
    },
    #[error("offline, what was sold under your offline access in {0} was changed outside Tillpoint; sell online (sign in with the server) to continue")]
    TotalTampered(CurrencyCode),
    #[error("offline, you may sell at most {limit} in {currency} in all; {sold} is sold already")]
    OfflineTotalReached {
        currency: CurrencyCode,
        sold: i64,
        limit: i64,
    },
}

/// What has been sold offline under `grant_jti` in `currency`. A total whose seal does not
/// verify ([`crate::seal`]) was edited outside Tillpoint: refused, never read as less.
pub fn sold_offline(
    conn: &Connection,
    grant_jti: &str,
    currency: CurrencyCode,
) -> Result<i64, SignInError> {
    let row: Option<(i64, Option<bool>)> = conn
        .prepare_cached(
            "SELECT total_minor, seal = till_seal('offline_totals', grant_jti, currency, total_minor)
               FROM offline_totals WHERE grant_jti = ?1 AND currency = ?2",
        )?
        .query_row((grant_jti, currency.as_str()), |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        None => Ok(0),
        Some((total, Some(true))) => Ok(total),
        Some(_) => Err(LimitError::TotalTampered(currency).into()),
    }
}

/// Adds a sale to its grant's running total. Call it in the sale's transaction, after
/// [`check_sale`] (which refuses a total whose seal does not verify).
pub fn record_offline_sale(
    conn: &Connection,
    grant_jti: &str,
    currency: CurrencyCode,
    amount_minor: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO offline_totals (grant_jti, currency, total_minor, seal)
         VALUES (?1, ?2, ?3, till_seal('offline_totals', ?1, ?2, ?3))
         ON CONFLICT (grant_jti, currency) DO UPDATE SET total_minor = total_minor + ?3,
             seal = till_seal('offline_totals', grant_jti, currency, total_minor + ?3)",
    )?
    .execute((grant_jti, currency.as_str(), amount_minor))?;
    Ok(())
}

/// Checks a discount (or a hand-set price below list) of `reduction_minor` against the
/// grant's limit for `currency`.
pub fn check_discount(
    limits: &GrantLimits,
    currency: CurrencyCode,
    reduction_minor: i64,
) -> Result<(), LimitError> {
    let limit = limits
        .get(&currency)
        .ok_or(LimitError::CurrencyNotAllowed(currency))?;
    if reduction_minor > limit.max_discount {
        return Err(LimitError::DiscountTooLarge {
            currency,
            amount: reduction_minor,
            limit: limit.max_discount,
        });
    }
    Ok(())
}

/// Checks a sale of `total_minor` with `reduction_minor` off against the grant's limits,
/// including what was already sold under it. Call it in the sale's transaction, before
/// [`record_offline_sale`].
pub fn check_sale(
    conn: &Connection,
    limits: &GrantLimits,
    grant_jti: &str,
    currency: CurrencyCode,
    total_minor: i64,
    reduction_minor: i64,
) -> Result<(), SignInError> {
    let limit = limits
        .get(&currency)
        .ok_or(LimitError::CurrencyNotAllowed(currency))?;
    if total_minor > limit.max_sale {
        return Err(LimitError::SaleTooLarge {
            currency,
            amount: total_minor,
            limit: limit.max_sale,
        }
        .into());
    }
    check_discount(limits, currency, reduction_minor)?;
    let sold = sold_offline(conn, grant_jti, currency)?;
    if sold.saturating_add(total_minor) > limit.max_offline_total {
        return Err(LimitError::OfflineTotalReached {
            currency,
            sold,
            limit: limit.max_offline_total,
        }
        .into());
    }
    Ok(())
}

impl Till {
    /// Whether the signed-in person may make a sale of `total_minor` with `discount_minor`
    /// off, in `currency`, now. Also checks they may sell at all (`pos:sales:create`).
    /// Returns the grant's `jti` when the grant governs (the sale carries it and records its
    /// total) — decided as [`Till::check`] decides it for the sale itself.
    pub fn check_offline_sale(
        &self,
        currency: CurrencyCode,
        total_minor: i64,
        discount_minor: i64,
    ) -> Result<Option<String>, SignInError> {
        let acting =
            self.check(&tillpoint_protocol::permission::Operation::Sell.required_permission())?;
        let Some(jti) = acting.grant_jti() else {
            return Ok(None);
        };
        let conn = self
            .store()
            .conn()
            .map_err(|e| SignInError::Store(e.to_string()))?;
        check_sale(
            &conn,
            &acting.session.grant().limits,
            &jti,
            currency,
            total_minor,
            discount_minor,
        )?;
        Ok(Some(jti))
    }
}
