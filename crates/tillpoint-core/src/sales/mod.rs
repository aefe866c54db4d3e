//! Selling: the cart, tender, checkout, refunds, parked carts, till sessions and receipts.
//!
//! The rules live here, not in the window: every action checks the signed-in person's
//! permission (and, offline, their grant's limits) itself. Every sale, refund and till
//! open/close is ONE `BEGIN IMMEDIATE` transaction that writes its rows, the till session's
//! running totals, its stock movements, its journal entry and its outbox row together: a
//! failure anywhere leaves nothing behind, and a committed sale survives a power cut
//! (`synchronous=FULL`).

pub mod cart;
mod checkout;
mod parked;
pub mod receipt;
mod refund;
mod selling;
pub mod tender;
pub mod till_session;
mod views;

use std::sync::MutexGuard;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension};
use tillpoint_protocol::permission::Operation;
use tillpoint_protocol::Permission;

pub use checkout::{CheckoutInput, SaleDone};
pub use refund::{Approver, RefundInput, RefundLineInput};
pub use selling::{NotSelling, SellingBlocked, SellingStatus};
pub use views::*;

use crate::catalog::{self, CatalogError};
use crate::journal::Author;
use crate::sign_in::clock;
use crate::sign_in::identity;
use crate::sign_in::session::SignInError;
use crate::till::Till;
use cart::{Cart, CartError};
use tender::TenderError;

use crate::error_code::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum SaleError {
    #[error(transparent)]
    SignIn(#[from] SignInError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Cart(#[from] CartError),
    #[error(transparent)]
    Tender(#[from] TenderError),
    #[error("open the till (count the float) before selling")]
    TillNotOpen,
    #[error("the till is already open")]
    TillAlreadyOpen,
    #[error("the cart is empty")]
    CartEmpty,
    #[error("finish or park the sale on the till first")]
    CartNotEmpty,
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    NotRefundable(String),
    #[error("no parked sale has the id {0}")]
    NoSuchParkedCart(String),
    #[error("no sale on this till has the id {0}")]
    NoSuchSale(String),
    #[error("count the cash in the drawer in {} before closing the till", list_codes(.0))]
    CashNotCounted(Vec<tillpoint_protocol::CurrencyCode>),
    #[error("the till's own store failed: {0}")]
    Store(String),
}

impl From<rusqlite::Error> for SaleError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.to_string())
    }
}

impl From<serde_json::Error> for SaleError {
    fn from(e: serde_json::Error) -> Self {
        Self::Store(e.to_string())
    }
}

impl From<crate::sign_in::limits::LimitError> for SaleError {
    fn from(e: crate::sign_in::limits::LimitError) -> Self {
        Self::SignIn(e.into())
    }
}

impl SaleError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::SignIn(err) => err.code(),
            Self::Catalog(err) => err.code(),
            Self::Cart(_) | Self::InvalidInput(_) => ErrorCode::InvalidInput,
            Self::Tender(TenderError::Short { .. }) => ErrorCode::PaymentShort,
            Self::Tender(_) => ErrorCode::InvalidInput,
            Self::TillNotOpen => ErrorCode::TillNotOpen,
            Self::TillAlreadyOpen => ErrorCode::TillAlreadyOpen,
            Self::CartEmpty => ErrorCode::CartEmpty,
            Self::CartNotEmpty => ErrorCode::CartNotEmpty,
            Self::NotRefundable(_) => ErrorCode::NotRefundable,
            Self::NoSuchParkedCart(_) | Self::NoSuchSale(_) => ErrorCode::NotFound,
            Self::CashNotCounted(_) => ErrorCode::CashNotCounted,
            Self::Store(_) => ErrorCode::StoreUnavailable,
        }
    }
}

