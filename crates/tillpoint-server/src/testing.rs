//! The real server, started in-process for tests: the `Application` the binary runs, on a
//! free loopback port, with its own temporary database, and organisations and users made
//! straight in that database. Each call gets fresh folders, so tests run in parallel without
//! seeing each other.
//!
//! Compiled only with the `testing` feature. Two kinds of test start it: the server's own
//! (`crates/tillpoint-server/tests/`) and the system tests that pair it with a real till
//! (`crates/tillpoint-system-tests`); one fixture serves both, so a server that starts
//! differently in one of them cannot happen.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use reqwest::Url;
use tempfile::TempDir;
use tillpoint_protocol::auth::{LoginRequest, TokenResponse};
use tillpoint_protocol::{CurrencyCode, DeviceId, OrgId, RoleId, UserId};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::demo::{self, DemoOptions};
use crate::identity::organisations::{create_organisation, NewOrganisation};
use crate::identity::sessions::Identity;
use crate::identity::users::{create_user, NewUser};
use crate::store::{Database, DatabaseUrl, DbError};
use crate::{Application, ServerConfig};

pub struct TestServer {
    /// Where it listens, e.g. `http://127.0.0.1:41234/`.
    pub url: Url,
    pub db: Database,
    /// The server's clock: `clock.advance(secs)` moves its time forward.
    pub clock: Clock,
    /// Sign-in state: keys (`identity.keys`), throttles, the database.
    pub identity: Arc<Identity>,
    pub data_dir: PathBuf,
    /// The test's own PostgreSQL database when the suite runs on PostgreSQL.
    pub database_url: Option<DatabaseUrl>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    _dir: TempDir,
}

/// Starts the real server (the same `Application` the binary runs) on 127.0.0.1:0.
pub async fn spawn_server() -> TestServer {
    spawn_server_with(|_| {}).await
}

/// As [`spawn_server`], after `configure` adjusts the test configuration.
pub async fn spawn_server_with(configure: impl FnOnce(&mut ServerConfig)) -> TestServer {
    let dir = tempfile::tempdir().expect("temporary folder");
    let clock = Clock::default();
    let mut config = ServerConfig::for_tests(dir.path());
    configure(&mut config);
    if config.database_url.is_none() {
        config.database_url = test_database().await;
    }
    let app = Application::build_with_clock(&config, clock.clone())
        .await
        .expect("the server starts");
    let addr = app.local_addr();
    let url = Url::parse(&format!("http://{addr}")).expect("loopback URL");
    let mut server = TestServer {
        url,
        db: app.database().clone(),
        clock,
        identity: app.identity().clone(),
        data_dir: dir.path().to_path_buf(),
        database_url: config.database_url.clone(),
        addr,
        stop: None,
        task: None,
        _dir: dir,
    };
    server.run(app);
    server
}

/// A server holding the demo organisation (`tillpoint-server demo`) with `products` products
/// and `password` for every demo user.
pub async fn spawn_demo_server(products: usize, password: &str) -> TestServer {
    let server = spawn_server().await;
    let db = server.db.clone();
    let options = DemoOptions {
        products,
        password: Some(password.into()),
    };
    tokio::task::spawn_blocking(move || demo::seed(&db, &options))
        .await
        .expect("the seeding task")
        .expect("demo seeded");
    server
}

pub struct TestOrg {
    pub id: OrgId,
    pub name: String,
    pub roles: Vec<(&'static str, RoleId)>,
}

/// A new random device id, as a till makes on first start.
pub fn new_device() -> DeviceId {
    DeviceId::from_uuid(uuid::Uuid::now_v7())
}

/// The organisation scope of `claims` as if a verified token had carried them: for the fuzz
/// targets (crates/tillpoint-fuzz-targets), which call the ingest without HTTP. Only with the
/// `testing` feature, so the server itself still makes a [`crate::tenancy::Tenant`] only
/// from a verified token.
pub fn tenant_of(claims: &tillpoint_protocol::auth::AccessClaims) -> crate::tenancy::Tenant {
    crate::tenancy::Tenant::from_verified_claims(claims)
}

impl TestServer {
    fn run(&mut self, app: Application) {
        let (stop, stopped) = oneshot::channel::<()>();
        self.task = Some(tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        })));
        self.stop = Some(stop);
    }

    /// Stops accepting connections and waits for the server to finish.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server shut down cleanly");
        }
    }

    /// Stops the server and starts it again on the same address and data folder, as an
    /// operator restarting it would: only what is on disk survives.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut config = ServerConfig::for_tests(&self.data_dir);
        config.listen = self.addr;
        config.database_url = self.database_url.clone();
        let app = Application::build_with_clock(&config, self.clock.clone())
            .await
            .expect("the server starts again");
        self.db = app.database().clone();
        self.identity = app.identity().clone();
        self.run(app);
    }

    /// The URL of `path` on this server, e.g. `server.at("api/v1/me")`.
    pub fn at(&self, path: &str) -> String {
        self.url
            .join(path.trim_start_matches('/'))
            .expect("a relative path")
            .to_string()
    }

    /// Signs in over HTTP, panicking unless it succeeds.
    pub async fn login(&self, username: &str, password: &str, device: DeviceId) -> TokenResponse {
        let response = reqwest::Client::new()
            .post(self.at("api/v1/auth/login"))
            .json(&LoginRequest {
                username: username.into(),
                password: password.into(),
                device_id: device,
                device_key: None,
                device_time: None,
                device_proof: None,
            })
            .send()
            .await
            .expect("the server answers");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "login as {username} failed: {body}");
        serde_json::from_str(&body).expect("a token response")
    }

    /// A new organisation with the standard roles and USD as its base currency.
    pub async fn create_organisation(&self, name: &str) -> TestOrg {
        let name = name.to_owned();
        self.db
            .call(move |conn| -> Result<TestOrg, DbError> {
                let tx = conn.transaction()?;
                let created = create_organisation(
                    &tx,
                    &NewOrganisation {
                        name: &name,
                        tax_number: None,
                        base_currency: CurrencyCode::parse("USD").expect("valid"),
                        base_currency_name: "US Dollar",
                    },
                )?;
                tx.commit()?;
                Ok(TestOrg {
                    id: created.id,
                    name: name.clone(),
                    roles: created.roles,
                })
            })
            .await
            .expect("organisation created")
    }

    /// A user of `org` holding the standard role `role` (e.g. "Cashier").
    pub async fn create_user(
        &self,
        org: &TestOrg,
        username: &str,
        role: &str,
        password: &str,
    ) -> UserId {
        let role_id = org
            .roles
            .iter()
            .find(|(name, _)| *name == role)
            .unwrap_or_else(|| panic!("{role} is not a standard role"))
            .1;
        let (org_id, username, password) = (org.id, username.to_owned(), password.to_owned());
        self.db
            .call(move |conn| -> Result<UserId, DbError> {
                let tx = conn.transaction()?;
                let id = create_user(
                    &tx,
                    &NewUser {
                        org_id,
                        username: &username,
                        name: &username,
                        email: &format!("{username}@test.example"),
                        role_id,
                        password: &password,
                    },
                )?;
                tx.commit()?;
                Ok(id)
            })
            .await
            .expect("user created")
    }
}

