//! The server's database: SQLite in the data folder by default, migrated from
//! `migrations/server/` at start-up, before the server accepts a single request.
//!
//! Handlers never hold a connection across an `.await`: they hand a closure to
//! [`Database::call`], which runs it on the blocking pool with a pooled connection. This is
//! the seam where the PostgreSQL backend (scale-out) will plug in behind one storage trait.

use std::path::{Path, PathBuf};

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;
use tillpoint_sqlite::StoreError;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/server_migrations.rs"));
}

/// Readers run concurrently in WAL mode; writers queue on SQLite's lock (busy timeout).
const POOL_SIZE: u32 = 8;

#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<SqliteConnectionManager>,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl Database {
    /// Opens the database at `path`, applying pending migrations first. Refuses a database
    /// that is corrupt or newer than this build, with a message that says what to do.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        drop(tillpoint_sqlite::open_and_migrate(
            path,
            embedded::MIGRATIONS,
        )?);
        let manager = SqliteConnectionManager::file(path)
            .with_init(|conn: &mut Connection| tillpoint_sqlite::configure(conn));
        let pool = r2d2::Pool::builder().max_size(POOL_SIZE).build(manager)?;
        Ok(Self {
            pool,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The newest server migration this build knows.
    pub fn known_schema_version() -> u32 {
        embedded::MIGRATIONS.last().map_or(0, |m| m.version)
    }

    /// Runs `work` with a pooled connection on the blocking pool. Writes inside `work` open
    /// their own `BEGIN IMMEDIATE` transaction.
    pub async fn call<T, E>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            work(&mut conn)
        })
        .await
        .map_err(DbError::from)?
    }

    /// The same as [`Database::call`] for code that is already on a blocking thread (the
    /// command line, seeding).
    pub fn call_blocking<T, E>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let mut conn = self.pool.get().map_err(DbError::from)?;
        work(&mut conn)
    }
}
