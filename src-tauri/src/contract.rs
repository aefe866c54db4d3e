//! The desktop contract: the one list of the commands the window may call and of the events it
//! hears. Everything else is derived from it (docs/decisions/desktop-contract.md):
//!
//! - the invoke handler (`builder().invoke_handler()`),
//! - the build script's command list and the window's permission set, which `build.rs` reads
//!   from the `collect_commands!` below,
//! - `ui/src/bindings.ts`: each command as a typed function, its argument and answer types,
//!   the event payloads, `ErrorCode`, and the command names (`COMMANDS`, which the UI tests'
//!   IPC mock is typed by). A test below fails when the committed file is stale.
//!
//! A new command is a function in `commands.rs` or `pos_commands.rs` marked
//! `#[tauri::command] #[specta::specta]`, named once below.

use tauri::Runtime;
use tauri_specta::{collect_commands, collect_events, Builder, Commands, ErrorHandlingMode};

use tillpoint_core::ErrorCode;

use crate::commands;
use crate::events;
use crate::pos_commands;

/// Every command the window may call. `build.rs` reads this list from the source: keep it one
/// path per entry.
fn commands<R: Runtime>() -> Commands<R> {
    collect_commands![
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
        pos_commands::selling_status,
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
    ]
}

/// The commands' names as the window invokes them (`sign_in`, `pos_state`, …). The
/// collector is public in tauri-specta, whose version is pinned exactly.
fn command_names<R: Runtime>(commands: &Commands<R>) -> Vec<String> {
    (commands.1)(&mut specta::Types::default())
        .functions
        .iter()
        .map(|f| f.name().to_string())
        .collect()
}

/// The commands and events, as Tauri registers them and as the bindings describe them.
pub fn builder<R: Runtime>() -> Builder<R> {
    let commands = commands();
    let names = command_names(&commands);
    Builder::new()
        .commands(commands)
        .constant("COMMANDS", names)
        .events(collect_events![
            events::SyncStatusChanged,
            events::CatalogProgress,
            events::CatalogSynced,
            events::ConnectionChanged,
            events::SessionChanged,
        ])
        // The UI checks a rejection's code against this list before trusting it as an
        // `ErrorCode` (anything else, e.g. Tauri refusing a call, is its own failure).
        .constant("ERROR_CODES", ErrorCode::ALL)
        // A rejected command throws its `CommandError`; `ui/src/backend.ts` turns it into a
        // typed `BackendError` in one place, so screens keep plain `await`.
        .error_handling(ErrorHandlingMode::Throw)
        // Amounts (minor units), counts and times are i64/u64 in Rust but travel as JSON
        // numbers, which the webview reads as `number` whatever the type says. Every such
        // value the till shows stays far below 2^53 (90 trillion dollars in cents), so the
        // bindings say `number`, which is what the UI receives.
        .dangerously_cast_bigints_to_number()
        // Answers are only serialised and arguments only deserialised: one shape per type.
        .disable_serde_phases()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use specta_typescript::Typescript;

    use super::*;

    /// Where the generated bindings live, from the repository root.
    const BINDINGS: &str = "ui/src/bindings.ts";

    /// How to remake the bindings after changing a command, an event or a type they carry.
    const REGENERATE: &str = "UPDATE_BINDINGS=1 cargo test -p tillpoint --lib contract";

    fn typescript() -> Typescript {
        Typescript::default().header(format!(
            "// Generated from src-tauri/src/contract.rs: do not edit. Regenerate: {REGENERATE}"
        ))
    }

    fn repo_file(relative: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
    }

    /// The bindings are generated afresh and compared with the committed file, so a Rust
    /// change that alters the contract cannot reach the UI unseen. With `UPDATE_BINDINGS=1`
    /// the test writes them instead.
    #[test]
    fn the_committed_bindings_are_current() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("bindings.ts");
        builder::<tauri::Wry>()
            .export(typescript(), &fresh)
            .expect("the contract exports to TypeScript");
        let fresh = std::fs::read_to_string(&fresh).unwrap();
        let committed_path = repo_file(BINDINGS);
        if std::env::var_os("UPDATE_BINDINGS").is_some_and(|v| v == "1") {
            std::fs::write(&committed_path, &fresh).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
        assert!(
            fresh == committed,
            "{BINDINGS} does not match the Rust commands and types: regenerate it with `{REGENERATE}` and commit it"
        );
    }

    /// `build.rs` declares to Tauri (and allows the window) the commands it reads from the
    /// list above; reading source text must not drift from what the macro collected.
    #[test]
    fn the_build_script_declares_exactly_the_contracts_commands() {
        let declared: BTreeSet<&str> = env!("TILLPOINT_WINDOW_COMMANDS").split(',').collect();
        let names = command_names(&commands::<tauri::Wry>());
        let contract: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        let missing: Vec<_> = contract.difference(&declared).collect();
        let extra: Vec<_> = declared.difference(&contract).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "build.rs read a different command list from contract.rs: missing {missing:?}, extra {extra:?}"
        );
    }

    /// The window's capability grants the contract's commands through the one permission set
    /// `build.rs` makes from it, never command by command.
    #[test]
    fn the_window_is_allowed_the_contracts_commands_as_one_set() {
        let capability: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(repo_file("src-tauri/capabilities/main-window.json")).unwrap(),
        )
        .unwrap();
        let permissions: Vec<&str> = capability["permissions"]
            .as_array()
            .expect("a permission list")
            .iter()
            .filter_map(|p| p.as_str())
            .collect();
        assert!(permissions.contains(&"window-commands"), "{permissions:?}");
        let one_by_one: Vec<_> = permissions
            .iter()
            .filter(|p| p.starts_with("allow-") || p.starts_with("deny-"))
            .collect();
        assert!(
            one_by_one.is_empty(),
            "list commands in contract.rs, not in the capability: {one_by_one:?}"
        );
    }
}
