//! Declares the app's commands to Tauri, which then refuses any command a window's capability
//! does not allow (verified-facts.md): without this, every command is callable from every
//! webview. The commands are read from the one list in `src/contract.rs`, and the window's
//! capability grants them through the permission set made here (`window-commands`), so a new
//! command is named once. A test in `contract.rs` checks what was read against the list the
//! macro collected (`TILLPOINT_WINDOW_COMMANDS`).

use std::path::Path;

const CONTRACT: &str = "src-tauri/src/contract.rs";

/// The command names in `collect_commands![...]`: the last segment of each path.
fn contract_commands(source: &str) -> Vec<String> {
    let start = source
        .find("collect_commands![")
        .unwrap_or_else(|| panic!("{CONTRACT} has no collect_commands![...]"));
    let list = &source[start + "collect_commands![".len()..];
    let list = &list[..list
        .find(']')
        .unwrap_or_else(|| panic!("{CONTRACT}: collect_commands![ is not closed"))];
    list.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|path| {
            let name = path.rsplit("::").next().unwrap_or(path).trim();
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{CONTRACT}: cannot read a command name from {path:?}"
            );
            name.to_owned()
        })
        .collect()
}

/// A permission set allowing every command, in Tauri's permission file format.
fn window_commands_set(commands: &[String]) -> String {
    let allowed: Vec<String> = commands
        .iter()
        .map(|c| format!("\"allow-{}\"", c.replace('_', "-")))
        .collect();
    format!(
        "# Made by build.rs from {CONTRACT}.\n\n[[set]]\nidentifier = \"window-commands\"\n\
         description = \"Every command of the desktop contract ({CONTRACT}).\"\n\
         permissions = [{}]\n",
        allowed.join(", ")
    )
}

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed={CONTRACT}");
    // The window's assets are embedded at compile time: a new UI build must rebuild the app.
    println!("cargo:rerun-if-changed=ui/dist");

    let source = std::fs::read_to_string(CONTRACT).expect("the contract is readable");
    let commands = contract_commands(&source);
    println!(
        "cargo:rustc-env=TILLPOINT_WINDOW_COMMANDS={}",
        commands.join(",")
    );

    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let permissions = Path::new(&out_dir).join("app-permissions");
    std::fs::create_dir_all(&permissions).expect("OUT_DIR is writable");
    let set = window_commands_set(&commands);
    let file = permissions.join("window-commands.toml");
    if std::fs::read_to_string(&file).ok().as_deref() != Some(set.as_str()) {
        std::fs::write(&file, set).expect("OUT_DIR is writable");
    }

    // tauri-build keeps these for the whole build; the script ends right after.
    let names: &'static [&'static str] = commands
        .into_iter()
        .map(|c| &*Box::leak(c.into_boxed_str()))
        .collect::<Vec<_>>()
        .leak();
    let pattern: &'static str = format!("{}/*.toml", permissions.display()).leak();
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("src-tauri/capabilities/**/*")
            .app_manifest(
                tauri_build::AppManifest::new()
                    .commands(names)
                    .permissions_path_pattern(pattern),
            ),
    )
    .expect("tauri build configuration is valid");
}
