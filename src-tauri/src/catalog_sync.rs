//! Keeps the till's catalog up to date in the background: right after an online sign-in,
//! then every minute while someone is signed in online. Progress and results go to the
//! window as events; a failed pull is logged and retried at the next round, never shown as
//! a blocking error (the till sells from what it has).

use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Emitter, Runtime};
use tillpoint_core::sign_in::session::SessionMode;
use tillpoint_core::Till;
use tokio::sync::Notify;

/// The event the UI listens to while a pull runs (`PullProgress`).
pub const CATALOG_PROGRESS: &str = "catalog-progress";
/// The event the UI listens to when a pull finished (`PullSummary`).
pub const CATALOG_SYNCED: &str = "catalog-synced";

const ROUND: Duration = Duration::from_secs(60);

/// Wakes the background pull early (after a sign-in).
#[derive(Clone, Default)]
pub struct CatalogSync(Arc<Notify>);

impl CatalogSync {
    pub fn now(&self) {
        self.0.notify_one();
    }
}

pub fn spawn<R: Runtime>(handle: AppHandle<R>, till: Arc<Till>, wake: CatalogSync) {
    tauri::async_runtime::spawn(async move {
        loop {
            let _ = tokio::time::timeout(ROUND, wake.0.notified()).await;
            let online = till
                .session_status()
                .is_some_and(|s| s.mode == SessionMode::Online);
            if !online {
                continue;
            }
            let progress_handle = handle.clone();
            let result = till
                .pull_catalog(|progress| {
                    let _ = progress_handle.emit(CATALOG_PROGRESS, progress);
                })
                .await;
            match result {
                Ok(summary) => {
                    let _ = handle.emit(CATALOG_SYNCED, summary);
                }
                Err(err) => tracing::warn!(error = %err, "catalog pull failed; retrying later"),
            }
        }
    });
}
