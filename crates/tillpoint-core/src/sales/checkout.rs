//! Ringing a sale up and taking payment for it.

use rusqlite::{Connection, TransactionBehavior};
use tillpoint_protocol::journal::RecordKind;
use tillpoint_protocol::money::{parse_amount, Quantity};
use tillpoint_protocol::sales::{Payment, SaleLine, SalePayload, TenderMethod};
use tillpoint_protocol::CurrencyCode;
use uuid::Uuid;

use super::cart::{Cart, Discount, PricedCart};
use super::selling;
use super::tender::{self, PaymentInput, Settlement, TenderCurrency};
use super::till_session::{self, add_total};
use super::views::*;
use super::{load_cart, now, save_cart, SaleError, DISCOUNT, SELL};
use crate::catalog::{self, LabelValue, ProductHit, SEARCH_LIMIT};
use crate::journal::{self, Author};
use crate::sign_in::limits;
use crate::sign_in::session::SignInError;
use crate::stock;
use crate::till::Till;

/// What the window asks checkout to do.
#[derive(Debug, Clone)]
pub struct CheckoutInput {
    pub payments: Vec<PaymentRequest>,
    pub change_currency: String,
}

/// A sale written: its ids and its receipt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct SaleDone {
    pub sale_id: String,
    pub receipt_no: String,
    #[serde(flatten)]
    pub printed: PrintedReceipt,
}

/// The currency a sale is in: its products', else the organisation's.
pub(crate) fn sale_currency(conn: &Connection, cart: &Cart) -> Result<CurrencyCode, SaleError> {
    if let Some(currency) = cart.currency() {
        return Ok(currency);
    }
    let base: Option<String> = rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT base_currency FROM organisation WHERE singleton = 1",
        [],
        |r| r.get(0),
    ))?;
    base.and_then(|b| CurrencyCode::parse(&b).ok())
        .ok_or_else(selling::no_catalog)
}

fn cart_view(conn: &Connection, cart: &Cart) -> Result<(CartView, PricedCart), SaleError> {
    let priced = cart.price()?;
    let (currency, units) = match sale_currency(conn, cart) {
        Ok(currency) => (currency.to_string(), catalog::minor_units(conn, currency)?),
        // An empty cart on a till that has not synced yet: nothing to price.
        Err(_) if cart.is_empty() => (String::new(), 2),
        Err(err) => return Err(err),
    };
    Ok((CartView::of(cart, &priced, &currency, units), priced))
}

/// The currencies this till takes at `at`, as the selling screen lists them (the sale's own
/// first): those with a rate to the sale's currency — `cart`'s, else the organisation's.
/// None before the catalog has arrived.
pub(crate) fn till_currencies(
    conn: &Connection,
    cart: &Cart,
    at: &str,
) -> Result<Vec<catalog::CurrencyOption>, SaleError> {
    Ok(match sale_currency(conn, cart) {
        Ok(sale) => catalog::currency_options(conn, sale, at)?,
        Err(_) => Vec::new(),
    })
}

/// [`till_currencies`] for the cart on the till. A cart that cannot be read any more is
/// priced as the empty one would be: in the organisation's currency.
pub(crate) fn till_currencies_now(
    conn: &Connection,
    at: &str,
) -> Result<Vec<catalog::CurrencyOption>, SaleError> {
    let cart = load_cart(conn).unwrap_or_default();
    till_currencies(conn, &cart, at)
}

/// The tender currencies a sale in `sale` may be paid in, at `at`.
pub(crate) fn tender_currencies(
    conn: &Connection,
    sale: CurrencyCode,
    at: &str,
) -> Result<Vec<TenderCurrency>, SaleError> {
    Ok(catalog::taken_currencies(conn, sale, at)?
        .into_iter()
        .map(|taken| TenderCurrency {
            code: taken.code,
            minor_units: taken.minor_units,
            rate: taken.rate,
            rate_base: taken.rate_base,
        })
        .collect())
}

