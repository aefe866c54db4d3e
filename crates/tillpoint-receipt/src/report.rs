//! What a till-session report says: an X report (the figures so far) or a Z report (the
//! session closed, with the cash-up). Amounts are minor units of the named currency.

use serde::Serialize;
use tillpoint_protocol::sales::TenderMethod;

use crate::model::ReceiptVat;

/// One tender of one currency: what should be there, and what was counted at closing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct TenderLine {
    pub method: TenderMethod,
    pub expected_minor: i64,
    pub counted_minor: Option<i64>,
    /// Counted − expected: positive is over, negative short.
    pub over_short_minor: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct CurrencyReport {
    pub currency: String,
    pub minor_units: u32,
    pub float_minor: i64,
    pub sales_minor: i64,
    /// Refunded, as a positive amount.
    pub refunds_minor: i64,
    pub discounts_minor: i64,
    /// Sales less refunds.
    pub net_minor: i64,
    pub vat: Vec<ReceiptVat>,
    pub tenders: Vec<TenderLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct CashierTotal {
    pub currency: String,
    pub minor_units: u32,
    pub amount_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct CashierReport {
    pub name: String,
    pub sales_count: i64,
    /// Net of refunds, per currency.
    pub totals: Vec<CashierTotal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub enum ReportKind {
    /// Mid-session: nothing is closed.
    X,
    /// The session closed.
    Z,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct SessionReport {
    pub kind: ReportKind,
    pub session_id: String,
    pub shop_name: Option<String>,
    /// Local times as printed.
    pub opened_at: String,
    pub opened_by_name: String,
    pub closed_at: Option<String>,
    pub closed_by_name: Option<String>,
    /// When the report was produced (local time as printed).
    pub printed_at: String,
    pub sales_count: i64,
    pub refunds_count: i64,
    pub currencies: Vec<CurrencyReport>,
    pub cashiers: Vec<CashierReport>,
}
