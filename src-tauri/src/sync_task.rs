//! The till's background sync loop, run for the window: the policy (when a round runs, push
//! then pull, what a failure does) is the core's (`tillpoint_core::sync::sync_loop`); this
//! spawns it and turns what it reports into events for the window: `sync-status` (what is
//! waiting, what needs a manager, the last success and failure) after every round, every
//! pushed batch and every tick, `catalog-progress` and `catalog-synced` for the pull, and
//! `session-changed` when sync refreshed the sign-in.

use std::sync::Arc;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};
use tillpoint_core::sign_in::session::SessionStatus;
use tillpoint_core::sync::{PullProgress, PullSummary, SyncReports, SyncStatus, ROUND_EVERY};
use tillpoint_core::Till;

pub use tillpoint_core::sync::SyncNow;

use crate::startup::SESSION_CHANGED;

/// The event the UI listens to for the sync indicator (`SyncStatus`).
pub const SYNC_STATUS: &str = "sync-status";
/// The event the UI listens to while a pull runs (`PullProgress`).
pub const CATALOG_PROGRESS: &str = "catalog-progress";
/// The event the UI listens to when a pull finished (`PullSummary`).
pub const CATALOG_SYNCED: &str = "catalog-synced";

pub fn spawn<R: Runtime>(handle: AppHandle<R>, till: Arc<Till>, wake: SyncNow) {
    tauri::async_runtime::spawn(async move {
        till.run_sync_loop(&wake, ROUND_EVERY, &mut WindowReports(handle))
            .await;
    });
}

/// Passes the loop's reports to the window as events.
struct WindowReports<R: Runtime>(AppHandle<R>);

impl<R: Runtime> WindowReports<R> {
    fn emit(&self, event: &str, payload: impl Serialize + Clone) {
        if let Err(err) = self.0.emit(event, payload) {
            tracing::warn!(error = %err, event, "could not tell the window about sync");
        }
    }
}

impl<R: Runtime> SyncReports for WindowReports<R> {
    fn status(&mut self, status: SyncStatus) {
        self.emit(SYNC_STATUS, status);
    }

    fn catalog_progress(&mut self, progress: PullProgress) {
        self.emit(CATALOG_PROGRESS, progress);
    }

    fn catalog_synced(&mut self, summary: PullSummary) {
        self.emit(CATALOG_SYNCED, summary);
    }

    fn session_changed(&mut self, session: Option<SessionStatus>) {
        self.emit(SESSION_CHANGED, session);
    }
}
