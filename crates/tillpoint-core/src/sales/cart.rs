//! The cart being rung up, and how it is priced. Pure: no store, no clock, no permissions
//! (the till checks those before it changes a cart). Pricing is one function,
//! [`Cart::price`], used for the screen, the limit checks and the sale written at checkout,
//! so what the cashier saw is what is charged.

use serde::{Deserialize, Serialize};
use tillpoint_protocol::money::{allocate, divide, extend, parse_amount, Quantity, Rounding};
use tillpoint_protocol::tax::{vat_breakdown, VatBand};
use tillpoint_protocol::CurrencyCode;

use crate::catalog::Product;

/// The most of one thing a line may hold: a typo guard, not a business rule.
pub const MAX_QUANTITY: Quantity = Quantity::whole(100_000);
/// The most one line may come to, and the most lines a cart may hold: with these, no sum
/// over a cart can overflow (1,000 × 10^13 < 2^63).
pub const MAX_LINE_MINOR: i64 = 10_000_000_000_000;
pub const MAX_LINES: usize = 1_000;

/// Price × quantity, refused beyond [`MAX_LINE_MINOR`].
fn line_amount(unit_price: i64, quantity: Quantity) -> Result<i64, CartError> {
    extend(unit_price, quantity)
        .ok()
        .filter(|amount| (0..=MAX_LINE_MINOR).contains(amount))
        .ok_or(CartError::TooLarge)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("{0} is sold in whole units")]
    WholeUnitsOnly(String),
    #[error("a quantity must be more than 0 and at most 100000")]
    QuantityOutOfRange,
    #[error("{name} is priced in {product}, but this sale is in {sale}: a sale has one currency")]
    OtherCurrency {
        name: String,
        product: CurrencyCode,
        sale: CurrencyCode,
    },
    #[error("the cart has no line {0}")]
    NoSuchLine(u32),
    #[error("a discount is an amount or a percentage from 0 to 100, got {0:?}")]
    BadDiscount(String),
    #[error("a discount cannot be more than what it applies to")]
    DiscountTooLarge,
    #[error("{0:?} is not a price")]
    BadPrice(String),
    #[error("the sale is too large")]
    TooLarge,
}

/// A discount as the cashier typed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "minor", rename_all = "lowercase")]
pub enum Discount {
    /// Minor units off.
    Amount(i64),
    /// Basis points off (1000 = 10 %).
    Percent(u32),
}

impl Discount {
    /// Parses `{kind: amount|percent, value}` as typed, amounts in a currency with
    /// `minor_units` decimals.
    pub fn parse(kind: &str, value: &str, minor_units: u32) -> Result<Self, CartError> {
        let bad = || CartError::BadDiscount(value.to_owned());
        match kind {
            "amount" => parse_amount(value, minor_units)
                .map(Self::Amount)
                .map_err(|_| bad()),
            "percent" => tillpoint_protocol::money::parse_decimal(value.trim(), 2)
                .filter(|bp| *bp <= 10_000)
                .map(|bp| Self::Percent(bp as u32))
                .ok_or_else(bad),
            _ => Err(bad()),
        }
    }

    /// What it takes off `base`, never more than `base`.
    fn off(self, base: i64) -> Result<i64, CartError> {
        let off = match self {
            Self::Amount(minor) => minor,
            Self::Percent(bp) => {
                divide(i128::from(base) * i128::from(bp), 10_000, Rounding::HalfUp) as i64
            }
        };
        if off > base {
            return Err(CartError::DiscountTooLarge);
        }
        Ok(off)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub line_id: u32,
    pub product: Product,
    pub quantity: Quantity,
    /// A price set by hand (or read from an in-store price label) instead of the list price.
    pub price: Option<i64>,
    /// Whether `price` came from a label, which needs no permission.
    #[serde(default)]
    pub price_from_label: bool,
    pub discount: Option<Discount>,
}

impl CartLine {
    pub fn unit_price(&self) -> i64 {
        self.price.unwrap_or(self.product.price_minor)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    next_line_id: u32,
    pub lines: Vec<CartLine>,
    pub discount: Option<Discount>,
}

/// One line, priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    pub gross_minor: i64,
    pub line_discount_minor: i64,
    pub cart_discount_minor: i64,
    pub total_minor: i64,
    pub vat_minor: i64,
    /// What a price below the list price takes off, counted as a discount for limits.
    pub markdown_minor: i64,
}

/// A cart, priced: everything the screen, the limits and the sale need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedCart {
    pub currency: Option<CurrencyCode>,
    pub lines: Vec<PricedLine>,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub total_minor: i64,
    pub vat: Vec<VatBand>,
    pub vat_total_minor: i64,
    /// Discounts plus every price below the list price (hand-set or from a label): what the
    /// grant's discount limit is checked against.
    pub reduction_minor: i64,
    /// Discounts plus hand-set prices below the list price: what only someone holding the
    /// discount permission may sell (checked again at checkout, whoever gave them).
    pub manual_reduction_minor: i64,
}

