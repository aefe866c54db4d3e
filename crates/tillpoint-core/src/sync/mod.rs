//! The till's side of sync (ARCHITECTURE.md §4). Today: pull, which brings the
//! organisation's master data — the organisation itself, currencies and exchange rates, tax
//! classes, locations, products and barcodes — down into the till's store.
//!
//! The invariant pull keeps: **a page and the cursor after it are stored in one
//! transaction.** The till's cursor therefore always names exactly what its store holds, and
//! a pull stopped at any point (killed, network gone, server restarted) resumes from the
//! last page stored, never skipping one. Pages are idempotent, so receiving one twice is
//! harmless. After every stored page the catalog is consistent on its own: the server sends
//! a barcode's product and a product's tax class with the page when the till could not have
//! them yet.

pub mod pull;

pub use pull::{PullOptions, PullProgress, PullSummary};

/// Why a pull stopped. Each has a stable [`code`](SyncError::code) for the window.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("nobody is signed in on this till")]
    NotSignedIn,
    #[error(
        "the till is working offline; the catalog is brought up to date once it is back online"
    )]
    NotOnline,
    #[error("cannot reach the server; the catalog will be brought up to date when it answers")]
    ServerUnreachable,
    #[error("the server no longer accepts this session's access token; it is refreshed or you sign in again")]
    SessionExpired,
    #[error("the server refused the till's sync position: {0}")]
    CursorRefused(String),
    #[error("the server sent another organisation's data; nothing was stored")]
    OtherOrganisation,
    #[error("another pull is already updating the catalog")]
    PullInProgress,
    #[error("the server answered unexpectedly: {0}")]
    Server(String),
    #[error("the till's own store failed: {0}")]
    Store(String),
}

impl SyncError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotSignedIn => "not_signed_in",
            Self::NotOnline => "not_online",
            Self::ServerUnreachable => "server_unreachable",
            Self::SessionExpired => "session_expired",
            Self::CursorRefused(_) => "sync_cursor_refused",
            Self::OtherOrganisation => "other_organisation",
            Self::PullInProgress => "pull_in_progress",
            Self::Server(_) => "server_error",
            Self::Store(_) => "store_unavailable",
        }
    }
}

impl From<rusqlite::Error> for SyncError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.to_string())
    }
}

impl From<crate::CoreError> for SyncError {
    fn from(e: crate::CoreError) -> Self {
        Self::Store(e.to_string())
    }
}
