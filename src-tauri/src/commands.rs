//! The commands the window may call (each named once in `contract.rs`). Each is a one-line
//! adapter into `tillpoint-core`; failures reach the UI as a `CommandError`.

use serde::Serialize;
use tauri::State;
use tillpoint_core::sign_in::session::SessionStatus;
use tillpoint_core::sync::{ExportSummary, SyncProblem, SyncStatus};
use tillpoint_core::{AppInfo, ConnectionStatus, CoreError, ErrorCode};

use crate::startup::ShellState;

/// How every command fails: a code the screens branch on, and a message for the person.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

impl From<CoreError> for CommandError {
    fn from(err: CoreError) -> Self {
        Self {
            code: err.code(),
            message: err.to_string(),
        }
    }
}

/// Why the till could not start, or `None` when it did. The window asks first, so a broken
/// start is explained once, on its own screen, instead of by every command failing.
#[tauri::command]
#[specta::specta]
pub async fn startup_error(state: State<'_, ShellState>) -> Result<Option<CommandError>, ()> {
    Ok(state.till().err())
}

#[tauri::command]
#[specta::specta]
pub async fn app_info(state: State<'_, ShellState>) -> Result<AppInfo, CommandError> {
    Ok(state.till()?.info()?)
}

#[tauri::command]
#[specta::specta]
pub async fn local_product_count(state: State<'_, ShellState>) -> Result<u64, CommandError> {
    Ok(state.till()?.local_product_count()?)
}

#[tauri::command]
#[specta::specta]
pub async fn connection_status(
    state: State<'_, ShellState>,
) -> Result<ConnectionStatus, CommandError> {
    Ok(state.till()?.connection().status())
}

#[tauri::command]
#[specta::specta]
pub async fn check_server(
    state: State<'_, ShellState>,
    url: String,
) -> Result<ConnectionStatus, CommandError> {
    Ok(state.till()?.check_server(&url).await?)
}

/// Who is signed in on this till, if anyone (no token or grant ever crosses to the window).
#[tauri::command]
#[specta::specta]
pub async fn session_status(
    state: State<'_, ShellState>,
) -> Result<Option<SessionStatus>, CommandError> {
    Ok(state.till()?.session_status())
}

#[tauri::command]
#[specta::specta]
pub async fn sign_in(
    state: State<'_, ShellState>,
    username: String,
    password: String,
) -> Result<SessionStatus, CommandError> {
    let status = state
        .till()?
        .sign_in(&username, &password)
        .await
        .map_err(CoreError::from)?;
    state.sync_now();
    Ok(status)
}

#[tauri::command]
#[specta::specta]
pub async fn unlock_offline(
    state: State<'_, ShellState>,
    username: String,
    password: String,
) -> Result<SessionStatus, CommandError> {
    Ok(state
        .till()?
        .unlock_offline(&username, &password)
        .await
        .map_err(CoreError::from)?)
}

#[tauri::command]
#[specta::specta]
pub async fn lock(state: State<'_, ShellState>) -> Result<(), CommandError> {
    state.till()?.lock();
    Ok(())
}

/// What is waiting to reach the server, what needs a manager, the last success and failure.
#[tauri::command]
#[specta::specta]
pub async fn sync_status(state: State<'_, ShellState>) -> Result<SyncStatus, CommandError> {
    Ok(state.till()?.sync_status().map_err(CoreError::from)?)
}

/// The records the server quarantined or rejected, with its reasons.
#[tauri::command]
#[specta::specta]
pub async fn sync_problems(state: State<'_, ShellState>) -> Result<Vec<SyncProblem>, CommandError> {
    Ok(state.till()?.sync_problems().map_err(CoreError::from)?)
}

/// Asks the background sync to run now; the result arrives as a `sync-status` event.
#[tauri::command]
#[specta::specta]
pub async fn sync_now(state: State<'_, ShellState>) -> Result<SyncStatus, CommandError> {
    let status = state.till()?.sync_status().map_err(CoreError::from)?;
    state.sync_now();
    Ok(status)
}

/// A manager's export of every unsynced record to a signed file in the data folder, for a
/// till that cannot reach the server (the core checks the permission).
#[tauri::command]
#[specta::specta]
pub async fn export_unsynced(state: State<'_, ShellState>) -> Result<ExportSummary, CommandError> {
    let till = state.till()?;
    Ok(till.export_pending(&till.export_path())?)
}
