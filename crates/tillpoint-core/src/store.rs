//! The till's own database: one SQLite file in the data folder, migrated from
//! `migrations/client/` every time it is opened. It is the till's source of truth while it
//! is offline, so it is opened durable (WAL, `synchronous=FULL`) and never in memory.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use crate::error::CoreError;
use crate::private_files;
use crate::seal::{self, SealKey};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/client_migrations.rs"));
}

/// The file name of the store inside the data folder.
pub const STORE_FILE: &str = "till.db";

pub struct LocalStore {
    path: PathBuf,
    conn: Mutex<Connection>,
    /// The key `till_seal` seals with ([`crate::seal`]); loaded from the keyring by the till.
    seal_key: SealKey,
}

impl LocalStore {
    /// Opens (creating if needed) and migrates the store in `data_dir`. The file is private
    /// to this account before SQLite writes to it, and SQLite gives its `-wal` and `-shm` the
    /// same mode; those left by an older Tillpoint are tightened here ([`private_files`]).
    pub fn open(data_dir: &Path) -> Result<Self, CoreError> {
        let path = data_dir.join(STORE_FILE);
        let private = |path: &Path| {
            private_files::make_private_if_exists(path).map_err(|source| CoreError::DataDir {
                path: path.to_path_buf(),
                source,
            })
        };
        if !path.exists() {
            // An empty file is a new database to SQLite: this one is created 0600.
            if let Err(source) = private_files::create_new_private_file(&path) {
                if source.kind() != std::io::ErrorKind::AlreadyExists {
                    return Err(CoreError::DataDir { path, source });
                }
            }
        }
        private(&path)?;
        let conn = tillpoint_sqlite::open_and_migrate(&path, embedded::MIGRATIONS)?;
        let seal_key = SealKey::default();
        seal::register(&conn, seal_key.clone())?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.clone().into_os_string();
            side.push(suffix);
            private(Path::new(&side))?;
        }
        Ok(Self {
            path,
            conn: Mutex::new(conn),
            seal_key,
        })
    }

    pub(crate) fn seal_key(&self) -> &SealKey {
        &self.seal_key
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every client migration this build knows, oldest first: what [`LocalStore::open`]
    /// applies. Public so that a test can build a store as an older Tillpoint left it.
    pub fn migrations() -> &'static [tillpoint_sqlite::Migration] {
        embedded::MIGRATIONS
    }

    /// The newest client migration this build knows.
    pub fn known_schema_version() -> u32 {
        embedded::MIGRATIONS.last().map_or(0, |m| m.version)
    }

    pub(crate) fn conn(&self) -> Result<MutexGuard<'_, Connection>, CoreError> {
        self.conn.lock().map_err(|_| CoreError::StorePoisoned)
    }

    /// Runs `f` with the store's own connection (the one the till sells through, with its
    /// statement cache), holding the store's lock meanwhile. For benchmarks and tools:
    /// application code goes through [`crate::Till`]'s methods, which check permissions.
    pub fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> T) -> Result<T, CoreError> {
        Ok(f(&*self.conn()?))
    }

    pub fn schema_version(&self) -> Result<u32, CoreError> {
        Ok(tillpoint_sqlite::schema_version(&*self.conn()?)?)
    }

    /// How many products the till can sell from (active ones).
    pub fn product_count(&self) -> Result<u64, CoreError> {
        let count: i64 = self.conn()?.query_row(
            "SELECT COUNT(*) FROM products WHERE active = 1",
            [],
            |row| row.get(0),
        )?;
        Ok(count as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_store_is_migrated_and_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            LocalStore::known_schema_version()
        );
        assert_eq!(store.product_count().unwrap(), 0);
        assert!(dir.path().join(STORE_FILE).exists());
    }

    #[test]
    fn counts_active_products_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        store
            .conn()
            .unwrap()
            .execute_batch(
                "INSERT INTO tax_classes VALUES ('t1', 'standard', 'VAT 15%', 1500);
                 INSERT INTO products VALUES ('p1', 'SKU1', 'Bread', 'each', 't1', 120, 'USD', 1, '2026-01-01T00:00:00Z');
                 INSERT INTO products VALUES ('p2', 'SKU2', 'Milk',  'each', 't1',  99, 'USD', 1, '2026-01-01T00:00:00Z');
                 INSERT INTO products VALUES ('p3', 'SKU3', 'Old',   'each', 't1',  10, 'USD', 0, '2026-01-01T00:00:00Z');",
            )
            .unwrap();
        assert_eq!(store.product_count().unwrap(), 2);
        drop(store);
        // And it is still there after reopening: the store is on disk, not in memory.
        assert_eq!(
            LocalStore::open(dir.path())
                .unwrap()
                .product_count()
                .unwrap(),
            2
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_store_and_its_side_files_are_private_to_the_account() {
        use crate::private_files::mode_of;
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        store
            .conn()
            .unwrap()
            .execute_batch("INSERT INTO tax_classes VALUES ('t1', 'standard', 'VAT', 1500);")
            .unwrap();
        for name in ["till.db", "till.db-wal", "till.db-shm"] {
            assert_eq!(mode_of(&dir.path().join(name)), 0o600, "{name}");
        }
        drop(store);
        // A store an older Tillpoint left readable is tightened when opened.
        use std::os::unix::fs::PermissionsExt;
        let loose = std::fs::Permissions::from_mode(0o644);
        std::fs::set_permissions(dir.path().join("till.db"), loose).unwrap();
        let _store = LocalStore::open(dir.path()).unwrap();
        assert_eq!(mode_of(&dir.path().join("till.db")), 0o600);
    }

    #[test]
    fn a_corrupt_store_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        let garbage = vec![0x5a_u8; 8192];
        std::fs::write(&path, &garbage).unwrap();
        let err = LocalStore::open(dir.path()).err().expect("must refuse");
        assert_eq!(err.code(), "store_unavailable");
        assert!(err.to_string().contains("corrupt"), "{err}");
        // The damaged file is left for recovery, never overwritten.
        assert_eq!(std::fs::read(&path).unwrap(), garbage);
    }
}
