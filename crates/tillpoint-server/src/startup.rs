//! Builds the server from a [`ServerConfig`]: data folder, database, router, listener.
//! Tests build it exactly the same way on port 0 and speak HTTP to it.

use std::future::Future;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::Clock;
use crate::config::{ServerConfig, MAX_BODY_BYTES};
use crate::http::error::{method_not_allowed, not_found};
use crate::http::error_answers::ErrorAnswers;
use crate::http::routes;
use crate::identity::keys::{KeyError, KeyRing};
use crate::identity::master_key::MasterKey;
use crate::identity::sessions::Identity;
use crate::store::{Database, DbError};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    pub identity: Arc<Identity>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<IpAddr>>,
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
    #[error(transparent)]
    Keys(#[from] KeyError),
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
        Self::build_with_clock(config, Clock::default()).await
    }

    /// As [`Application::build`], with a clock tests can move forward.
    pub async fn build_with_clock(config: &ServerConfig, clock: Clock) -> Result<Self, StartError> {
        // Opening migrates and may talk to PostgreSQL through its blocking client, which must
        // not run on the async worker.
        let opening = config.clone();
        let (db, keys) = tokio::task::spawn_blocking(move || -> Result<_, StartError> {
            let db = open_database(&opening)?;
            let master = MasterKey::load(&opening.master_key).map_err(KeyError::from)?;
            let keys = KeyRing::open(&db, master)?;
            Ok((db, keys))
        })
        .await
        .map_err(|e| StartError::Database(DbError::Task(e)))??;
        let identity = Arc::new(Identity::new(db.clone(), keys, clock));
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
            state: AppState {
                db,
                identity,
                trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            },
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

    pub fn identity(&self) -> &Arc<Identity> {
        &self.state.identity
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = router(self.state);
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
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
    Ok(Database::connect(
        &config.database_url(),
        config.database_pool_size,
    )?)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Tillpoint server API", description = "Accounts, tokens, master data and sync for Tillpoint tills."),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
    }
}

/// Every route, registered with its OpenAPI description: a route cannot be added without
/// appearing in `/api/v1/openapi.json`.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(routes::health::healthz))
        .routes(routes!(routes::jwks::jwks))
        .routes(routes!(routes::auth::login))
        .routes(routes!(routes::auth::refresh))
        .routes(routes!(routes::auth::logout))
        .routes(routes!(routes::me::me))
        .routes(routes!(
            routes::admin_users::list_users,
            routes::admin_users::create_user
        ))
        .routes(routes!(routes::admin_users::get_user))
        .routes(routes!(routes::admin_users::disable_user))
        .routes(routes!(routes::admin_users::enable_user))
        .routes(routes!(routes::admin_users::reset_password))
        .routes(routes!(routes::admin_users::assign_role))
        .routes(routes!(
            routes::admin_roles::list_roles,
            routes::admin_roles::create_role
        ))
        .routes(routes!(routes::admin_roles::set_role_permissions))
        .routes(routes!(
            routes::admin_settings::get_settings,
            routes::admin_settings::put_settings
        ))
        .routes(routes!(routes::admin_devices::list_devices))
        .routes(routes!(routes::admin_devices::revoke_device))
        .routes(routes!(routes::admin_devices::rebase_chain))
        .routes(routes!(routes::products::list_products))
        .routes(routes!(routes::products::get_product))
        .routes(routes!(routes::sync::pull))
        .routes(routes!(routes::sync::list_quarantine))
        .routes(routes!(routes::sync::release_quarantined))
        .routes(routes!(routes::sync::void_quarantined))
        .merge(
            // A full batch of large sales is more than the 2 MiB every other body may be.
            OpenApiRouter::new()
                .routes(routes!(routes::sync::push))
                .layer(DefaultBodyLimit::max(routes::sync::PUSH_MAX_BODY_BYTES)),
        )
        .merge(
            // An exported file is not bounded by a push batch.
            OpenApiRouter::new()
                .routes(routes!(routes::sync::import))
                .layer(DefaultBodyLimit::max(routes::sync::IMPORT_MAX_BODY_BYTES)),
        )
}

/// The routes and the API document that describes them, with the error answers the shared
/// extractors give added to every operation they apply to ([`ErrorAnswers`]; added here, not
/// as an `#[openapi]` modifier, because those run before the routes are registered).
fn api_and_document() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = api().split_for_parts();
    ErrorAnswers.modify(&mut doc);
    (router, doc)
}

/// The generated API document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_and_document().1
}

pub fn router(state: AppState) -> Router {
    let (router, doc) = api_and_document();
    let doc = Arc::new(doc);
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
