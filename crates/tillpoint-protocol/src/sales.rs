//! The payloads of the journal's sale, refund and till-session records: what a till tells the
//! server happened. Amounts are minor units of the named currency; quantities are
//! thousandths; a refund's quantities and amounts are negative.

use serde::{Deserialize, Serialize};

use crate::money::{ExchangeRate, Quantity, Unit};
use crate::tax::{TaxRate, VatBand};
use crate::{CurrencyCode, ProductId, UserId};

/// How a customer paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub enum TenderMethod {
    Cash,
    Card,
    MobileMoney,
}

impl TenderMethod {
    pub const ALL: [Self; 3] = [Self::Cash, Self::Card, Self::MobileMoney];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cash => "cash",
            Self::Card => "card",
            Self::MobileMoney => "mobile_money",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// As printed on a receipt.
    pub fn label(self) -> &'static str {
        match self {
            Self::Cash => "Cash",
            Self::Card => "Card",
            Self::MobileMoney => "Mobile money",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    pub line_no: u32,
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    pub unit: Unit,
    pub quantity: Quantity,
    /// The price charged per unit (tax-inclusive) and the list price the till had then.
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub unit_price_minor: i64,
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub list_price_minor: i64,
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub line_discount_minor: i64,
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub cart_discount_minor: i64,
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub total_minor: i64,
    pub tax: TaxRate,
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub vat_minor: i64,
    /// On a refund: the original sale's line, and whether the goods went back on the shelf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_of_line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restock: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub method: TenderMethod,
    pub currency: CurrencyCode,
    /// What was handed over (negative: paid out on a refund), in `currency`.
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub amount_minor: i64,
    /// The exchange rate captured at the sale: one `rate_base` is `rate` of the other of
    /// (`currency`, the sale's currency). `1` with the sale's currency when they are the same.
    pub rate: ExchangeRate,
    pub rate_base: CurrencyCode,
    /// What it counted for, in the sale's currency.
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub value_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A sale or a refund (the record's kind says which).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalePayload {
    pub sale_id: uuid::Uuid,
    pub receipt_no: String,
    pub till_session_id: uuid::Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<uuid::Uuid>,
    pub currency: CurrencyCode,
    pub lines: Vec<SaleLine>,
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub subtotal_minor: i64,
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub discount_minor: i64,
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub total_minor: i64,
    pub vat: Vec<VatBand>,
    pub payments: Vec<Payment>,
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub change_minor: i64,
    pub change_currency: CurrencyCode,
    /// The rate the change was worked out at, as captured (see [`Payment::rate`]).
    pub change_rate: ExchangeRate,
    pub change_rate_base: CurrencyCode,
    /// Refunds: the sale refunded, why, and who approved it when the cashier could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_of: Option<uuid::Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<UserId>,
    /// The offline grant the approver's approval was checked against on the till (its
    /// `jti`): the server checks it was issued to the approver for this device, covered
    /// refunds and was in force at the record's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_grant_jti: Option<String>,
}

/// Cash counted into or out of a till, per currency and tender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TillCount {
    pub currency: CurrencyCode,
    pub tender: TenderMethod,
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub amount_minor: i64,
}

/// A till session opened (with its float) or closed (with the cash-up and what was expected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TillSessionPayload {
    pub till_session_id: uuid::Uuid,
    pub counts: Vec<TillCount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected: Vec<TillCount>,
}
