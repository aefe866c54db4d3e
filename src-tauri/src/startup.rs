//! What the shell does when the window opens: read the configuration, start logging, open
//! the till's store, and start watching the server, keeping the sign-in alive and syncing. A failure here does not kill the app:
//! the window still opens and every command answers with the start-up error, so the person
//! at the till reads what is wrong and how to fix it instead of seeing nothing.

use std::sync::Arc;

use tauri::{App, Manager, Runtime};
use tauri_specta::Event as _;
use tillpoint_core::{ConfigSources, CoreError, Till, TillConfig};

use crate::commands::CommandError;
use crate::events::{ConnectionChanged, SessionChanged};
use crate::logging;
use crate::sync_task::{self, SyncNow};

pub enum ShellState {
    Ready(Arc<Till>, SyncNow),
    Failed(CommandError),
}

impl ShellState {
    pub fn till(&self) -> Result<&Till, CommandError> {
        match self {
            Self::Ready(till, _) => Ok(till),
            Self::Failed(err) => Err(err.clone()),
        }
    }

    /// Asks the background sync (push, then pull) to run now: after an online sign-in, a
    /// sale, a refund, a till opened or closed, or "Sync now".
    pub fn sync_now(&self) {
        if let Self::Ready(_, sync) = self {
            sync.poke();
        }
    }
}

pub fn start<R: Runtime>(app: &mut App<R>) -> tauri::Result<()> {
    let data_dir = app.path().app_data_dir()?;
    let config_file = app.path().app_config_dir()?.join("config.toml");
    let sources = ConfigSources::from_process_env(Some(config_file), data_dir);

    let state = match TillConfig::load(&sources) {
        Ok(config) => {
            logging::init(Some(&config.data_dir), config.log_level.as_str());
            match Till::open(config) {
                Ok(till) => {
                    let till = Arc::new(till);
                    watch_connection(app, &till);
                    keep_session(app, &till);
                    let sync = SyncNow::default();
                    sync_task::spawn(app.handle().clone(), till.clone(), sync.clone());
                    tracing::info!(data_dir = %till.config().data_dir.display(), "till opened");
                    ShellState::Ready(till, sync)
                }
                Err(err) => failed(err),
            }
        }
        Err(err) => {
            logging::init(None, "info");
            failed(CoreError::from(err))
        }
    };
    app.manage(state);
    Ok(())
}

fn failed(err: CoreError) -> ShellState {
    tracing::error!(error = %err, "the till could not start");
    ShellState::Failed(err.into())
}

fn watch_connection<R: Runtime>(app: &App<R>, till: &Till) {
    let monitor = till.connection().clone();
    let handle = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        monitor
            .run(|status| {
                if let Err(err) = ConnectionChanged(status.clone()).emit(&handle) {
                    tracing::warn!(error = %err, "could not tell the window about the connection");
                }
            })
            .await;
    });
}

fn keep_session<R: Runtime>(app: &App<R>, till: &Arc<Till>) {
    let till = till.clone();
    let handle = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        till.keep_session(|status| {
            if let Err(err) = SessionChanged(status).emit(&handle) {
                tracing::warn!(error = %err, "could not tell the window about the sign-in");
            }
        })
        .await;
    });
}
