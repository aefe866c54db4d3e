//! Everything a Tillpoint till does, usable without a window: from tests, benchmarks and a
//! headless command line exactly as the desktop app uses it.
//!
//! Today it owns the till's configuration, its local store (SQLite, migrated from
//! `migrations/client/`) and its view of the server's reachability. Money, tax, cart and
//! checkout, the journal, the auth session, grant checks and the sync client grow here.
//!
//! It must never know about Tauri, windows or the webview: `src-tauri/` adapts this crate to
//! the desktop, and anything the desktop can do must be reachable from here.

pub mod config;
pub mod connection;
pub mod error;
pub mod server_url;
pub mod sign_in;
pub mod store;
pub mod till;

pub use config::{ConfigSources, LogLevel, TillConfig};
pub use connection::{ConnectionMonitor, ConnectionState, ConnectionStatus};
pub use error::CoreError;
pub use server_url::{ServerUrl, ServerUrlError};
pub use store::LocalStore;
pub use till::{AppInfo, Till};
