//! The harness every system test and benchmark builds on: the real server (started
//! in-process by [`tillpoint_server::testing`], re-exported here) and tills (`tillpoint-core`
//! with their own temporary store) pointed at it.
//!
//! Each test gets fresh folders, so tests run in parallel without seeing each other.

pub mod catalog;
pub mod proxy;
pub mod sync;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::Url;
use tempfile::TempDir;
use tillpoint_core::sign_in::secrets::MemorySecrets;
use tillpoint_core::{LogLevel, ServerUrl, Till, TillConfig};
pub use tillpoint_server::testing::{
    new_device, spawn_demo_server, spawn_server, spawn_server_with, TestOrg, TestServer,
};

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
pub fn spawn_till(server_url: &Url) -> TestTill {
    spawn_till_with(server_url, |_| {})
}

/// As [`spawn_till`], after `configure` adjusts its configuration (e.g. sets a printer).
pub fn spawn_till_with(server_url: &Url, configure: impl FnOnce(&mut TillConfig)) -> TestTill {
    let dir = tempfile::tempdir().expect("temporary folder");
    let secrets = Arc::new(MemorySecrets::default());
    let mut config = till_config(server_url, dir.path());
    configure(&mut config);
    let till = Till::open_with_secrets(config, secrets.clone()).expect("the till opens");
    TestTill { till, secrets, dir }
}

/// What a till started with `data_dir` and pointed at `server_url` is configured with.
pub fn till_config(server_url: &Url, data_dir: &Path) -> TillConfig {
    TillConfig {
        server_url: ServerUrl::parse(server_url.as_str()).expect("a loopback URL"),
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