impl Cart {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The sale's currency: its products'.
    pub fn currency(&self) -> Option<CurrencyCode> {
        self.lines.first().map(|l| l.product.currency)
    }

    /// Adds `quantity` of `product`. Scanning the same thing again adds to its line, unless
    /// the line has a price or discount of its own (or the new one does).
    pub fn add(
        &mut self,
        product: Product,
        quantity: Quantity,
        label_price: Option<i64>,
    ) -> Result<u32, CartError> {
        check_quantity(&product, quantity)?;
        if let Some(sale) = self.currency() {
            if product.currency != sale {
                return Err(CartError::OtherCurrency {
                    name: product.name,
                    product: product.currency,
                    sale,
                });
            }
        }
        if label_price.is_none() && product.unit == tillpoint_protocol::money::Unit::Each {
            if let Some(line) = self
                .lines
                .iter_mut()
                .find(|l| l.product.id == product.id && l.price.is_none() && l.discount.is_none())
            {
                let total = Quantity::from_milli(line.quantity.milli() + quantity.milli());
                check_quantity(&line.product, total)?;
                line.quantity = total;
                return Ok(line.line_id);
            }
        }
        if self.lines.len() >= MAX_LINES {
            return Err(CartError::TooLarge);
        }
        self.next_line_id += 1;
        self.lines.push(CartLine {
            line_id: self.next_line_id,
            product,
            quantity,
            price: label_price,
            price_from_label: label_price.is_some(),
            discount: None,
        });
        Ok(self.next_line_id)
    }

    pub fn line_mut(&mut self, line_id: u32) -> Result<&mut CartLine, CartError> {
        self.lines
            .iter_mut()
            .find(|l| l.line_id == line_id)
            .ok_or(CartError::NoSuchLine(line_id))
    }

    pub fn set_quantity(&mut self, line_id: u32, quantity: Quantity) -> Result<(), CartError> {
        let line = self.line_mut(line_id)?;
        check_quantity(&line.product, quantity)?;
        line.quantity = quantity;
        Ok(())
    }

    pub fn remove(&mut self, line_id: u32) -> Result<(), CartError> {
        let before = self.lines.len();
        self.lines.retain(|l| l.line_id != line_id);
        if self.lines.len() == before {
            return Err(CartError::NoSuchLine(line_id));
        }
        if self.lines.is_empty() {
            self.discount = None;
        }
        Ok(())
    }

