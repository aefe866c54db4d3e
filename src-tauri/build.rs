// Declaring the app's commands makes Tauri refuse any command a window's capability does not
// allow (verified-facts.md): without this list, every command is callable from every webview.
const COMMANDS: &[&str] = &[
    "startup_error",
    "app_info",
    "local_product_count",
    "connection_status",
    "check_server",
    "session_status",
    "sign_in",
    "unlock_offline",
    "lock",
    "sync_status",
    "sync_problems",
    "sync_now",
    "export_unsynced",
    "pos_state",
    "find_products",
    "find_stock_products",
    "stock_on_hand",
    "scan_barcode",
    "cart_add",
    "cart_set_quantity",
    "cart_remove_line",
    "cart_void",
    "cart_set_line_discount",
    "cart_set_discount",
    "cart_set_price",
    "park_cart",
    "resume_parked",
    "tender_preview",
    "checkout",
    "open_till",
    "till_report",
    "close_till",
    "recent_sales",
    "sale_detail",
    "refund",
    "reprint_receipt",
];

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    // The window's assets are embedded at compile time: a new UI build must rebuild the app.
    println!("cargo:rerun-if-changed=ui/dist");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build configuration is valid");
}
