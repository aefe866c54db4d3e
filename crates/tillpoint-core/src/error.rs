//! The core's one error type. Each variant has a stable `code` the desktop shell passes to
//! the UI alongside the message, so screens can react to a kind of failure without parsing
//! text.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::server_url::ServerUrlError;

use crate::error_code::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot use the data folder {path}: {source}. Create it or choose another with TILLPOINT_DATA_DIR")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] tillpoint_sqlite::StoreError),
    #[error(transparent)]
    InvalidServerUrl(#[from] ServerUrlError),
    #[error("the local store is busy with another task that failed; restart Tillpoint")]
    StorePoisoned,
    #[error(transparent)]
    SignIn(#[from] crate::sign_in::session::SignInError),
    #[error(transparent)]
    Sale(#[from] crate::sales::SaleError),
    #[error(transparent)]
    Sync(#[from] crate::sync::SyncError),
}

impl CoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Config(_) => ErrorCode::ConfigInvalid,
            Self::DataDir { .. } => ErrorCode::DataDirUnusable,
            Self::Store(_) | Self::StorePoisoned => ErrorCode::StoreUnavailable,
            Self::InvalidServerUrl(_) => ErrorCode::InvalidServerUrl,
            Self::SignIn(err) => err.code(),
            Self::Sale(err) => err.code(),
            Self::Sync(err) => err.code(),
        }
    }
}

impl From<rusqlite::Error> for CoreError {
    fn from(source: rusqlite::Error) -> Self {
        Self::Store(tillpoint_sqlite::StoreError::Sqlite {
            path: PathBuf::from(crate::store::STORE_FILE),
            source,
        })
    }
}
