// Shared by the build scripts of the crates that own a store (`#[path]`-included, std only,
// so no build script pulls SQLite into the host build). It turns a folder of numbered SQL
// files into a `MIGRATIONS` table compiled into the binary, and reruns when the folder
// changes, so a new migration can never be silently left out of a build.

use std::fmt::Write as _;
use std::path::Path;

/// Writes `$OUT_DIR/<out_file>` holding
/// `pub static MIGRATIONS: &[tillpoint_sqlite::Migration]` for every `NNNN_name.sql` in `dir`.
/// Panics (failing the build) on a misnamed file, a duplicate or a gap in the numbering.
pub fn embed_migrations(dir: &str, out_file: &str) {
    embed(dir, out_file, 1);
}

/// The same for a folder whose first file is a baseline: numbered as the version of the
/// schema it creates from nothing, the files after it consecutive.
#[allow(dead_code)] // Only the server's build uses it.
pub fn embed_migrations_from_baseline(dir: &str, out_file: &str) {
    embed(dir, out_file, 0);
}

/// `first` is the number the first file must have, or 0 for any.
fn embed(dir: &str, out_file: &str, first: u32) {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join(dir);
    let dir = dir
        .canonicalize()
        .unwrap_or_else(|e| panic!("migrations folder {} is missing: {e}", dir.display()));
    println!("cargo:rerun-if-changed={}", dir.display());

    let mut files: Vec<(u32, String, std::path::PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("migrations folder is readable") {
        let path = entry.expect("migrations folder entry").path();
        let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(stem) = file_name.strip_suffix(".sql") else {
            continue;
        };
        let (number, name) = stem
            .split_once('_')
            .unwrap_or_else(|| panic!("migration {file_name} must be named NNNN_name.sql"));
        let version: u32 = number
            .parse()
            .unwrap_or_else(|_| panic!("migration {file_name} must start with its number"));
        files.push((version, name.to_owned(), path));
    }
    files.sort();
    let start = match (first, files.first()) {
        (0, Some((version, _, _))) => *version,
        _ => first,
    };
    for (index, (version, _, path)) in files.iter().enumerate() {
        let expected = index as u32 + start;
        assert_eq!(
            *version,
            expected,
            "migrations must be numbered consecutively from {start} without gaps or duplicates; {} should be {expected}",
            path.display()
        );
    }

    let mut code = String::from("pub static MIGRATIONS: &[tillpoint_sqlite::Migration] = &[\n");
    for (version, name, path) in &files {
        writeln!(
            code,
            "    tillpoint_sqlite::Migration {{ version: {version}, name: {name:?}, sql: include_str!({path:?}) }},",
            path = path.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join(out_file);
    std::fs::write(out, code).expect("write the embedded migrations");
}