fn parse_payments(
    requests: &[PaymentRequest],
    currencies: &[TenderCurrency],
) -> Result<Vec<PaymentInput>, SaleError> {
    requests
        .iter()
        .map(|request| {
            let currency = CurrencyCode::parse(&request.currency)
                .ok()
                .and_then(|code| currencies.iter().find(|c| c.code == code))
                .ok_or_else(|| {
                    SaleError::InvalidInput(format!(
                        "this till takes no payments in {:?}",
                        request.currency
                    ))
                })?;
            let amount_minor = parse_amount(&request.amount, currency.minor_units)
                .map_err(|e| SaleError::InvalidInput(e.to_string()))?;
            let reference = request
                .reference
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| r.chars().take(64).collect());
            Ok(PaymentInput {
                method: request.method,
                currency: currency.code,
                amount_minor,
                reference,
            })
        })
        .collect()
}

fn change_currency(text: &str, currencies: &[TenderCurrency]) -> Result<CurrencyCode, SaleError> {
    CurrencyCode::parse(text)
        .ok()
        .filter(|code| currencies.iter().any(|c| c.code == *code))
        .ok_or_else(|| SaleError::InvalidInput(format!("change cannot be given in {text:?}")))
}

impl Till {
    /// Everything the selling screen shows.
    pub fn pos_state(&self) -> Result<PosState, SaleError> {
        self.seller()?;
        let (can_discount, can_refund) = (self.may(DISCOUNT), self.may(super::REFUND));
        let conn = self.sales_conn()?;
        let time = super::till_time(&conn)?;
        let cart = load_cart(&conn)?;
        let (view, _) = cart_view(&conn, &cart)?;
        let currencies = till_currencies(&conn, &cart, &super::timestamp(time))?;
        let selling = self.selling_status_with(Ok(()), &conn, time, &currencies)?;
        let shop_name = rusqlite::OptionalExtension::optional(conn.query_row(
            "SELECT name FROM organisation WHERE singleton = 1",
            [],
            |r| r.get(0),
        ))?;
        Ok(PosState {
            till_session: till_session::open_session(&conn)?,
            cart: view,
            parked: super::parked::list(&conn)?,
            currencies,
            shop_name,
            can_discount,
            can_override_price: can_discount,
            can_refund,
            selling,
        })
    }

    /// Name/SKU search for the product finder.
    pub fn find_products(&self, query: &str) -> Result<Vec<ProductHit>, SaleError> {
        self.author(SELL)?;
        self.product_hits(query)
    }

    /// Name/SKU search, whatever the permission that allowed it.
    pub(crate) fn product_hits(&self, query: &str) -> Result<Vec<ProductHit>, SaleError> {
        let conn = self.sales_conn()?;
        catalog::search(&conn, query, SEARCH_LIMIT)?
            .into_iter()
            .map(|p| {
                Ok(ProductHit {
                    minor_units: catalog::minor_units(&conn, p.currency)?,
                    tax_label: p.tax.label(),
                    product_id: p.id,
                    sku: p.sku,
                    name: p.name,
                    unit: p.unit,
                    price_minor: p.price_minor,
                    currency: p.currency,
                    barcode: p.barcode,
                })
            })
            .collect()
    }

    /// Changes the cart with `change` after checking `permission_text`, saves it, and
    /// returns it priced. A change that would leave the cart unpriceable is refused whole.
    fn change_cart(
        &self,
        permission_text: &str,
        change: impl FnOnce(&Connection, &mut Cart) -> Result<(), SaleError>,
    ) -> Result<CartView, SaleError> {
        let author = self.author(permission_text)?;
        let limit_check = self.offline_discount_limit(&author)?;
        let conn = self.sales_conn()?;
        let mut cart = load_cart(&conn)?;
        change(&conn, &mut cart)?;
        let (view, priced) = cart_view(&conn, &cart)?;
        if let (Some(limit), Some(currency)) = (limit_check, priced.currency) {
            limits::check_discount(&limit, currency, priced.reduction_minor)?;
        }
        save_cart(&conn, &cart)?;
        Ok(view)
    }

    /// The grant's limits when offline, for checking a cart's discounts as they are given.
    fn offline_discount_limit(
        &self,
        author: &Author,
    ) -> Result<Option<tillpoint_protocol::auth::GrantLimits>, SaleError> {
        Ok(author.grant_jti.as_ref().and_then(|_| {
            self.active_session()
                .as_ref()
                .map(|session| session.grant().limits.clone())
        }))
    }

