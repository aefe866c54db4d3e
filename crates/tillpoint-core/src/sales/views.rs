//! What the window is shown of selling: plain values, camelCase for the UI, no secrets.

use serde::Serialize;
use tillpoint_protocol::money::{format_amount, Unit};
use tillpoint_protocol::sales::TenderMethod;
use tillpoint_protocol::tax::VatBand;

use super::cart::{Cart, Discount, PricedCart};
use crate::catalog::CurrencyOption;

/// A discount as the window shows and sends it: `{kind: "amount" | "percent", value}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct DiscountInput {
    pub kind: String,
    pub value: String,
}

impl DiscountInput {
    pub fn of(discount: Discount, minor_units: u32) -> Self {
        match discount {
            Discount::Amount(minor) => Self {
                kind: "amount".into(),
                value: format_amount(minor, minor_units),
            },
            Discount::Percent(bp) => Self {
                kind: "percent".into(),
                value: format_amount(i64::from(bp), 2)
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_owned(),
            },
        }
    }
}

/// One VAT rate's line, as the cart and receipts show it.
pub use tillpoint_receipt::ReceiptVat as VatBandView;

fn band_view(band: &VatBand) -> VatBandView {
    VatBandView {
        label: band.rate.label(),
        gross_minor: band.gross_minor,
        vat_minor: band.vat_minor,
        net_minor: band.net_minor,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct CartLineView {
    pub line_id: u32,
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub unit: Unit,
    pub quantity: String,
    pub unit_price_minor: i64,
    pub list_price_minor: i64,
    pub price_overridden: bool,
    pub line_discount: Option<DiscountInput>,
    pub line_discount_minor: i64,
    pub cart_discount_minor: i64,
    pub total_minor: i64,
    pub tax_label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct CartView {
    pub lines: Vec<CartLineView>,
    pub currency: String,
    pub minor_units: u32,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub total_minor: i64,
    pub vat: Vec<VatBandView>,
    pub vat_total_minor: i64,
    pub cart_discount: Option<DiscountInput>,
    pub item_count: String,
}

impl CartView {
    pub(crate) fn of(cart: &Cart, priced: &PricedCart, currency: &str, minor_units: u32) -> Self {
        let lines = cart
            .lines
            .iter()
            .zip(&priced.lines)
            .map(|(line, p)| CartLineView {
                line_id: line.line_id,
                product_id: line.product.id.to_string(),
                sku: line.product.sku.clone(),
                name: line.product.name.clone(),
                unit: line.product.unit,
                quantity: line.quantity.to_string(),
                unit_price_minor: line.unit_price(),
                list_price_minor: line.product.price_minor,
                price_overridden: line.price.is_some(),
                line_discount: line.discount.map(|d| DiscountInput::of(d, minor_units)),
                line_discount_minor: p.line_discount_minor,
                cart_discount_minor: p.cart_discount_minor,
                total_minor: p.total_minor,
                tax_label: line.product.tax.label(),
            })
            .collect();
        let items: i64 = cart.lines.iter().map(|l| l.quantity.milli()).sum();
        Self {
            lines,
            currency: currency.to_owned(),
            minor_units,
            subtotal_minor: priced.subtotal_minor,
            discount_minor: priced.discount_minor,
            total_minor: priced.total_minor,
            vat: priced.vat.iter().map(band_view).collect(),
            vat_total_minor: priced.vat_total_minor,
            cart_discount: cart.discount.map(|d| DiscountInput::of(d, minor_units)),
            item_count: tillpoint_protocol::money::Quantity::from_milli(items).to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct TillSessionInfo {
    pub id: String,
    pub opened_at: String,
    pub opened_by_name: String,
}

impl TillSessionInfo {
    pub(crate) fn uuid(&self) -> Result<uuid::Uuid, super::SaleError> {
        self.id
            .parse()
            .map_err(|_| super::SaleError::Store(format!("till session id {:?}", self.id)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct ParkedCartInfo {
    pub id: String,
    pub label: String,
    pub parked_at: String,
    pub parked_by_name: String,
    pub line_count: u32,
    pub total_minor: i64,
    pub currency: String,
    pub minor_units: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct PosState {
    pub till_session: Option<TillSessionInfo>,
    pub cart: CartView,
    pub parked: Vec<ParkedCartInfo>,
    pub currencies: Vec<CurrencyOption>,
    pub shop_name: Option<String>,
    pub can_discount: bool,
    pub can_override_price: bool,
    pub can_refund: bool,
    /// Whether a sale may be made now, how, and if not why not.
    pub selling: super::SellingStatus,
}

/// A payment as the window sends it (amount as typed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct PaymentRequest {
    pub method: TenderMethod,
    pub currency: String,
    pub amount: String,
    #[serde(default)]
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct DueIn {
    pub currency: String,
    pub minor_units: u32,
    pub amount_minor: i64,
    pub rate: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct TenderView {
    pub currency: String,
    pub minor_units: u32,
    pub total_minor: i64,
    pub paid_minor: i64,
    pub remaining_minor: i64,
    pub change_minor: i64,
    pub change_currency: String,
    pub change_minor_units: u32,
    pub due_in: Vec<DueIn>,
    pub complete: bool,
}

/// A receipt ready to show and (if a printer is set up) printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct PrintedReceipt {
    pub receipt: tillpoint_receipt::Receipt,
    pub html: String,
    pub printed: bool,
    pub print_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct SaleListItem {
    pub sale_id: String,
    pub receipt_no: String,
    pub kind: String,
    pub created_at: String,
    pub cashier_name: String,
    pub total_minor: i64,
    pub currency: String,
    pub minor_units: u32,
    pub refundable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct SaleDetailLine {
    pub line_no: u32,
    pub name: String,
    pub unit: Unit,
    pub quantity: String,
    pub refundable_quantity: String,
    pub total_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct SaleDetail {
    pub sale: SaleListItem,
    pub lines: Vec<SaleDetailLine>,
}
