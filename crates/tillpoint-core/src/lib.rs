//! Everything a Tillpoint till does, usable without a window: from tests, benchmarks and a
//! headless command line exactly as the desktop app uses it.
//!
//! It owns the till's configuration, its local store (SQLite, migrated from
//! `migrations/client/`), its view of the server's reachability, sign-in and the offline
//! grant, the catalog, selling (cart, tax, tender, checkout, refunds, till sessions,
//! receipts), stock, the journal, and the sync client (push of the outbox, pull of master data).
//!
//! It must never know about Tauri, windows or the webview: `src-tauri/` adapts this crate to
//! the desktop, and anything the desktop can do must be reachable from here.

pub mod catalog;
pub mod config;
pub mod connection;
pub mod error;
pub mod error_code;
pub mod journal;
pub mod private_files;
pub mod sales;
mod seal;
pub mod server_url;
pub mod sign_in;
pub mod stock;
pub mod store;
pub mod sync;
pub mod till;

pub use config::{ConfigSources, LogLevel, TillConfig};
pub use connection::{ConnectionMonitor, ConnectionState, ConnectionStatus};
pub use error::CoreError;
pub use error_code::ErrorCode;
pub use server_url::{ServerUrl, ServerUrlError};
pub use store::LocalStore;
pub use till::{AppInfo, Till};
