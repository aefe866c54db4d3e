//! The real `tillpoint-server` binary as a child process, set up through its own command line
//! (`demo --seed-only`, then serving) the way an operator would: the desktop package never
//! links the server, so its end-to-end tests meet exactly what ships.
//!
//! The binary is the one cargo built beside this test (`target/<profile>/tillpoint-server`;
//! `cargo nextest run --workspace` builds it), or the one `TILLPOINT_SERVER_BIN` names.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A running server with its own temporary data folder; stopped when dropped.
pub struct ServerProcess {
    /// Where it listens, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    child: Option<Child>,
    data_dir: TempDir,
}

/// A server holding the demo organisation (`tillpoint-server demo`: users `superadmin`,
/// `admin`, `stockmanager`, `accountant` and `cashier`, all with `password`) and `products`
/// generated products.
pub async fn start_demo_server(products: usize, password: &str) -> ServerProcess {
    let data_dir = tempfile::tempdir().expect("temporary folder");
    let seeded = server_command(data_dir.path())
        .args(["demo", "--seed-only", "--products", &products.to_string()])
        .env("TILLPOINT_DEMO_PASSWORD", password)
        .output()
        .expect("tillpoint-server runs");
    assert!(
        seeded.status.success(),
        "tillpoint-server demo --seed-only failed: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    ServerProcess::serve(data_dir).await
}

/// The server binary: `TILLPOINT_SERVER_BIN`, else `tillpoint-server` in the folder this test
/// binary was built into (`target/<profile>/deps/e2e-…` → `target/<profile>/`).
pub fn server_binary() -> PathBuf {
    let path = match std::env::var_os("TILLPOINT_SERVER_BIN") {
        Some(path) => PathBuf::from(path),
        None => {
            let test_binary = std::env::current_exe().expect("the test binary's path");
            let profile_dir = test_binary
                .parent()
                .and_then(Path::parent)
                .expect("the test binary lies in target/<profile>/deps");
            profile_dir.join(format!("tillpoint-server{}", std::env::consts::EXE_SUFFIX))
        }
    };
    assert!(
        path.is_file(),
        "no server binary at {}: build it with `cargo build -p tillpoint-server` \
         (`cargo nextest run --workspace` builds it), or name one in TILLPOINT_SERVER_BIN",
        path.display()
    );
    path
}

/// The binary with `data_dir` and nothing inherited from an operator's environment.
fn server_command(data_dir: &Path) -> Command {
    let mut command = Command::new(server_binary());
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("TILLPOINT_SERVER_LISTEN")
        .env_remove("TILLPOINT_SERVER_CONFIG")
        .env_remove("TILLPOINT_SERVER_MASTER_KEY")
        .env_remove("TILLPOINT_SERVER_MASTER_KEY_FILE")
        .env_remove("TILLPOINT_SERVER_TRUSTED_PROXIES")
        .env("TILLPOINT_SERVER_LOG_LEVEL", "warn")
        .stdin(Stdio::null());
    command
}

impl ServerProcess {
    /// Serves `data_dir` on a free loopback port and waits until `/healthz` answers.
    async fn serve(data_dir: TempDir) -> ServerProcess {
        let port = super::closed_port();
        let output = data_dir.path().join("server-output.log");
        let log = File::create(&output).expect("server output file");
        let child = server_command(data_dir.path())
            .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("tillpoint-server starts");
        let mut server = ServerProcess {
            url: format!("http://127.0.0.1:{port}"),
            child: Some(child),
            data_dir,
        };
        let healthz = format!("{}/healthz", server.url);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = reqwest::get(&healthz).await {
                if response.status().is_success() {
                    return server;
                }
            }
            let exited = server
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                panic!(
                    "tillpoint-server did not come up on {} ({exited:?}): {}",
                    server.url,
                    std::fs::read_to_string(&output).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The server's SQLite database, for a test that reads what the server holds.
    pub fn database(&self) -> PathBuf {
        self.data_dir.path().join("server.db")
    }

    /// Stops the server at once: to a till it is simply gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = tokio::task::spawn_blocking(move || child.wait()).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
