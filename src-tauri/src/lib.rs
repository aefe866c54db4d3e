//! The Tillpoint desktop shell: a window, the commands the UI calls, and the background
//! tasks that report to it. Every command is a one-line adapter into `tillpoint-core`;
//! nothing here holds a business rule a headless test of the core cannot reach.

mod commands;
mod logging;
mod startup;

use tauri::{Builder, Runtime};

pub use commands::CommandError;
pub use startup::ShellState;

/// Registers the commands and the start-up hook on `builder`. Tests pass Tauri's mock
/// builder here; the app passes the real one.
pub fn setup<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .invoke_handler(tauri::generate_handler![
            commands::startup_error,
            commands::app_info,
            commands::local_product_count,
            commands::connection_status,
            commands::check_server,
            commands::session_status,
            commands::sign_in,
            commands::unlock_offline,
            commands::lock,
        ])
        .setup(|app| {
            startup::start(app)?;
            Ok(())
        })
}

pub fn run() {
    let result = setup(tauri::Builder::default()).run(tauri::generate_context!());
    if let Err(err) = result {
        eprintln!("tillpoint: cannot start the desktop window: {err}");
        std::process::exit(1);
    }
}
