//! What the till's store and the server's SQLite store share: how a database file is opened
//! (WAL, `synchronous=FULL`, foreign keys, a busy timeout) and how numbered SQL migrations
//! are applied to it.
//!
//! The invariants kept here:
//! - a committed transaction survives a power cut (`synchronous=FULL` in WAL mode);
//! - migrations run all-or-nothing, in one `BEGIN IMMEDIATE` transaction, and running them
//!   twice changes nothing;
//! - a database written by a newer Tillpoint is never opened (its schema is unknown here),
//!   and a migration edited after it shipped is detected by its checksum.
//!
//! It knows nothing of what the stores hold; their schemas live in `migrations/`.

mod migrate;
mod open;

pub use migrate::{migrate, schema_version, MigrationOutcome};
pub use open::{configure, open, open_and_migrate};

use std::path::PathBuf;

/// One numbered SQL file from `migrations/<store>/`, compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot open the database {path}: {source}. Check that the folder exists and is writable"
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path} is not a Tillpoint database or is corrupt ({source}). Move it aside and restore it from a backup, or start with an empty data folder")]
    Corrupt {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path} was written by a newer Tillpoint (schema version {found}; this build knows up to {known}). Install the newer Tillpoint, or point this one at another data folder")]
    NewerThanBuild {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("{path}: migration {version} ({name}) differs from the one applied to this database. A shipped migration must never be edited; add a new one instead")]
    EditedMigration {
        path: PathBuf,
        version: u32,
        name: String,
    },
    #[error("{path}: migration {version} ({name}) failed: {source}")]
    MigrationFailed {
        path: PathBuf,
        version: u32,
        name: String,
        source: rusqlite::Error,
    },
    #[error("database error in {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

impl StoreError {
    /// Wraps a raw SQLite error, recognising the codes that mean the file is not a usable
    /// database so the message can say so instead of "file is not a database".
    pub(crate) fn sqlite(path: &std::path::Path, source: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode::{DatabaseCorrupt, NotADatabase};
        let path = path.to_path_buf();
        match source.sqlite_error_code() {
            Some(NotADatabase | DatabaseCorrupt) => Self::Corrupt { path, source },
            _ => Self::Sqlite { path, source },
        }
    }
}