fn list_codes(codes: &[tillpoint_protocol::CurrencyCode]) -> String {
    codes
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn permission(text: &str) -> Permission {
    Permission::parse(text).expect("a valid permission literal")
}

pub const SELL: &str = Operation::Sell.permission_name();
pub const DISCOUNT: &str = Operation::ApplyDiscount.permission_name();
pub const REFUND: &str = Operation::Refund.permission_name();
pub const TILL_SESSIONS: &str = Operation::ManageTillSession.permission_name();

/// Now, as the till records it: RFC 3339 UTC with milliseconds, never earlier than the
/// latest time this till has seen (so a clock wound back cannot date a sale in the past).
pub(crate) fn now(conn: &Connection) -> Result<String, SaleError> {
    Ok(timestamp(till_time(conn)?))
}

/// The time [`now`] records, as a time.
pub(crate) fn till_time(conn: &Connection) -> Result<DateTime<Utc>, SaleError> {
    let system = Utc::now();
    let reading = clock::observe(conn, system.timestamp())?;
    Ok(if reading.now > system.timestamp() {
        DateTime::from_timestamp(reading.now, 0).unwrap_or(system)
    } else {
        system
    })
}

/// `at` as the till's records carry times: RFC 3339 UTC with milliseconds.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Till {
    pub(crate) fn sales_conn(&self) -> Result<MutexGuard<'_, Connection>, SaleError> {
        self.store()
            .conn()
            .map_err(|e| SaleError::Store(e.to_string()))
    }

    /// Checks `permission` and says who is acting. Call before taking the store lock.
    pub(crate) fn author(&self, permission_text: &str) -> Result<Author, SaleError> {
        // One decision: what was checked (the token, or the grant — its expiry, revocation
        // and the till's clock) is what the record says it was done under.
        let acting = self.check(&permission(permission_text))?;
        let device_id = {
            let conn = self.sales_conn()?;
            identity::load(&conn)?
                .ok_or(SignInError::NotSignedIn)?
                .device_id
        };
        let user = acting.session.user();
        // Offline, what is done is done under the grant, with its limits, and says so.
        Ok(Author {
            org_id: user.organisation_id,
            user_id: user.id,
            user_name: user.name.clone(),
            device_id,
            grant_jti: acting.grant_jti(),
        })
    }

    /// Whether the signed-in person may do what needs `permission_text` (for the screen).
    pub(crate) fn may(&self, permission_text: &str) -> bool {
        self.require(&permission(permission_text)).is_ok()
    }
}

/// The cart on the till, its products as the catalog has them now.
pub(crate) fn load_cart(conn: &Connection) -> Result<Cart, SaleError> {
    let text: Option<String> = conn
        .prepare_cached("SELECT cart FROM open_cart WHERE singleton = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    let mut cart = match text {
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            SaleError::Store(format!(
                "the cart on this till cannot be read ({e}); void it"
            ))
        })?,
        None => Cart::default(),
    };
    refresh_products(conn, &mut cart)?;
    Ok(cart)
}

/// Brings a cart's product details (price, tax, name) up to the catalog in force, keeping
/// what the cashier set by hand. A cart is sold at today's prices, and a price set below
/// today's list price counts as the markdown it is. A product no longer sold keeps its old
/// details here; checkout refuses it.
pub(crate) fn refresh_products(conn: &Connection, cart: &mut Cart) -> Result<(), SaleError> {
    for line in &mut cart.lines {
        match catalog::product_by_id(conn, &line.product.id.to_string()) {
            Ok(product) => line.product = product,
            Err(CatalogError::UnknownProduct(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

/// Refuses a cart holding a product the catalog no longer sells.
pub(crate) fn check_still_sold(conn: &Connection, cart: &Cart) -> Result<(), SaleError> {
    for line in &cart.lines {
        if let Err(CatalogError::UnknownProduct(_)) =
            catalog::product_by_id(conn, &line.product.id.to_string())
        {
            return Err(SaleError::InvalidInput(format!(
                "{} is no longer sold: remove it from the sale",
                line.product.name
            )));
        }
    }
    Ok(())
}

pub(crate) fn save_cart(conn: &Connection, cart: &Cart) -> Result<(), SaleError> {
    if cart.is_empty() {
        conn.execute("DELETE FROM open_cart", [])?;
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO open_cart (singleton, cart, updated_at) VALUES (1, ?1, ?2)
         ON CONFLICT (singleton) DO UPDATE SET cart = ?1, updated_at = ?2",
    )?
    .execute((serde_json::to_string(cart)?, Utc::now().to_rfc3339()))?;
    Ok(())
}

/// The receipt number prefix of a device: the last 8 hex digits of its id (random in a
/// UUIDv7), upper case. See docs/decisions/selling.md.
pub(crate) fn receipt_prefix(device: tillpoint_protocol::DeviceId) -> String {
    let hex = device.as_uuid().simple().to_string();
    hex[hex.len() - 8..].to_uppercase()
}
