//! The till's side of sync (ARCHITECTURE.md §4): [`push`] sends the till's journal up from
//! the outbox ([`status`] says what is waiting and what went wrong, [`export`] writes it to
//! a signed file for a till that cannot reach the server), [`pull`] brings the
//! organisation's master data — the organisation itself, currencies and exchange rates, tax
//! classes, locations, products and barcodes — down into the till's store. A round is push,
//! then pull; [`sync_loop`] decides when rounds run and what a failure does.
//!
//! The invariant push keeps: **a record is marked synced only after the server answered for
//! that record** (see [`push`]).
//!
//! The invariant pull keeps: **a page and the cursor after it are stored in one
//! transaction.** The till's cursor therefore always names exactly what its store holds, and
//! a pull stopped at any point (killed, network gone, server restarted) resumes from the
//! last page stored, never skipping one. Pages are idempotent, so receiving one twice is
//! harmless. After every stored page the catalog is consistent on its own: the server sends
//! a barcode's product and a product's tax class with the page when the till could not have
//! them yet.

pub mod export;
#[cfg(test)]
pub(crate) mod fake_server;
pub mod pull;
pub mod push;
pub mod status;
pub mod sync_loop;

use std::time::Duration;

use crate::error_code::ErrorCode;

/// How long one sync request may take, for `bytes` to carry: the shared client's 5 s suits
/// health checks and sign-in, not a 700 KB batch on a shop's slow uplink. `floor` (30 s by
/// default) plus what a link as slow as 4 KB/s needs, at most 10 minutes: a batch that cannot
/// get through in that stays pending for the next round, never half-counted.
pub(crate) fn transfer_timeout(bytes: usize, floor: Duration) -> Duration {
    const SLOWEST_LINK_BYTES_PER_SEC: u64 = 4_000;
    (floor + Duration::from_secs(bytes as u64 / SLOWEST_LINK_BYTES_PER_SEC))
        .min(Duration::from_secs(600))
}

/// The least any sync request is given.
pub const SYNC_TIMEOUT_FLOOR: Duration = Duration::from_secs(30);

/// A pull page's timeout: its size is known only once it arrives, and a full page is about
/// 900 KB.
pub(crate) const PULL_PAGE_TIMEOUT_BYTES: usize = 1_000_000;

/// Stock lives in [`crate::stock`]; the shell first found it here.
pub use crate::stock::{StockOnHand, STOCK_VIEW};
pub use export::ExportSummary;
pub use pull::{PullOptions, PullProgress, PullSummary};
pub use push::{PushOptions, PushProgress, PushSummary};
pub use status::{SyncFailure, SyncProblem, SyncStatus};
pub use sync_loop::{SyncNow, SyncReports, ROUND_EVERY};

/// Why a push or a pull stopped. Each has a stable [`code`](SyncError::code) for the window.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("nobody is signed in on this till")]
    NotSignedIn,
    #[error("the till is working offline; it syncs once it is back online")]
    NotOnline,
    #[error("cannot reach the server; the till syncs when it answers")]
    ServerUnreachable,
    #[error("the server no longer accepts this session's access token; it is refreshed or you sign in again")]
    SessionExpired,
    #[error("the server refused the till's sync position: {0}")]
    CursorRefused(String),
    #[error("the server sent another organisation's data; nothing was stored")]
    OtherOrganisation,
    #[error("another pull is already updating the catalog")]
    PullInProgress,
    #[error(
        "the server refused this till's records: {0}. Ask an administrator to check the device"
    )]
    PushRefused(String),
    #[error("this till's device key is unavailable: {0}")]
    DeviceKey(String),
    #[error("every record on this till has reached the server; there is nothing to export")]
    NothingToExport,
    #[error("could not write the export: {0}")]
    Export(String),
    #[error("the server answered unexpectedly: {0}")]
    Server(String),
    #[error("the till's own store failed: {0}")]
    Store(String),
}

impl SyncError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotSignedIn => ErrorCode::NotSignedIn,
            Self::NotOnline => ErrorCode::NotOnline,
            Self::ServerUnreachable => ErrorCode::ServerUnreachable,
            Self::SessionExpired => ErrorCode::SessionExpired,
            Self::CursorRefused(_) => ErrorCode::SyncCursorRefused,
            Self::OtherOrganisation => ErrorCode::OtherOrganisation,
            Self::PullInProgress => ErrorCode::PullInProgress,
            Self::PushRefused(_) => ErrorCode::PushRefused,
            Self::DeviceKey(_) => ErrorCode::DeviceKeyUnavailable,
            Self::NothingToExport => ErrorCode::NothingToExport,
            Self::Export(_) => ErrorCode::ExportFailed,
            Self::Server(_) => ErrorCode::ServerError,
            Self::Store(_) => ErrorCode::StoreUnavailable,
        }
    }
}

/// Reads the server's answer to a sync request: the body as `T` on success; 401 as an
/// expired session; unreachable as such; any other refusal as `refusal(status, the server's
/// message)`. `what` names the answer in the error for an unreadable body.
pub(crate) async fn read_answer<T: serde::de::DeserializeOwned>(
    sent: Result<reqwest::Response, reqwest::Error>,
    what: &str,
    refusal: impl FnOnce(u16, String) -> SyncError,
) -> Result<T, SyncError> {
    let response = sent.map_err(|_| SyncError::ServerUnreachable)?;
    let status = response.status();
    if status.is_success() {
        return response
            .json()
            .await
            .map_err(|e| SyncError::Server(format!("unreadable {what}: {e}")));
    }
    let message = response
        .json::<tillpoint_protocol::ErrorBody>()
        .await
        .map(|b| b.error.message)
        .unwrap_or_else(|_| status.to_string());
    Err(match status.as_u16() {
        401 => SyncError::SessionExpired,
        code => refusal(code, message),
    })
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
