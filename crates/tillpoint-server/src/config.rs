//! The server's settings. Precedence: command-line flag, then environment variable, then
//! the config file (`--config`/`TILLPOINT_SERVER_CONFIG`, TOML with the same keys), then the
//! default.
//!
//! | key         | flag          | environment                   | default                              |
//! |-------------|---------------|-------------------------------|--------------------------------------|
//! | `data_dir`  | `--data-dir`  | `TILLPOINT_SERVER_DATA_DIR`   | `<OS data folder>/tillpoint-server`  |
//! | `listen`    | `--listen`    | `TILLPOINT_SERVER_LISTEN`     | `127.0.0.1:8787` (loopback only)     |
//! | `log_level` | `--log-level` | `TILLPOINT_SERVER_LOG_LEVEL`  | `info`                               |
//! | `database_url` | `--database-url` | `TILLPOINT_SERVER_DATABASE_URL` | `sqlite:<data_dir>/server.db` |
//! | `database_pool_size` | `--database-pool-size` | `TILLPOINT_SERVER_DATABASE_POOL_SIZE` | 16 (PostgreSQL only) |
//!
//! `database_url` is `sqlite:PATH` or `postgres://user:password@host:port/database`; several
//! instances may share one PostgreSQL database (docs/decisions/server-store.md).
//!
//! The master key (which encrypts the token-signing keys at rest) is
//! `TILLPOINT_SERVER_MASTER_KEY` (base64 of 32 bytes) if set, else the file
//! `--master-key-file` / `TILLPOINT_SERVER_MASTER_KEY_FILE`, else `<data_dir>/master.key`
//! (created on first start, mode 0600). Back it up with the database.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::identity::master_key::MasterKeySource;
use crate::store::{DatabaseUrl, DEFAULT_POSTGRES_POOL_SIZE};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
/// The largest request body any endpoint accepts; sync batches are bounded well below it.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The master key file's name in the data folder, unless another is named.
pub const MASTER_KEY_FILE: &str = "master.key";

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub log_level: String,
    /// Where the key that encrypts signing keys at rest comes from.
    pub master_key: MasterKeySource,
    /// Reverse proxies in front of the server, whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// Where the data lives; `None` is SQLite in `data_dir`.
    pub database_url: Option<DatabaseUrl>,
    /// Connections this instance may hold to PostgreSQL.
    pub database_pool_size: u32,
}

impl ServerConfig {
    /// A server on a free loopback port with its database in `data_dir`: what tests use.
    pub fn for_tests(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            listen: "127.0.0.1:0".parse().expect("valid address"),
            log_level: "warn".into(),
            master_key: MasterKeySource::File(data_dir.join(MASTER_KEY_FILE)),
            trusted_proxies: Vec::new(),
            database_url: None,
            database_pool_size: DEFAULT_POSTGRES_POOL_SIZE,
        }
    }

    /// The database: the one named, else `server.db` in the data folder.
    pub fn database_url(&self) -> DatabaseUrl {
        self.database_url
            .clone()
            .unwrap_or_else(|| DatabaseUrl::Sqlite(self.data_dir.join("server.db")))
    }
}

/// What may be set in the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub log_level: Option<String>,
    pub trusted_proxies: Option<Vec<IpAddr>>,
    pub database_url: Option<String>,
    pub database_pool_size: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the config file {path} is not valid: {message}. Keys allowed: data_dir, listen, log_level, trusted_proxies, database_url, database_pool_size"
    )]
    Invalid { path: PathBuf, message: String },
    #[error("listen address {value:?} in {path} is not an IP:port such as 127.0.0.1:8787")]
    BadListen { path: PathBuf, value: String },
    #[error("log level {0:?} is not one of error, warn, info, debug, trace")]
    BadLogLevel(String),
    #[error("database URL: {0}")]
    BadDatabaseUrl(String),
    #[error("the database pool size must be 1 to 1000 (got {0})")]
    BadPoolSize(u32),
    #[error("no data folder given and the OS has no data folder for this user; pass --data-dir")]
    NoDataDir,
}

pub fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        message: e.message().to_owned(),
    })
}

/// What the command line (flags and environment, already merged by clap) says; each `None`
/// or empty value falls back to the config file, then to the default.
#[derive(Debug, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub log_level: Option<String>,
    pub master_key: Option<MasterKeySource>,
    pub trusted_proxies: Vec<IpAddr>,
    pub database_url: Option<String>,
    pub database_pool_size: Option<u32>,
}

