//! The till's background sync loop, run for the window: the policy (when a round runs, push
//! then pull, what a failure does) is the core's (`tillpoint_core::sync::sync_loop`); this
//! spawns it and turns what it reports into events for the window: `sync-status` (what is
//! waiting, what needs a manager, the last success and failure) after every round, every
//! pushed batch and every tick, `catalog-progress` and `catalog-synced` for the pull, and
//! `session-changed` when sync refreshed the sign-in.

use std::sync::Arc;

use serde::Serialize;
use tauri::{AppHandle, Runtime};
use tauri_specta::Event;
use tillpoint_core::sign_in::session::SessionStatus;
use tillpoint_core::sync::{PullProgress, PullSummary, SyncReports, SyncStatus, ROUND_EVERY};
use tillpoint_core::Till;

pub use tillpoint_core::sync::SyncNow;

use crate::events::{CatalogProgress, CatalogSynced, SessionChanged, SyncStatusChanged};

pub fn spawn<R: Runtime>(handle: AppHandle<R>, till: Arc<Till>, wake: SyncNow) {
    tauri::async_runtime::spawn(async move {
        till.run_sync_loop(&wake, ROUND_EVERY, &mut WindowReports(handle))
            .await;
    });
}

/// Passes the loop's reports to the window as events.
struct WindowReports<R: Runtime>(AppHandle<R>);

impl<R: Runtime> WindowReports<R> {
    fn emit<E: Event + Serialize + Clone>(&self, event: E) {
        if let Err(err) = event.emit(&self.0) {
            tracing::warn!(error = %err, event = E::NAME, "could not tell the window about sync");
        }
    }
}

impl<R: Runtime> SyncReports for WindowReports<R> {
    fn status(&mut self, status: SyncStatus) {
        self.emit(SyncStatusChanged(status));
    }

    fn catalog_progress(&mut self, progress: PullProgress) {
        self.emit(CatalogProgress(progress));
    }

    fn catalog_synced(&mut self, summary: PullSummary) {
        self.emit(CatalogSynced(summary));
    }

    fn session_changed(&mut self, session: Option<SessionStatus>) {
        self.emit(SessionChanged(session));
    }
}
