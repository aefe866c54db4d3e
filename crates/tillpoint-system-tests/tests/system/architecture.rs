//! The arrows of docs/architecture.md, checked against the workspace as cargo resolves it:
//! which Tillpoint crate may depend on which (in any dependency kind), and what must never
//! appear in a crate's build at all (the core never links Tauri; the protocol never links
//! an I/O stack; the server never links the till's core). A new arrow fails here until the
//! document and this table are changed together.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Which workspace crates each package may depend on, in any dependency kind.
const ALLOWED: &[(&str, &[&str])] = &[
    ("tillpoint-protocol", &[]),
    ("tillpoint-sqlite", &[]),
    ("tillpoint-password", &[]),
    ("tillpoint-receipt", &["tillpoint-protocol"]),
    (
        "tillpoint-core",
        &[
            "tillpoint-protocol",
            "tillpoint-sqlite",
            "tillpoint-password",
            "tillpoint-receipt",
        ],
    ),
    (
        "tillpoint-server",
        &[
            "tillpoint-protocol",
            "tillpoint-sqlite",
            "tillpoint-password",
        ],
    ),
    (
        "tillpoint",
        &["tillpoint-core", "tillpoint-protocol", "tillpoint-receipt"],
    ),
    (
        "tillpoint-system-tests",
        &[
            "tillpoint-core",
            "tillpoint-server",
            "tillpoint-protocol",
            "tillpoint-sqlite",
            "tillpoint-password",
            "tillpoint-receipt",
        ],
    ),
    (
        "tillpoint-crash",
        &[
            "tillpoint-core",
            "tillpoint-protocol",
            "tillpoint-sqlite",
            "tillpoint-headless",
        ],
    ),
    ("tillpoint-headless", &["tillpoint-core"]),
    (
        "tillpoint-loadgen",
        &[
            "tillpoint-core",
            "tillpoint-headless",
            "tillpoint-protocol",
            "tillpoint-server",
        ],
    ),
    (
        "tillpoint-fuzz-targets",
        &[
            "tillpoint-protocol",
            "tillpoint-core",
            "tillpoint-receipt",
            "tillpoint-sqlite",
            "tillpoint-server",
        ],
    ),
];

/// Packages that must not be anywhere in a crate's normal build.
const NEVER_LINKED: &[(&str, &[&str])] = &[
    (
        "tillpoint-core",
        &["tauri", "wry", "axum", "tillpoint-server"],
    ),
    (
        "tillpoint-protocol",
        &["tokio", "reqwest", "rusqlite", "hyper", "axum"],
    ),
    ("tillpoint-receipt", &["tokio", "rusqlite", "reqwest"]),
    // It kills the server binary; linking the server would test something else.
    ("tillpoint-crash", &["tillpoint-server", "axum", "tauri"]),
    // Secrets in files are for test tills only: the desktop never opens a till this way.
    ("tillpoint-headless", &["tauri", "wry", "tillpoint-server"]),
    ("tillpoint", &["tillpoint-headless"]),
    (
        "tillpoint-server",
        &["tauri", "wry", "tillpoint-core", "tillpoint-receipt"],
    ),
];

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

fn name_of(packages: &[Value], id: &str) -> String {
    packages
        .iter()
        .find(|p| p["id"] == id)
        .and_then(|p| p["name"].as_str())
        .unwrap_or_else(|| panic!("package {id} in the resolve graph"))
        .to_owned()
}

/// Each workspace package's direct Tillpoint dependencies, in every kind (normal, dev, build).
fn workspace_arrows(meta: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .expect("workspace members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let packages = meta["packages"].as_array().expect("packages");
    let mut arrows = BTreeMap::new();
    for package in packages
        .iter()
        .filter(|p| p["id"].as_str().is_some_and(|id| members.contains(id)))
    {
        let name = package["name"].as_str().expect("a name").to_owned();
        let deps: BTreeSet<String> = package["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter_map(|d| d["name"].as_str())
            // A crate may name itself as a dev-dependency to turn on its test features.
            .filter(|n| n.starts_with("tillpoint") && *n != package["name"])
            .map(str::to_owned)
            .collect();
        arrows.insert(name, deps);
    }
    arrows
}

/// Every package in `root`'s normal (non-dev) build, following the resolve graph.
fn normal_closure(meta: &Value, root: &str) -> BTreeSet<String> {
    let packages = meta["packages"].as_array().expect("packages");
    let nodes = meta["resolve"]["nodes"]
        .as_array()
        .expect("a resolve graph");
    let root_id = packages
        .iter()
        .find(|p| p["name"] == root && p["source"].is_null())
        .and_then(|p| p["id"].as_str())
        .unwrap_or_else(|| panic!("{root} is a workspace package"))
        .to_owned();
    let mut seen = BTreeSet::new();
    let mut queue = vec![root_id];
    while let Some(id) = queue.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let node = nodes
            .iter()
            .find(|n| n["id"] == id.as_str())
            .expect("every package has a node");
        for dep in node["deps"].as_array().into_iter().flatten() {
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null());
            if normal {
                queue.push(dep["pkg"].as_str().expect("a package id").to_owned());
            }
        }
    }
    seen.iter().map(|id| name_of(packages, id)).collect()
}

#[test]
fn every_arrow_between_tillpoint_crates_is_one_the_architecture_allows() {
    let meta = metadata();
    let arrows = workspace_arrows(&meta);
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    for (package, deps) in &arrows {
        let Some(may) = allowed.get(package.as_str()) else {
            panic!("{package} is not in docs/architecture.md's table: add it there and here");
        };
        for dep in deps {
            assert!(
                may.contains(&dep.as_str()),
                "{package} depends on {dep}, an arrow docs/architecture.md does not allow"
            );
        }
    }
    for package in allowed.keys() {
        assert!(
            arrows.contains_key(*package),
            "{package} is in the table but not in the workspace"
        );
    }
}

#[test]
fn no_crate_links_what_it_must_never_know() {
    let meta = metadata();
    for (package, never) in NEVER_LINKED {
        let closure = normal_closure(&meta, package);
        for forbidden in *never {
            assert!(
                !closure.contains(*forbidden),
                "{package} links {forbidden}, which docs/architecture.md says it must never know"
            );
        }
    }
}
