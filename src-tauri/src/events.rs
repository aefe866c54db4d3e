//! What the shell tells the window without being asked. Each event is a type whose name on the
//! wire is fixed here, so the desktop contract exports its payload to `ui/src/bindings.ts`
//! with a typed `listen` (`events.syncStatus.listen(...)`) instead of a name the UI spells by
//! hand and a payload it must check by hand.

use serde::Serialize;
use tillpoint_core::sign_in::session::SessionStatus;
use tillpoint_core::sync::{PullProgress, PullSummary, SyncStatus};
use tillpoint_core::ConnectionStatus;

/// What is waiting to reach the server, what needs a manager, the last success and failure:
/// after every sync round and every pushed batch.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "sync-status")]
pub struct SyncStatusChanged(pub SyncStatus);

/// How far a running catalog pull has got, after each stored page.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "catalog-progress")]
pub struct CatalogProgress(pub PullProgress);

/// A catalog pull finished: products, currencies and rates may have changed.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "catalog-synced")]
pub struct CatalogSynced(pub PullSummary);

/// The server became reachable, or stopped being.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "connection-changed")]
pub struct ConnectionChanged(pub ConnectionStatus);

/// The sign-in changed on its own: refreshed, carried on offline, or (`None`) signed out.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "session-changed")]
pub struct SessionChanged(pub Option<SessionStatus>);
