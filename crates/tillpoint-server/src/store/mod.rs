//! The server's database: SQLite in the data folder by default, or PostgreSQL for a chain
//! that runs several server instances (docs/decisions/server-store.md). Either is migrated
//! at start-up, before the server accepts a single request.
//!
//! Handlers never hold a connection across an `.await`: they hand a closure to
//! [`Database::call`] (work that spans organisations) or [`Database::call_in`] (work on
//! behalf of one organisation's token), which runs it on the blocking pool with a pooled
//! [`Connection`]. The closure may run more than once: on PostgreSQL a transaction that loses
//! a serialization conflict to another instance is run again from the start.

use std::path::{Path, PathBuf};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use tillpoint_sqlite::StoreError;

pub mod connection;
pub mod postgres;

pub use connection::{Connection, Params, Row, Statement, Transaction};

use crate::tenancy::Tenant;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/server_migrations.rs"));
}
mod embedded_postgres {
    include!(concat!(env!("OUT_DIR"), "/server_postgres_migrations.rs"));
}

/// Readers run concurrently in WAL mode; writers queue on SQLite's lock (busy timeout).
const SQLITE_POOL_SIZE: u32 = 8;
/// Connections one instance keeps to PostgreSQL unless told otherwise.
pub const DEFAULT_POSTGRES_POOL_SIZE: u32 = 16;
/// How often a unit of work that keeps losing serialization conflicts is tried.
const CONFLICT_ATTEMPTS: u32 = 12;