    /// Adds what a scanned barcode names: an exact match, or an in-store scale label.
    pub fn scan_barcode(&self, code: &str) -> Result<CartView, SaleError> {
        self.change_cart(SELL, |conn, cart| {
            let scanned = catalog::scan(conn, code)?;
            let (quantity, label_price) = match scanned.label {
                None => (Quantity::ONE, None),
                Some(LabelValue::Weight(weight)) => (weight, None),
                Some(LabelValue::Price(price)) => (Quantity::ONE, Some(price)),
            };
            cart.add(scanned.product, quantity, label_price)?;
            Ok(())
        })
    }

    pub fn cart_add(
        &self,
        product_id: &str,
        quantity: Option<&str>,
    ) -> Result<CartView, SaleError> {
        let quantity = match quantity {
            Some(text) => {
                Quantity::parse(text).map_err(|e| SaleError::InvalidInput(e.to_string()))?
            }
            None => Quantity::ONE,
        };
        self.change_cart(SELL, |conn, cart| {
            let product = catalog::product_by_id(conn, product_id)?;
            cart.add(product, quantity, None)?;
            Ok(())
        })
    }

    pub fn cart_set_quantity(&self, line_id: u32, quantity: &str) -> Result<CartView, SaleError> {
        let quantity =
            Quantity::parse(quantity).map_err(|e| SaleError::InvalidInput(e.to_string()))?;
        self.change_cart(SELL, |_, cart| Ok(cart.set_quantity(line_id, quantity)?))
    }

    pub fn cart_remove_line(&self, line_id: u32) -> Result<CartView, SaleError> {
        self.change_cart(SELL, |_, cart| Ok(cart.remove(line_id)?))
    }

    /// Voids the sale being rung up (nothing was charged, so nothing is journaled).
    pub fn cart_void(&self) -> Result<CartView, SaleError> {
        self.author(SELL)?;
        let conn = self.sales_conn()?;
        // Straight to empty, without reading the cart: a cart that cannot be read any more
        // (a currency removed by sync, a damaged row) can still be voided.
        save_cart(&conn, &Cart::default())?;
        Ok(cart_view(&conn, &Cart::default())?.0)
    }

    pub fn cart_set_line_discount(
        &self,
        line_id: u32,
        discount: Option<&DiscountInput>,
    ) -> Result<CartView, SaleError> {
        self.change_cart(DISCOUNT, |conn, cart| {
            let discount = parse_discount(conn, cart, discount)?;
            cart.line_mut(line_id)?.discount = discount;
            Ok(())
        })
    }

    pub fn cart_set_discount(
        &self,
        discount: Option<&DiscountInput>,
    ) -> Result<CartView, SaleError> {
        self.change_cart(DISCOUNT, |conn, cart| {
            if cart.is_empty() {
                return Err(SaleError::CartEmpty);
            }
            cart.discount = parse_discount(conn, cart, discount)?;
            Ok(())
        })
    }

    /// Sets a line's price by hand (`None` restores the list price). Needs the discount
    /// permission; a price below the list price counts against the offline discount limit.
    pub fn cart_set_price(&self, line_id: u32, price: Option<&str>) -> Result<CartView, SaleError> {
        self.change_cart(DISCOUNT, |conn, cart| {
            let currency = super::checkout::sale_currency(conn, cart)?;
            let units = catalog::minor_units(conn, currency)?;
            let price = price
                .map(|p| parse_amount(p, units).map_err(|e| SaleError::InvalidInput(e.to_string())))
                .transpose()?;
            let line = cart.line_mut(line_id)?;
            line.price = price;
            line.price_from_label = false;
            Ok(())
        })
    }

    /// What the payments so far come to: still due, change, the amount due in each currency.
    pub fn tender_preview(&self, input: &CheckoutInput) -> Result<TenderView, SaleError> {
        self.author(SELL)?;
        let conn = self.sales_conn()?;
        let cart = load_cart(&conn)?;
        let tendered = tender_cart(&conn, &cart, input, &now(&conn)?)?;
        Ok(tender_view(&tendered))
    }

