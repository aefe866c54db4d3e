//! The language a Tillpoint till and the Tillpoint server speak.
//!
//! This crate owns the serde types that cross the wire (health, errors, and — as the
//! identity and sync work lands — claims, grants and sync batches) and the value types both
//! sides must validate identically: barcodes, permissions, currency codes, money, VAT, the
//! journal's hash chain, and the rules both apply the same way (what a sale line does to
//! stock).
//!
//! It must never do I/O, read a clock, or know about storage: both the till and the server
//! depend on it, and nothing else is shared between them.

pub mod auth;
pub mod barcode;
pub mod bounds;
pub mod currency;
pub mod error;
pub mod health;
pub mod ids;
pub mod journal;
pub mod money;
pub mod permission;
pub mod receipt_number;
pub mod sale_checks;
pub mod sales;
pub mod stock;
pub mod sync;
pub mod tax;
pub mod token;

pub use barcode::{Barcode, BarcodeError};
pub use currency::{CurrencyCode, CurrencyCodeError};
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use health::Health;
pub use ids::{DeviceId, OrgId, ProductId, RoleId, UserId};
pub use permission::{Permission, PermissionError};
