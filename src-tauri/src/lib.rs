//! The Tillpoint desktop shell: a window, the commands the UI calls, and the background
//! tasks that report to it. Every command is a one-line adapter into `tillpoint-core`;
//! nothing here holds a business rule a headless test of the core cannot reach.

mod commands;
pub mod contract;
mod events;
mod logging;
mod pos_commands;
mod startup;
mod sync_task;

use tauri::{Builder, Runtime};

pub use commands::CommandError;
pub use startup::ShellState;

/// Registers the commands, the events and the start-up hook on `builder`. Tests pass Tauri's
/// mock builder here; the app passes the real one.
pub fn setup<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    let contract = contract::builder::<R>();
    builder
        .invoke_handler(contract.invoke_handler())
        .setup(move |app| {
            contract.mount_events(app);
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

#[cfg(test)]
mod tests {
    /// Receipts and reports are shown in sandboxed frames under the app's CSP: their one
    /// stylesheet is allowed by its hash, which must follow any change to it.
    #[test]
    fn the_csp_allows_the_receipt_stylesheet() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../../tauri.conf.json")).expect("valid JSON");
        let csp = config["app"]["security"]["csp"].as_str().expect("a CSP");
        let style_src = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("style-src"))
            .expect("a style-src directive");
        let source = tillpoint_receipt::html::style_csp_source();
        assert!(
            style_src.split_whitespace().any(|s| s == source),
            "add {source} to style-src in tauri.conf.json"
        );
        assert!(!style_src.contains("unsafe-inline"));
    }
}