    /// Takes payment for the cart and writes the sale: one transaction for the sale, its
    /// lines, payments, stock movements, session totals, journal entry and outbox row (and,
    /// offline, the grant's running total). Then prints the receipt if a printer is set up.
    pub async fn checkout(&self, input: &CheckoutInput) -> Result<SaleDone, SaleError> {
        let author = self.seller()?;
        let grant = self.offline_discount_limit(&author)?;
        let may_discount = self.may(DISCOUNT);
        let (sale_id, receipt_no) = {
            let mut conn = self.sales_conn()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let written = write_sale(&tx, &author, grant.as_ref(), may_discount, input)?;
            tx.commit()?;
            written
        };
        tracing::info!(%receipt_no, "sale written");
        let printed = self.issue_receipt(&sale_id).await?;
        Ok(SaleDone {
            sale_id,
            receipt_no,
            printed,
        })
    }
}

fn parse_discount(
    conn: &Connection,
    cart: &Cart,
    discount: Option<&DiscountInput>,
) -> Result<Option<Discount>, SaleError> {
    let Some(discount) = discount else {
        return Ok(None);
    };
    let units = catalog::minor_units(conn, sale_currency(conn, cart)?)?;
    Ok(Some(Discount::parse(
        &discount.kind,
        &discount.value,
        units,
    )?))
}

/// A cart weighed against the payments offered for it, at the rates in force.
struct Tendered {
    priced: PricedCart,
    sale: CurrencyCode,
    units: u32,
    currencies: Vec<TenderCurrency>,
    payments: Vec<PaymentInput>,
    change_in: CurrencyCode,
    settlement: Settlement,
}

/// Prices `cart` and settles `input`'s payments against it: the one path the preview and
/// checkout share, so what the cashier saw is what is written.
fn tender_cart(
    conn: &Connection,
    cart: &Cart,
    input: &CheckoutInput,
    at: &str,
) -> Result<Tendered, SaleError> {
    let priced = cart.price()?;
    let sale = sale_currency(conn, cart)?;
    let units = catalog::minor_units(conn, sale)?;
    let currencies = tender_currencies(conn, sale, at)?;
    let payments = parse_payments(&input.payments, &currencies)?;
    let change_in = change_currency(&input.change_currency, &currencies)?;
    let settlement = tender::settle(
        sale,
        units,
        priced.total_minor,
        &payments,
        &currencies,
        change_in,
    )?;
    Ok(Tendered {
        priced,
        sale,
        units,
        currencies,
        payments,
        change_in,
        settlement,
    })
}

fn tender_view(t: &Tendered) -> TenderView {
    let change_units = t
        .currencies
        .iter()
        .find(|c| c.code == t.change_in)
        .map_or(t.units, |c| c.minor_units);
    TenderView {
        currency: t.sale.to_string(),
        minor_units: t.units,
        total_minor: t.priced.total_minor,
        paid_minor: t.settlement.paid_minor,
        remaining_minor: t.settlement.remaining_minor,
        change_minor: t.settlement.change_minor,
        change_currency: t.change_in.to_string(),
        change_minor_units: change_units,
        due_in: t
            .currencies
            .iter()
            .map(|c| DueIn {
                currency: c.code.to_string(),
                minor_units: c.minor_units,
                amount_minor: tender::due_in(t.sale, t.units, t.settlement.remaining_minor, c),
                rate: c.rate_text(t.sale),
            })
            .collect(),
        complete: t.settlement.complete,
    }
}