/// Combines the command line's [`Overrides`] with the config file.
pub fn resolve(
    overrides: Overrides,
    config_file: Option<&Path>,
) -> Result<ServerConfig, ConfigError> {
    let Overrides {
        data_dir,
        listen,
        log_level,
        master_key,
        trusted_proxies,
        database_url,
        database_pool_size,
    } = overrides;
    let file = match config_file {
        Some(path) => read_file(path)?,
        None => FileConfig::default(),
    };
    let listen = match (listen, file.listen) {
        (Some(addr), _) => addr,
        (None, Some(value)) => value.parse().map_err(|_| ConfigError::BadListen {
            path: config_file
                .expect("a file value implies a file")
                .to_path_buf(),
            value,
        })?,
        (None, None) => DEFAULT_LISTEN.parse().expect("valid default"),
    };
    let data_dir = match data_dir.or(file.data_dir) {
        Some(dir) => dir,
        None => dirs::data_dir()
            .ok_or(ConfigError::NoDataDir)?
            .join("tillpoint-server"),
    };
    let log_level = log_level
        .or(file.log_level)
        .unwrap_or_else(|| "info".into());
    if !matches!(
        log_level.as_str(),
        "error" | "warn" | "info" | "debug" | "trace"
    ) {
        return Err(ConfigError::BadLogLevel(log_level));
    }
    let master_key =
        master_key.unwrap_or_else(|| MasterKeySource::File(data_dir.join(MASTER_KEY_FILE)));
    let trusted_proxies = if trusted_proxies.is_empty() {
        file.trusted_proxies.unwrap_or_default()
    } else {
        trusted_proxies
    };
    let database_url = database_url
        .or(file.database_url)
        .map(|url| DatabaseUrl::parse(&url).map_err(ConfigError::BadDatabaseUrl))
        .transpose()?;
    let database_pool_size = database_pool_size
        .or(file.database_pool_size)
        .unwrap_or(DEFAULT_POSTGRES_POOL_SIZE);
    if !(1..=1000).contains(&database_pool_size) {
        return Err(ConfigError::BadPoolSize(database_pool_size));
    }
    Ok(ServerConfig {
        data_dir,
        listen,
        log_level,
        master_key,
        trusted_proxies,
        database_url,
        database_pool_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_listen_on_loopback_only() {
        let config = resolve(
            Overrides {
                data_dir: Some("/tmp/x".into()),
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8787");
        assert!(config.listen.ip().is_loopback());
        assert_eq!(config.log_level, "info");
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/tp\"\nlog_level = \"debug\"",
        )
        .unwrap();
        let from_file = resolve(Overrides::default(), Some(&path)).unwrap();
        assert_eq!(from_file.listen.port(), 9000);
        assert_eq!(from_file.data_dir, PathBuf::from("/srv/tp"));
        let flagged = resolve(
            Overrides {
                data_dir: Some("/other".into()),
                listen: Some("127.0.0.1:9001".parse().unwrap()),
                log_level: Some("warn".into()),
                ..Default::default()
            },
            Some(&path),
        )
        .unwrap();
        assert_eq!(flagged.listen.port(), 9001);
        assert_eq!(flagged.data_dir, PathBuf::from("/other"));
        assert_eq!(flagged.log_level, "warn");
    }

    #[test]
    fn bad_files_and_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, "listen = \"everywhere\"").unwrap();
        let err = resolve(Overrides::default(), Some(&path)).unwrap_err();
        assert!(matches!(err, ConfigError::BadListen { .. }), "{err}");
        std::fs::write(&path, "port = 1").unwrap();
        assert!(matches!(
            resolve(Overrides::default(), Some(&path)).unwrap_err(),
            ConfigError::Invalid { .. }
        ));
        assert!(matches!(
            resolve(Overrides::default(), Some(&dir.path().join("missing.toml"))).unwrap_err(),
            ConfigError::Unreadable { .. }
        ));
        assert!(matches!(
            resolve(
                Overrides {
                    data_dir: Some("/x".into()),
                    log_level: Some("chatty".into()),
                    ..Default::default()
                },
                None
            )
            .unwrap_err(),
            ConfigError::BadLogLevel(_)
        ));
    }
}