/// Where the data lives: `sqlite:PATH` or `postgres://…`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(
                    "sqlite: needs a file path, e.g. sqlite:/srv/tillpoint/server.db".into(),
                );
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url.parse::<::postgres::Config>()
                .map_err(|e| format!("the PostgreSQL connection string is not valid: {e}"))?;
            Ok(Self::Postgres(url.to_owned()))
        } else {
            Err(format!(
                "a database URL starts with sqlite: or postgres:// (got {:?})",
                url.split(':').next().unwrap_or("")
            ))
        }
    }

    /// The URL without its password, for logs.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite:{}", path.display()),
            Self::Postgres(url) => match url.parse::<::postgres::Config>() {
                Ok(config) => format!(
                    "postgres://{}@{}/{}",
                    config.get_user().unwrap_or(""),
                    config
                        .get_hosts()
                        .iter()
                        .map(|h| match h {
                            ::postgres::config::Host::Tcp(h) => h.clone(),
                            ::postgres::config::Host::Unix(p) => p.display().to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                    config.get_dbname().unwrap_or("")
                ),
                Err(_) => "postgres://…".into(),
            },
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[derive(Clone)]
pub struct Database {
    engine: Engine,
}

#[derive(Clone)]
enum Engine {
    Sqlite {
        pool: r2d2::Pool<SqliteConnectionManager>,
        path: PathBuf,
    },
    Postgres {
        pool: r2d2::Pool<postgres::Manager>,
        url: DatabaseUrl,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error(transparent)]
    Migrate(#[from] postgres::migrate::MigrateError),
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl Database {
    /// Opens the SQLite database at `path`, applying pending migrations first. Refuses a
    /// database that is corrupt or newer than this build, with a message that says what to do.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        drop(tillpoint_sqlite::open_and_migrate(
            path,
            embedded::MIGRATIONS,
        )?);
        let manager = SqliteConnectionManager::file(path)
            .with_init(|conn: &mut rusqlite::Connection| tillpoint_sqlite::configure(conn));
        let pool = r2d2::Pool::builder()
            .max_size(SQLITE_POOL_SIZE)
            .build(manager)?;
        Ok(Self {
            engine: Engine::Sqlite {
                pool,
                path: path.to_path_buf(),
            },
        })
    }

    /// Opens the database `url` names, migrating it first. `pool_size` only matters for
    /// PostgreSQL: the connections this instance may hold.
    pub fn connect(url: &DatabaseUrl, pool_size: u32) -> Result<Self, DbError> {
        match url {
            DatabaseUrl::Sqlite(path) => Self::open(path),
            DatabaseUrl::Postgres(text) => {
                let config: ::postgres::Config = text.parse().map_err(DbError::Postgres)?;
                let mut client = config.connect(::postgres::NoTls)?;
                postgres::migrate::migrate(&mut client, embedded_postgres::MIGRATIONS)?;
                drop(client);
                let pool = r2d2::Pool::builder()
                    .max_size(pool_size.max(1))
                    .connection_timeout(Duration::from_secs(10))
                    .build(postgres::Manager::new(config))?;
                Ok(Self {
                    engine: Engine::Postgres {
                        pool,
                        url: url.clone(),
                    },
                })
            }
        }
    }

    /// The SQLite file, or `None` on PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.engine {
            Engine::Sqlite { path, .. } => Some(path),
            Engine::Postgres { .. } => None,
        }
    }

    /// Where the data is, for logs (no password).
    pub fn describe(&self) -> String {
        match &self.engine {
            Engine::Sqlite { path, .. } => format!("sqlite:{}", path.display()),
            Engine::Postgres { url, .. } => url.redacted(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.engine, Engine::Postgres { .. })
    }

    /// The newest server migration this build knows.
    pub fn known_schema_version() -> u32 {
        embedded::MIGRATIONS.last().map_or(0, |m| m.version)
    }

    /// The newest PostgreSQL migration this build knows: always the same as SQLite's.
    pub fn known_postgres_schema_version() -> u32 {
        embedded_postgres::MIGRATIONS
            .last()
            .map_or(0, |m| m.version)
    }

    /// Runs `work` with a pooled connection on the blocking pool, for work that spans
    /// organisations (sign-in by name, refresh by token, start-up). Writes inside `work`
    /// open their own transaction.
    pub async fn call<T, E>(
        &self,
        work: impl FnMut(&mut Connection<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.call_scoped(postgres::ALL_ORGANISATIONS.to_owned(), work)
            .await
    }

    /// [`Database::call`] on behalf of `tenant`: on PostgreSQL, row-level security then shows
    /// `work` only that organisation's rows, whatever its queries forget to filter.
    pub async fn call_in<T, E>(
        &self,
        tenant: &Tenant,
        work: impl FnMut(&mut Connection<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.call_scoped(tenant.org().to_string(), work).await
    }

    async fn call_scoped<T, E>(
        &self,
        scope: String,
        work: impl FnMut(&mut Connection<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.run(&scope, work))
            .await
            .map_err(DbError::from)?
    }

    /// The same as [`Database::call`] for code that is already on a blocking thread (the
    /// command line, seeding).
    pub fn call_blocking<T, E>(
        &self,
        work: impl FnMut(&mut Connection<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DbError>,
    {
        self.run(postgres::ALL_ORGANISATIONS, work)
    }

    /// [`Database::call_in`] on a blocking thread, with the organisation named directly: for
    /// tests that check what row-level security lets through.
    pub fn call_blocking_in<T, E>(
        &self,
        org: tillpoint_protocol::OrgId,
        work: impl FnMut(&mut Connection<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DbError>,
    {
        self.run(&org.to_string(), work)
    }

    fn run<T, E>(
        &self,
        scope: &str,
        mut work: impl FnMut(&mut Connection<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DbError>,
    {
        match &self.engine {
            Engine::Sqlite { pool, .. } => {
                let conn = pool.get().map_err(DbError::from)?;
                work(&mut Connection::sqlite(&conn))
            }
            Engine::Postgres { pool, .. } => {
                let session = pool.get().map_err(DbError::from)?;
                let mut attempt = 1;
                loop {
                    session.start_work(scope).map_err(DbError::from)?;
                    let outcome = work(&mut Connection::postgres(&session));
                    if outcome.is_ok() || !session.lost_conflict() || attempt >= CONFLICT_ATTEMPTS {
                        return outcome;
                    }
                    // Back off a little, more each time, so the winners finish first.
                    let jitter = rand::random::<u64>() % (2 << attempt.min(6));
                    std::thread::sleep(Duration::from_millis(jitter));
                    attempt += 1;
                }
            }
        }
    }
}