/// Writes the sale inside `tx`. Everything is checked again here, under the write lock.
fn write_sale(
    tx: &Connection,
    author: &Author,
    grant_limits: Option<&tillpoint_protocol::auth::GrantLimits>,
    may_discount: bool,
    input: &CheckoutInput,
) -> Result<(String, String), SaleError> {
    let session = selling::selling_session(tx)?;
    let cart = load_cart(tx)?;
    if cart.is_empty() {
        return Err(SaleError::CartEmpty);
    }
    super::check_still_sold(tx, &cart)?;
    let created_at = now(tx)?;
    let Tendered {
        priced,
        sale,
        currencies,
        payments,
        change_in,
        settlement,
        ..
    } = tender_cart(tx, &cart, input, &created_at)?;
    if !settlement.complete {
        return Err(tender::TenderError::Short {
            currency: sale,
            remaining_minor: settlement.remaining_minor,
        }
        .into());
    }
    // A discount given by someone else stays theirs to give: whoever takes the money must
    // hold the permission too, or the discount must go.
    if priced.manual_reduction_minor > 0 && !may_discount {
        return Err(SignInError::Forbidden(
            super::permission(DISCOUNT),
            "; this sale carries a discount or a lowered price: remove it, or ask someone who may give it to take the payment",
        )
        .into());
    }
    if let (Some(limits), Some(jti)) = (grant_limits, author.grant_jti.as_deref()) {
        limits::check_sale(
            tx,
            limits,
            jti,
            sale,
            priced.total_minor,
            priced.reduction_minor,
        )?;
        limits::record_offline_sale(tx, jti, sale, priced.total_minor)?;
    }
    let lines: Vec<SaleLine> = cart
        .lines
        .iter()
        .zip(&priced.lines)
        .enumerate()
        .map(|(index, (line, p))| SaleLine {
            line_no: index as u32 + 1,
            product_id: line.product.id,
            sku: line.product.sku.clone(),
            name: line.product.name.clone(),
            unit: line.product.unit,
            quantity: line.quantity,
            unit_price_minor: line.unit_price(),
            list_price_minor: line.product.price_minor,
            line_discount_minor: p.line_discount_minor,
            cart_discount_minor: p.cart_discount_minor,
            total_minor: p.total_minor,
            tax: line.product.tax,
            vat_minor: p.vat_minor,
            refund_of_line: None,
            restock: None,
        })
        .collect();
    let payments: Vec<Payment> = payments
        .iter()
        .zip(&settlement.values_minor)
        .map(|(p, value)| {
            let currency = currencies
                .iter()
                .find(|c| c.code == p.currency)
                .expect("parsed against these");
            Payment {
                method: p.method,
                currency: p.currency,
                amount_minor: p.amount_minor,
                rate: currency.rate,
                rate_base: currency.rate_base,
                value_minor: *value,
                reference: p.reference.clone(),
            }
        })
        .collect();
    let change_tender = currencies
        .iter()
        .find(|c| c.code == change_in)
        .expect("checked against these");
    let payload = SalePayload {
        sale_id: Uuid::now_v7(),
        receipt_no: String::new(),
        till_session_id: session.uuid()?,
        location_id: None,
        currency: sale,
        lines,
        subtotal_minor: priced.subtotal_minor,
        discount_minor: priced.discount_minor,
        total_minor: priced.total_minor,
        vat: priced.vat.clone(),
        payments,
        change_minor: settlement.change_minor,
        change_currency: change_in,
        change_rate: change_tender.rate,
        change_rate_base: change_tender.rate_base,
        refund_of: None,
        reason: None,
        approver_id: None,
        approver_grant_jti: None,
    };
    let (sale_id, receipt_no) = insert_sale(tx, author, RecordKind::Sale, payload, &created_at)?;
    save_cart(tx, &Cart::default())?;
    Ok((sale_id, receipt_no))
}

