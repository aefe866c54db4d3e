//! Driving the real desktop window: `tauri-driver` (crates.io) in front of Debian's
//! `WebKitWebDriver`, spoken to over WebDriver with `fantoccini`. Needs an X display
//! (`xvfb-run`, as `scripts/test.sh` provides); without one WebKitWebDriver hangs, so we
//! refuse to start instead.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

pub struct DesktopApp {
    pub client: Client,
    driver: Child,
}

fn tauri_driver() -> PathBuf {
    if let Ok(path) = std::env::var("TAURI_DRIVER") {
        return PathBuf::from(path);
    }
    let in_cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin/tauri-driver"));
    match in_cargo_home {
        Some(path) if path.exists() => path,
        _ => PathBuf::from("tauri-driver"),
    }
}

fn free_port() -> u16 {
    super::closed_port()
}

/// Starts the desktop app (the binary cargo built for this test run) with `env` added to
/// its environment, and connects a WebDriver session to its window.
pub async fn launch(env: &[(&str, String)]) -> DesktopApp {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the desktop end-to-end tests need an X display: run them through scripts/test.sh (xvfb-run)"
    );
    let (port, native_port) = (free_port(), free_port());
    let log_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-logs");
    std::fs::create_dir_all(&log_dir).expect("log folder");
    let log = std::fs::File::create(log_dir.join(format!("tauri-driver-{port}.log"))).expect("log");

    let mut command = Command::new(tauri_driver());
    command
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log);
    for (key, value) in env {
        command.env(key, value);
    }
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let driver = command.spawn().unwrap_or_else(|e| {
        panic!("cannot start tauri-driver ({e}); install it with scripts/setup.sh")
    });

    // tauri-driver listens on `port` and starts WebKitWebDriver on `native_port`; a session
    // asked for before the latter listens fails with "connection refused" (seen on a busy
    // 2-core machine), so both must be up.
    let deadline = Instant::now() + Duration::from_secs(20);
    for (listener, what) in [(port, "tauri-driver"), (native_port, "WebKitWebDriver")] {
        while TcpStream::connect(("127.0.0.1", listener)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{what} did not open port {listener}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": env!("CARGO_BIN_EXE_tillpoint") }),
    );
    let client = tokio::time::timeout(
        Duration::from_secs(90),
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}")),
    )
    .await
    .expect("the app window opened within 90 s")
    .expect("a WebDriver session with the app");
    DesktopApp { client, driver }
}

impl DesktopApp {
    /// Waits until the element at `css` shows text satisfying `ok`, returning that text.
    pub async fn wait_for_text(
        &self,
        css: &str,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        let mut last = String::from("<element not found>");
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if ok(&text) {
                        return text;
                    }
                    last = text;
                }
            }
            if Instant::now() > deadline {
                self.save_screenshot("timeout").await;
                panic!(
                    "{css} never showed the expected text within {timeout:?}; last seen: {last:?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn click_button(&self, label: &str) {
        // The whole text, a child element's text, or the button's own text beside an icon
        // or a shortcut hint.
        let xpath = format!(
            "//button[normalize-space(.)='{label}' or .//*[normalize-space(.)='{label}'] \
             or normalize-space(text()[normalize-space()])='{label}']"
        );
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {label:?}: {e}"))
            .click()
            .await
            .expect("click");
    }

    /// Keeps a picture of the window next to the test's other outputs.
    pub async fn save_screenshot(&self, name: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let path = dir.join(format!("{name}.png"));
        if let Ok(png) = self.client.screenshot().await {
            std::fs::write(&path, png).expect("write screenshot");
        }
        path
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.stop_driver();
    }

    fn stop_driver(&mut self) {
        // The driver, WebKitWebDriver and the app share one process group.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
    }
}

impl Drop for DesktopApp {
    fn drop(&mut self) {
        if matches!(self.driver.try_wait(), Ok(None)) {
            self.stop_driver();
        }
    }
}
