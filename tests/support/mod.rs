//! The harness every cross-process test builds on: a real server on a free loopback port
//! with its own temporary database, organisations and users made directly in that database,
//! and a till (`tillpoint-core` with its own temporary store) pointed at the server.
//!
//! Each test gets fresh folders, so tests run in parallel without seeing each other.

#![allow(dead_code)] // Each test binary uses a different part of the harness.

pub mod catalog;
pub mod desktop;
pub mod proxy;
pub mod sync;

use std::path::{Path, PathBuf};

use std::sync::Arc;

use tempfile::TempDir;
use tillpoint_core::sign_in::secrets::MemorySecrets;
use tillpoint_core::{LogLevel, ServerUrl, Till, TillConfig};
use tillpoint_protocol::auth::{LoginRequest, TokenResponse};
use tillpoint_protocol::{DeviceId, OrgId, UserId};
use tillpoint_server::clock::Clock;
use tillpoint_server::identity::organisations::{create_organisation, NewOrganisation};
use tillpoint_server::identity::sessions::Identity;
use tillpoint_server::identity::users::{create_user, NewUser};
use tillpoint_server::store::{Database, DbError};
use tillpoint_server::{Application, ServerConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestServer {
    pub url: ServerUrl,
    pub db: Database,
    /// The server's clock: `clock.advance(secs)` moves its time forward.
    pub clock: Clock,
    /// Sign-in state: keys (`identity.keys`), throttles, the database.
    pub identity: Arc<Identity>,
    pub data_dir: PathBuf,
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
    let app = Application::build_with_clock(&config, clock.clone())
        .await
        .expect("the server starts");
    let identity = app.identity().clone();
    let url = ServerUrl::parse(&format!("http://{}", app.local_addr())).expect("loopback URL");
    let db = app.database().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestServer {
        url,
        db,
        clock,
        identity,
        data_dir: dir.path().to_path_buf(),
        stop: Some(stop),
        task: Some(task),
        _dir: dir,
    }
}

pub struct TestOrg {
    pub id: OrgId,
    pub name: String,
    pub roles: Vec<(&'static str, tillpoint_protocol::RoleId)>,
}

/// A new random device id, as a till makes on first start.
pub fn new_device() -> DeviceId {
    DeviceId::from_uuid(uuid::Uuid::now_v7())
}

impl TestServer {
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
        config.listen = self
            .url
            .endpoint("")
            .socket_addrs(|| None)
            .expect("a loopback address")[0];
        let app = Application::build_with_clock(&config, self.clock.clone())
            .await
            .expect("the server starts again");
        self.db = app.database().clone();
        self.identity = app.identity().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        self.task = Some(tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        })));
        self.stop = Some(stop);
    }

    /// The URL of `path` on this server, e.g. `server.at("api/v1/me")`.
    pub fn at(&self, path: &str) -> String {
        self.url.endpoint(path).to_string()
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
                        base_currency: tillpoint_protocol::CurrencyCode::parse("USD")
                            .expect("valid"),
                        base_currency_name: "US Dollar",
                    },
                )?;
                tx.commit()?;
                Ok(TestOrg {
                    id: created.id,
                    name,
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

pub struct TestTill {
    pub till: Till,
    /// The till's secrets (in memory; the OS keyring itself is tested separately).
    pub secrets: Arc<MemorySecrets>,
    dir: TempDir,
}

impl TestTill {
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

/// A till with a fresh store, pointed at `server_url`.
pub fn spawn_till(server_url: &ServerUrl) -> TestTill {
    spawn_till_with(server_url, |_| {})
}

/// As [`spawn_till`], after `configure` adjusts its configuration (e.g. sets a printer).
pub fn spawn_till_with(
    server_url: &ServerUrl,
    configure: impl FnOnce(&mut TillConfig),
) -> TestTill {
    let dir = tempfile::tempdir().expect("temporary folder");
    let secrets = Arc::new(MemorySecrets::default());
    let mut config = till_config(server_url, dir.path());
    configure(&mut config);
    let till = Till::open_with_secrets(config, secrets.clone()).expect("the till opens");
    TestTill { till, secrets, dir }
}

pub fn till_config(server_url: &ServerUrl, data_dir: &Path) -> TillConfig {
    TillConfig {
        server_url: server_url.clone(),
        data_dir: PathBuf::from(data_dir),
        log_level: LogLevel::Info,
        source_file: None,
        printer: None,
    }
}

/// A loopback port that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