/// Writes a sale or refund and everything that goes with it: its rows, stock movements,
/// the session's running totals, the journal entry and the outbox row. Numbers it.
pub(crate) fn insert_sale(
    tx: &Connection,
    author: &Author,
    kind: RecordKind,
    mut payload: SalePayload,
    created_at: &str,
) -> Result<(String, String), SaleError> {
    let receipt_seq: i64 = tx.query_row(
        "SELECT COALESCE(MAX(receipt_seq), 0) + 1 FROM sales",
        [],
        |r| r.get(0),
    )?;
    payload.receipt_no = format!(
        "{}-{receipt_seq:06}",
        tillpoint_protocol::receipt_number::receipt_prefix(author.device_id)
    );
    payload.location_id = stock::shop_location(tx)?;
    let record = journal::append(tx, author, kind, payload.sale_id, created_at, &payload)?;
    let sale_id = payload.sale_id.to_string();
    let session_id = payload.till_session_id.to_string();
    let kind_text = if kind == RecordKind::Refund {
        "refund"
    } else {
        "sale"
    };
    tx.prepare_cached(
        "INSERT INTO sales (id, receipt_seq, receipt_no, kind, refund_of, session_id, org_id,
             creator_id, creator_name, approver_id, device_id, location_id, currency,
             subtotal_minor, discount_minor, total_minor, vat_minor, change_minor,
             change_currency, change_rate, change_rate_base, reason, created_at, grant_jti,
             journal_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
    )?
    .execute(rusqlite::params![
        sale_id,
        receipt_seq,
        payload.receipt_no,
        kind_text,
        payload.refund_of.map(|id| id.to_string()),
        session_id,
        author.org_id.to_string(),
        author.user_id.to_string(),
        author.user_name,
        payload.approver_id.map(|id| id.to_string()),
        author.device_id.to_string(),
        payload.location_id.map(|id| id.to_string()),
        payload.currency.as_str(),
        payload.subtotal_minor,
        payload.discount_minor,
        payload.total_minor,
        payload.vat.iter().map(|b| b.vat_minor).sum::<i64>(),
        payload.change_minor,
        payload.change_currency.as_str(),
        payload.change_rate.to_string(),
        payload.change_rate_base.as_str(),
        payload.reason,
        created_at,
        author.grant_jti,
        record.seq as i64,
    ])?;
    let mut line_insert = tx.prepare_cached(
        "INSERT INTO sale_lines (sale_id, line_no, product_id, sku, name, unit, quantity_milli,
             unit_price_minor, list_price_minor, line_discount_minor, cart_discount_minor,
             total_minor, tax_code, tax_rate_bp, vat_minor, refund_of_line, restock)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    for line in &payload.lines {
        line_insert.execute(rusqlite::params![
            sale_id,
            line.line_no,
            line.product_id.to_string(),
            line.sku,
            line.name,
            line.unit.as_str(),
            line.quantity.milli(),
            line.unit_price_minor,
            line.list_price_minor,
            line.line_discount_minor,
            line.cart_discount_minor,
            line.total_minor,
            line.tax.code.as_str(),
            line.tax.rate_bp,
            line.vat_minor,
            line.refund_of_line,
            line.restock,
        ])?;
    }
    stock::record_sale_movements(tx, kind, &payload, record.seq, created_at)?;
    let mut payment_insert = tx.prepare_cached(
        "INSERT INTO sale_payments (sale_id, payment_no, method, currency, amount_minor, rate,
             rate_base, value_minor, reference)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for (index, payment) in payload.payments.iter().enumerate() {
        payment_insert.execute(rusqlite::params![
            sale_id,
            index as i64 + 1,
            payment.method.as_str(),
            payment.currency.as_str(),
            payment.amount_minor,
            payment.rate.to_string(),
            payment.rate_base.as_str(),
            payment.value_minor,
            payment.reference,
        ])?;
    }
    count_in_session(tx, &session_id, author, kind, &payload)?;
    Ok((sale_id, payload.receipt_no))
}

/// Adds a sale or refund to its till session's running totals.
fn count_in_session(
    tx: &Connection,
    session: &str,
    author: &Author,
    kind: RecordKind,
    payload: &SalePayload,
) -> rusqlite::Result<()> {
    let currency = payload.currency.as_str();
    let bucket = if kind == RecordKind::Refund {
        "refunds"
    } else {
        "sales"
    };
    add_total(tx, session, bucket, currency, "", payload.total_minor, 0, 1)?;
    add_total(
        tx,
        session,
        "discounts",
        currency,
        "",
        payload.discount_minor,
        0,
        0,
    )?;
    for band in &payload.vat {
        let key = format!("{}:{}", band.rate.code.as_str(), band.rate.rate_bp);
        add_total(
            tx,
            session,
            "vat",
            currency,
            &key,
            band.vat_minor,
            band.gross_minor,
            1,
        )?;
    }
    for payment in &payload.payments {
        add_total(
            tx,
            session,
            "tender",
            payment.currency.as_str(),
            payment.method.as_str(),
            payment.amount_minor,
            0,
            1,
        )?;
    }
    if payload.change_minor != 0 {
        add_total(
            tx,
            session,
            "change",
            payload.change_currency.as_str(),
            TenderMethod::Cash.as_str(),
            payload.change_minor,
            0,
            1,
        )?;
    }
    let cashier = format!("{}|{}", author.user_id, author.user_name);
    let count = i64::from(kind == RecordKind::Sale);
    add_total(
        tx,
        session,
        "cashier",
        currency,
        &cashier,
        payload.total_minor,
        0,
        count,
    )
}
