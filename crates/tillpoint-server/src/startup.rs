//! Builds the server from a [`ServerConfig`]: data folder, database, router, listener.
//! Tests build it exactly the same way on port 0 and speak HTTP to it.

use std::future::Future;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::config::{ServerConfig, MAX_BODY_BYTES};
use crate::http::{error::not_found, routes};
use crate::store::{Database, DbError};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data folder {path}: {source}. Create it, or pass --data-dir with a writable folder")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("{addr} is already in use (is another tillpoint-server running?). Stop it, or pass --listen 127.0.0.1:<another port>")]
    AddressInUse { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Opens (creating if needed) the data folder and database and binds the listener. The
    /// server accepts connections only once [`Application::run_until`] is called.
    pub async fn build(config: &ServerConfig) -> Result<Self, StartError> {
        let db = open_database(config)?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| match source.kind() {
                    ErrorKind::AddrInUse => StartError::AddressInUse {
                        addr: config.listen,
                    },
                    _ => StartError::Listen {
                        addr: config.listen,
                        source,
                    },
                })?;
        Ok(Self {
            listener,
            state: AppState { db },
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn database(&self) -> &Database {
        &self.state.db
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = router(self.state);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Opens the data folder and the migrated database described by `config`.
pub fn open_database(config: &ServerConfig) -> Result<Database, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    Ok(Database::open(&config.database_path())?)
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