    /// Prices every line and the cart. Line discounts come off each line; the cart discount
    /// is then shared over the lines by what they cost (largest remainder), so each line's
    /// VAT is on what was really charged for it.
    pub fn price(&self) -> Result<PricedCart, CartError> {
        let mut lines = Vec::with_capacity(self.lines.len());
        let (mut markdown_total, mut manual_markdown) = (0_i64, 0_i64);
        for line in &self.lines {
            let gross = line_amount(line.unit_price(), line.quantity)?;
            let line_discount = match line.discount {
                Some(discount) => discount.off(gross)?,
                None => 0,
            };
            let list_gross = line_amount(line.product.price_minor, line.quantity)?;
            let markdown = (list_gross - gross).max(0);
            markdown_total += markdown;
            if !line.price_from_label {
                manual_markdown += markdown;
            }
            lines.push(PricedLine {
                gross_minor: gross,
                line_discount_minor: line_discount,
                cart_discount_minor: 0,
                total_minor: gross - line_discount,
                vat_minor: 0,
                markdown_minor: markdown,
            });
        }
        let after_lines: i64 = lines.iter().map(|l| l.total_minor).sum();
        let cart_discount = match self.discount {
            Some(discount) => discount.off(after_lines)?,
            None => 0,
        };
        let weights: Vec<i64> = lines.iter().map(|l| l.total_minor).collect();
        for (line, share) in lines.iter_mut().zip(allocate(cart_discount, &weights)) {
            line.cart_discount_minor = share;
            line.total_minor -= share;
        }
        let charged: Vec<_> = self
            .lines
            .iter()
            .zip(&lines)
            .map(|(line, priced)| (line.product.tax, priced.total_minor))
            .collect();
        let (vat, shares) = vat_breakdown(&charged);
        for (line, share) in lines.iter_mut().zip(shares) {
            line.vat_minor = share;
        }
        let subtotal: i64 = lines.iter().map(|l| l.gross_minor).sum();
        let total: i64 = lines.iter().map(|l| l.total_minor).sum();
        let discount = subtotal - total;
        Ok(PricedCart {
            currency: self.currency(),
            subtotal_minor: subtotal,
            discount_minor: discount,
            total_minor: total,
            vat_total_minor: vat.iter().map(|b| b.vat_minor).sum(),
            vat,
            reduction_minor: discount + markdown_total,
            manual_reduction_minor: discount + manual_markdown,
            lines,
        })
    }
}

