//! The real `tillpoint-server` binary as a child process that a run can kill with SIGKILL and
//! start again on the same data folder and port, as an operator's service manager would.
//!
//! The binary is `TILLPOINT_SERVER_BIN`, else `tillpoint-server` beside the running
//! executable (`target/<profile>/`, where `cargo build -p tillpoint-server` puts it), so the
//! kill hits exactly what ships.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// The demo organisation's password in every run (`tillpoint-server demo`).
pub const DEMO_PASSWORD: &str = "crash-demo-password";

pub struct ServerProcess {
    pub url: String,
    port: u16,
    data_dir: PathBuf,
    child: Option<Child>,
}

impl ServerProcess {
    /// Seeds the demo organisation with `products` products into `data_dir`, then serves it.
    pub fn start_demo(data_dir: &Path, products: usize) -> anyhow::Result<Self> {
        let seeded = command(data_dir)?
            .args(["demo", "--seed-only", "--products", &products.to_string()])
            .env("TILLPOINT_DEMO_PASSWORD", DEMO_PASSWORD)
            .output()
            .context("running tillpoint-server demo --seed-only")?;
        if !seeded.status.success() {
            bail!(
                "tillpoint-server demo --seed-only failed: {}",
                String::from_utf8_lossy(&seeded.stderr)
            );
        }
        let port = free_port()?;
        let mut server = Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            data_dir: data_dir.to_path_buf(),
            child: None,
        };
        server.start()?;
        Ok(server)
    }

    /// The server's SQLite database.
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("server.db")
    }

    /// Starts the server on its port and waits until `/healthz` answers.
    pub fn start(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            bail!("the server is already running");
        }
        let output = self.data_dir.join("server-output.log");
        let log = File::options().create(true).append(true).open(&output)?;
        let child = command(&self.data_dir)?
            .args(["--listen", &format!("127.0.0.1:{}", self.port), "serve"])
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting tillpoint-server")?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if healthz(self.port) {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                let _ = self.kill();
                bail!(
                    "tillpoint-server did not come up on {} ({exited:?}): {}",
                    self.url,
                    std::fs::read_to_string(&output).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no shutdown, no flush; whatever was in flight is cut.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Whether the process ended by itself (a crash the run did not cause).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

fn command(data_dir: &Path) -> anyhow::Result<Command> {
    let mut command = Command::new(sibling_binary("tillpoint-server", "TILLPOINT_SERVER_BIN")?);
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
    Ok(command)
}

/// `name` from `env_var`, else beside the running executable or one folder up (an
/// integration test runs from `target/<profile>/deps/`).
pub fn sibling_binary(name: &str, env_var: &str) -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os(env_var) {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    for dir in exe.ancestors().skip(1).take(2) {
        let candidate = dir.join(&file);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "no {name} binary beside {}: build it with `cargo build -p <its package>`, or name one in {env_var}",
        exe.display()
    )
}

fn healthz(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
}

/// A loopback port nothing listens on (bound, then released).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
