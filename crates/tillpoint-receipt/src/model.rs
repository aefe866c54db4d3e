//! What a receipt says. Amounts are minor units with their currency's decimals, formatted
//! only when rendered.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub enum ReceiptKind {
    Sale,
    Refund,
}

/// An amount of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct Amount {
    pub currency: String,
    pub minor_units: u32,
    pub minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct ReceiptLine {
    pub name: String,
    /// As printed: `2`, `1.235 kg`.
    pub quantity: String,
    /// Per unit, in the sale's currency.
    pub unit_price_minor: i64,
    /// Discounts on this line (its own and its share of the cart's), positive.
    pub discount_minor: i64,
    /// What the line was charged, after discounts.
    pub total_minor: i64,
    /// The VAT rate as printed: `15%`, `0%`, `exempt`.
    pub tax_label: String,
    /// Set when the price was changed by hand from the list price.
    pub price_overridden: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct ReceiptVat {
    pub label: String,
    pub gross_minor: i64,
    pub vat_minor: i64,
    pub net_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct ReceiptPayment {
    /// `Cash`, `Card`, `Mobile money`.
    pub method: String,
    /// What was handed over, in its own currency.
    pub amount: Amount,
    /// Set when the tender's currency is not the sale's: e.g. `1 USD = 26.80 ZWG`.
    pub rate: Option<String>,
    /// Card or mobile-money reference.
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct Receipt {
    pub kind: ReceiptKind,
    pub shop_name: String,
    /// The shop's location (branch) name, if known.
    pub location: Option<String>,
    pub tax_number: Option<String>,
    /// Device prefix and sequence, e.g. `7F3A09C2-000123`.
    pub receipt_no: String,
    /// On a refund: the number of the sale it refunds.
    pub refund_of: Option<String>,
    /// The reason given for a refund.
    pub reason: Option<String>,
    /// Local date and time as printed: `2026-11-27 14:03`.
    pub date: String,
    pub cashier: String,
    /// The sale's currency and its decimals; every `_minor` below is in it.
    pub currency: String,
    pub minor_units: u32,
    pub lines: Vec<ReceiptLine>,
    /// Before discounts.
    pub subtotal_minor: i64,
    /// All discounts, positive.
    pub discount_minor: i64,
    pub total_minor: i64,
    pub vat: Vec<ReceiptVat>,
    pub vat_total_minor: i64,
    pub payments: Vec<ReceiptPayment>,
    pub change: Option<Amount>,
    /// Set when change is given in another currency than the sale's: `1 USD = 26.80 ZWG`.
    pub change_rate: Option<String>,
    /// Derived from the sale's journal hash: 16 hex characters in groups of 4.
    pub verification_code: String,
    /// A copy printed again, marked so it cannot pass for a second sale.
    pub reprint: bool,
}