fn check_quantity(product: &Product, quantity: Quantity) -> Result<(), CartError> {
    if quantity <= Quantity::ZERO || quantity > MAX_QUANTITY {
        return Err(CartError::QuantityOutOfRange);
    }
    if !product.unit.allows(quantity) {
        return Err(CartError::WholeUnitsOnly(product.name.clone()));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tillpoint_protocol::money::Unit;
    use tillpoint_protocol::tax::{TaxCode, TaxRate};

    pub(crate) fn product(n: u128, price: i64, code: TaxCode, unit: Unit) -> Product {
        Product {
            id: tillpoint_protocol::ProductId::from_uuid(uuid::Uuid::from_u128(n)),
            sku: format!("SKU{n}"),
            name: format!("Product {n}"),
            unit,
            price_minor: price,
            currency: CurrencyCode::parse("USD").unwrap(),
            tax: TaxRate {
                code,
                rate_bp: if code == TaxCode::Standard { 1500 } else { 0 },
            },
            barcode: None,
        }
    }

    fn each(n: u128, price: i64, code: TaxCode) -> Product {
        product(n, price, code, Unit::Each)
    }

    #[test]
    fn scanning_the_same_item_twice_adds_to_its_line() {
        let mut cart = Cart::default();
        let a = cart
            .add(each(1, 199, TaxCode::Standard), Quantity::ONE, None)
            .unwrap();
        let b = cart
            .add(each(1, 199, TaxCode::Standard), Quantity::ONE, None)
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(cart.lines.len(), 1);
        assert_eq!(cart.price().unwrap().total_minor, 398);
    }

    #[test]
    fn quantities_respect_the_unit() {
        let mut cart = Cart::default();
        let err = cart
            .add(
                each(1, 100, TaxCode::Standard),
                Quantity::from_milli(1500),
                None,
            )
            .unwrap_err();
        assert!(matches!(err, CartError::WholeUnitsOnly(_)));
        let kg = product(2, 499, TaxCode::ZeroRated, Unit::Kg);
        let line = cart.add(kg, Quantity::from_milli(1235), None).unwrap();
        assert_eq!(cart.price().unwrap().total_minor, 616);
        assert_eq!(
            cart.set_quantity(line, Quantity::ZERO),
            Err(CartError::QuantityOutOfRange)
        );
    }

    /// Tax and rounding table: mixed rates, a line discount and a cart discount.
    #[test]
    fn mixed_rates_with_line_and_cart_discounts() {
        let mut cart = Cart::default();
        let bread = cart
            .add(each(1, 1000, TaxCode::Standard), Quantity::whole(2), None)
            .unwrap();
        cart.add(each(2, 500, TaxCode::ZeroRated), Quantity::ONE, None)
            .unwrap();
        cart.add(each(3, 333, TaxCode::Exempt), Quantity::whole(3), None)
            .unwrap();
        cart.line_mut(bread).unwrap().discount = Some(Discount::Percent(1000));
        cart.discount = Some(Discount::Amount(100));
        let priced = cart.price().unwrap();
        // Gross 2000 + 500 + 999 = 3499; line discount 200 → 3299; cart discount 100 shared
        // 1800:500:999 → 55, 15, 30 (largest remainder).
        assert_eq!(priced.subtotal_minor, 3499);
        let shares: Vec<i64> = priced.lines.iter().map(|l| l.cart_discount_minor).collect();
        assert_eq!(shares, vec![55, 15, 30]);
        assert_eq!(priced.total_minor, 3199);
        assert_eq!(priced.discount_minor, 300);
        // VAT 15 % on 1745 → 227.61 → 228; zero-rated and exempt carry none.
        assert_eq!(priced.vat.len(), 3);
        assert_eq!(priced.vat[0].gross_minor, 1745);
        assert_eq!(priced.vat[0].vat_minor, 228);
        assert_eq!(priced.vat_total_minor, 228);
        assert_eq!(priced.lines[0].vat_minor, 228);
        assert_eq!(priced.reduction_minor, 300);
    }

    #[test]
    fn every_price_below_list_counts_against_the_limit_but_only_hand_set_ones_need_permission() {
        let mut cart = Cart::default();
        let line = cart
            .add(each(1, 1000, TaxCode::Standard), Quantity::whole(2), None)
            .unwrap();
        cart.line_mut(line).unwrap().price = Some(900);
        let priced = cart.price().unwrap();
        assert_eq!(
            (priced.reduction_minor, priced.manual_reduction_minor),
            (200, 200)
        );
        cart.add(each(2, 1000, TaxCode::Standard), Quantity::ONE, Some(450))
            .unwrap();
        let priced = cart.price().unwrap();
        assert_eq!(
            priced.reduction_minor,
            200 + 550,
            "the label's markdown counts"
        );
        assert_eq!(
            priced.manual_reduction_minor, 200,
            "but needs no permission"
        );
        assert_eq!(priced.total_minor, 1800 + 450);
    }

    #[test]
    fn discounts_cannot_exceed_what_they_apply_to() {
        let mut cart = Cart::default();
        let line = cart
            .add(each(1, 100, TaxCode::Standard), Quantity::ONE, None)
            .unwrap();
        cart.line_mut(line).unwrap().discount = Some(Discount::Amount(101));
        assert_eq!(cart.price(), Err(CartError::DiscountTooLarge));
        cart.line_mut(line).unwrap().discount = Some(Discount::Percent(10_000));
        assert_eq!(cart.price().unwrap().total_minor, 0);
        assert!(Discount::parse("percent", "100.01", 2).is_err());
        assert_eq!(
            Discount::parse("percent", "12.5", 2),
            Ok(Discount::Percent(1250))
        );
        assert_eq!(
            Discount::parse("amount", "1.5", 2),
            Ok(Discount::Amount(150))
        );
        assert!(Discount::parse("amount", "-1", 2).is_err());
        assert!(Discount::parse("bogus", "1", 2).is_err());
    }

    #[test]
    fn a_sale_has_one_currency() {
        let mut cart = Cart::default();
        cart.add(each(1, 100, TaxCode::Standard), Quantity::ONE, None)
            .unwrap();
        let mut zwg = each(2, 100, TaxCode::Standard);
        zwg.currency = CurrencyCode::parse("ZWG").unwrap();
        assert!(matches!(
            cart.add(zwg, Quantity::ONE, None),
            Err(CartError::OtherCurrency { .. })
        ));
    }
}
