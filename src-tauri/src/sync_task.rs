//! The till's one background sync loop: every 15 s while someone is signed in online — and
//! at once when poked (after a sale, a refund, a till opened or closed, an online sign-in,
//! or "Sync now") — it pushes the outbox, then pulls the catalog. The window hears about it
//! through events: `sync-status` (what is waiting, what needs a manager, the last success
//! and failure) after every round and every pushed batch, `catalog-progress` and
//! `catalog-synced` for the pull.
//!
//! A failed round is logged, shown in `sync-status`, and retried at the next one; it never
//! blocks selling. An access token the server no longer takes is refreshed once, and the
//! round is retried at the next tick.

use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Runtime};
use tauri_specta::Event as _;
use tillpoint_core::sign_in::session::SessionMode;
use tillpoint_core::sync::SyncError;
use tillpoint_core::Till;
use tokio::sync::Notify;

use crate::events::{CatalogProgress, CatalogSynced, SessionChanged, SyncStatusChanged};

const ROUND: Duration = Duration::from_secs(15);

/// Wakes the sync loop early.
#[derive(Clone, Default)]
pub struct SyncNow(Arc<Notify>);

impl SyncNow {
    pub fn poke(&self) {
        self.0.notify_one();
    }
}

pub fn spawn<R: Runtime>(handle: AppHandle<R>, till: Arc<Till>, wake: SyncNow) {
    tauri::async_runtime::spawn(async move {
        loop {
            let _ = tokio::time::timeout(ROUND, wake.0.notified()).await;
            let online = till
                .session_status()
                .is_some_and(|s| s.mode == SessionMode::Online);
            if online {
                round(&handle, &till).await;
            }
            // Offline too: a sale just made shows up as waiting.
            emit_status(&handle, &till);
        }
    });
}

/// Push, then pull.
async fn round<R: Runtime>(handle: &AppHandle<R>, till: &Till) {
    let pushed = till.push_outbox(|_| emit_status(handle, till)).await;
    if let Err(err) = pushed {
        if retry_later(handle, till, &err).await {
            return;
        }
        // Other push failures do not stop the catalog from coming down.
    }
    let progress_handle = handle.clone();
    let pulled = till
        .pull_catalog(|progress| {
            let _ = CatalogProgress(progress).emit(&progress_handle);
        })
        .await;
    match pulled {
        Ok(summary) => {
            let _ = CatalogSynced(summary).emit(handle);
        }
        Err(err) => {
            retry_later(handle, till, &err).await;
            tracing::warn!(error = %err, "catalog pull failed; retrying later");
        }
    }
}

/// For an expired session: refreshes it once and says the round should stop here.
async fn retry_later<R: Runtime>(handle: &AppHandle<R>, till: &Till, err: &SyncError) -> bool {
    if !matches!(err, SyncError::SessionExpired) {
        return false;
    }
    match till.refresh_session().await {
        Ok(outcome) => tracing::info!(?outcome, "sync refreshed the session; retrying next round"),
        Err(err) => tracing::warn!(error = %err, "sync could not refresh the session"),
    }
    let _ = SessionChanged(till.session_status()).emit(handle);
    true
}

fn emit_status<R: Runtime>(handle: &AppHandle<R>, till: &Till) {
    match till.sync_status() {
        Ok(status) => {
            if let Err(err) = SyncStatusChanged(status).emit(handle) {
                tracing::warn!(error = %err, "could not tell the window about sync");
            }
        }
        Err(err) => tracing::warn!(error = %err, "could not read the sync status"),
    }
}
