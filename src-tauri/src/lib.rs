//! The Tillpoint desktop shell: a window, the commands the UI calls, and the background
//! tasks that report to it. Every command is a one-line adapter into `tillpoint-core`;
//! nothing here holds a business rule a headless test of the core cannot reach.

mod commands;
mod logging;
mod pos_commands;
mod startup;
mod sync_task;

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
            commands::sync_status,
            commands::sync_problems,
            commands::sync_now,
            commands::export_unsynced,
            pos_commands::pos_state,
            pos_commands::find_products,
            pos_commands::find_stock_products,
            pos_commands::stock_on_hand,
            pos_commands::scan_barcode,
            pos_commands::cart_add,
            pos_commands::cart_set_quantity,
            pos_commands::cart_remove_line,
            pos_commands::cart_void,
            pos_commands::cart_set_line_discount,
            pos_commands::cart_set_discount,
            pos_commands::cart_set_price,
            pos_commands::park_cart,
            pos_commands::resume_parked,
            pos_commands::tender_preview,
            pos_commands::checkout,
            pos_commands::open_till,
            pos_commands::till_report,
            pos_commands::close_till,
            pos_commands::recent_sales,
            pos_commands::sale_detail,
            pos_commands::refund,
            pos_commands::reprint_receipt,
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