/// A second instance of `first`'s server, as a load balancer would put beside it: its own
/// address, folder and clock, and nothing shared but the database and the master key. Only
/// when the suites run on PostgreSQL (`None` on SQLite, whose file one instance owns).
pub async fn spawn_another_instance(first: &TestServer) -> Option<TestServer> {
    let database = first.database_url.clone()?;
    let master = first.data_dir.join(crate::config::MASTER_KEY_FILE);
    Some(
        spawn_server_with(move |config| {
            config.database_url = Some(database);
            config.master_key = crate::identity::master_key::MasterKeySource::File(master);
        })
        .await,
    )
}

/// Names the PostgreSQL cluster the suites run against instead of SQLite: a superuser's
/// connection string (scripts/pg-test-cluster.sh prints it).
pub const ENV_TEST_POSTGRES: &str = "TILLPOINT_TEST_POSTGRES";
/// The role the test servers connect as: not a superuser, so row-level security holds it.
pub const TEST_APP_ROLE: &str = "tillpoint_app";

/// Whether the suites run on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var_os(ENV_TEST_POSTGRES).is_some()
}

/// A fresh database for one test server: `None` (SQLite in its folder) unless
/// [`ENV_TEST_POSTGRES`] names a cluster.
pub async fn test_database() -> Option<DatabaseUrl> {
    let admin = std::env::var(ENV_TEST_POSTGRES).ok()?;
    Some(
        tokio::task::spawn_blocking(move || fresh_postgres_database(&admin))
            .await
            .expect("creating the test database"),
    )
}

/// Another server instance's view of `url`: for tests of several instances on one database.
pub fn postgres_url_as_app(admin: &str, database: &str) -> DatabaseUrl {
    let config: postgres::Config = admin.parse().expect("a PostgreSQL connection string");
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    DatabaseUrl::Postgres(format!(
        "postgres://{TEST_APP_ROLE}@{host}:{port}/{database}"
    ))
}

/// Copies a migrated template (made once per cluster and schema) into a new database owned
/// by [`TEST_APP_ROLE`]: much quicker than migrating each test's database.
fn fresh_postgres_database(admin: &str) -> DatabaseUrl {
    let mut client = postgres::Client::connect(admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("{ENV_TEST_POSTGRES}={admin} does not connect: {e}"));
    let template = format!(
        "tillpoint_template_{}",
        Database::known_postgres_schema_version()
    );
    // Tests start in parallel: one makes the role and the template, the others wait.
    client
        .execute("SELECT pg_advisory_lock(7411)", &[])
        .expect("lock");
    let role_exists = !client
        .query(
            "SELECT 1 FROM pg_roles WHERE rolname = $1",
            &[&TEST_APP_ROLE],
        )
        .expect("roles")
        .is_empty();
    if !role_exists {
        client
            .batch_execute(&format!(
                "CREATE ROLE {TEST_APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"
            ))
            .expect("create the application role");
    }
    let template_exists = !client
        .query("SELECT 1 FROM pg_database WHERE datname = $1", &[&template])
        .expect("databases")
        .is_empty();
    if !template_exists {
        client
            .batch_execute(&format!(
                "CREATE DATABASE {template} OWNER {TEST_APP_ROLE} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'"
            ))
            .expect("create the template database");
        let url = postgres_url_as_app(admin, &template);
        let db = Database::connect(&url, 1).expect("the template migrates");
        drop(db);
    }
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    client
        .batch_execute(&format!(
            "CREATE DATABASE {name} OWNER {TEST_APP_ROLE} TEMPLATE {template} STRATEGY FILE_COPY"
        ))
        .expect("create the test database");
    client
        .execute("SELECT pg_advisory_unlock(7411)", &[])
        .expect("unlock");
    postgres_url_as_app(admin, &name)
}
