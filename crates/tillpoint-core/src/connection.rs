//! Whether the till can reach its server right now.
//!
//! The monitor asks `GET /healthz` on a schedule: every [`ONLINE_INTERVAL`] while the server
//! answers, and after a failure with exponential backoff and jitter up to
//! [`MAX_OFFLINE_DELAY`], so a shop full of tills coming back after an outage does not hit
//! the server in lock-step. It only observes: sync and sign-in read its state and decide.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use rand::Rng;
use serde::Serialize;
use tillpoint_protocol::Health;

use crate::server_url::ServerUrl;

pub const ONLINE_INTERVAL: Duration = Duration::from_secs(10);
pub const FIRST_OFFLINE_DELAY: Duration = Duration::from_secs(1);
pub const MAX_OFFLINE_DELAY: Duration = Duration::from_secs(30);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub enum ConnectionState {
    Checking,
    Online,
    Offline,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct ConnectionStatus {
    pub state: ConnectionState,
    pub server_url: String,
    /// When the last check finished (RFC 3339), `None` before the first.
    pub checked_at: Option<String>,
    /// Why the server is offline, in words a person can act on.
    pub detail: Option<String>,
    pub server_version: Option<String>,
}

impl ConnectionStatus {
    fn checking(url: &ServerUrl) -> Self {
        Self {
            state: ConnectionState::Checking,
            server_url: url.to_string(),
            checked_at: None,
            detail: None,
            server_version: None,
        }
    }
}

/// Builds the HTTP client the till uses for the server: bounded time for every request, and
/// no redirects — a 3xx is an answer, never a reason to send the password, a refresh token or
/// signed records to another address (a hijacked proxy or a misconfigured server could
/// otherwise point the till anywhere).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(3))
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("tillpoint-till/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client with rustls and timeouts builds")
}

/// One health check of `url`. Never fails: an unreachable or unhealthy server is `Offline`
/// with the reason in `detail`.
pub async fn probe(client: &reqwest::Client, url: &ServerUrl) -> ConnectionStatus {
    let outcome = async {
        let response = client
            .get(url.endpoint("healthz"))
            .send()
            .await
            .map_err(describe_transport_error)?;
        if !response.status().is_success() {
            return Err(format!("the server answered {}", response.status()));
        }
        response
            .json::<Health>()
            .await
            .map_err(|_| "the address answered, but not as a Tillpoint server".to_owned())
    }
    .await;
    let checked_at = Some(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true));
    match outcome {
        Ok(health) if health.status == "ok" => ConnectionStatus {
            state: ConnectionState::Online,
            server_url: url.to_string(),
            checked_at,
            detail: None,
            server_version: Some(health.version),
        },
        Ok(health) => ConnectionStatus {
            state: ConnectionState::Offline,
            server_url: url.to_string(),
            checked_at,
            detail: Some(format!("the server reports {:?}", health.status)),
            server_version: Some(health.version),
        },
        Err(detail) => ConnectionStatus {
            state: ConnectionState::Offline,
            server_url: url.to_string(),
            checked_at,
            detail: Some(detail),
            server_version: None,
        },
    }
}

fn describe_transport_error(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "the server did not answer in time".into()
    } else if e.is_connect() {
        "cannot connect to the server (is it running, and is the network up?)".into()
    } else {
        format!("request failed: {e}")
    }
}

/// How long to wait before the next check, given the last state and how many checks in a
/// row have failed.
pub fn next_delay(state: ConnectionState, failures_in_a_row: u32, jitter: f64) -> Duration {
    debug_assert!((0.0..=1.0).contains(&jitter));
    match state {
        ConnectionState::Online => ONLINE_INTERVAL,
        ConnectionState::Checking | ConnectionState::Offline => {
            let doublings = failures_in_a_row.saturating_sub(1).min(16);
            let backoff = FIRST_OFFLINE_DELAY.saturating_mul(1 << doublings);
            let capped = backoff.min(MAX_OFFLINE_DELAY);
            // Up to 20 % either way, never beyond the cap.
            capped.mul_f64(0.8 + 0.4 * jitter).min(MAX_OFFLINE_DELAY)
        }
    }
}

/// Watches one server and remembers the latest [`ConnectionStatus`].
#[derive(Clone)]
pub struct ConnectionMonitor {
    client: reqwest::Client,
    url: ServerUrl,
    latest: Arc<Mutex<ConnectionStatus>>,
}

impl ConnectionMonitor {
    pub fn new(url: ServerUrl) -> Self {
        Self {
            client: http_client(),
            latest: Arc::new(Mutex::new(ConnectionStatus::checking(&url))),
            url,
        }
    }

    pub fn status(&self) -> ConnectionStatus {
        self.latest.lock().expect("status lock").clone()
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Checks once and records the result.
    pub async fn check(&self) -> ConnectionStatus {
        let status = probe(&self.client, &self.url).await;
        *self.latest.lock().expect("status lock") = status.clone();
        status
    }

    /// Checks forever on the schedule above, calling `on_change` whenever the state (or the
    /// reason for being offline) changes. Runs until its task is dropped.
    pub async fn run(&self, mut on_change: impl FnMut(&ConnectionStatus) + Send) {
        let mut failures = 0u32;
        let mut previous: Option<(ConnectionState, Option<String>)> = None;
        loop {
            let status = self.check().await;
            failures = match status.state {
                ConnectionState::Online => 0,
                _ => failures.saturating_add(1),
            };
            let key = (status.state, status.detail.clone());
            if previous.as_ref() != Some(&key) {
                tracing::info!(state = ?status.state, detail = ?status.detail, "server connection changed");
                on_change(&status);
                previous = Some(key);
            }
            let jitter = rand::rng().random::<f64>();
            tokio::time::sleep(next_delay(status.state, failures, jitter)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_and_jitter_stays_within_bounds() {
        let at = |failures| next_delay(ConnectionState::Offline, failures, 0.5);
        assert_eq!(at(1), Duration::from_secs(1));
        assert_eq!(at(2), Duration::from_secs(2));
        assert_eq!(at(5), Duration::from_secs(16));
        assert_eq!(at(6), MAX_OFFLINE_DELAY);
        assert_eq!(at(500), MAX_OFFLINE_DELAY);
        assert_eq!(
            next_delay(ConnectionState::Offline, 3, 0.0),
            Duration::from_secs(4).mul_f64(0.8)
        );
        assert_eq!(
            next_delay(ConnectionState::Offline, 3, 1.0),
            Duration::from_secs(4).mul_f64(1.2)
        );
        assert_eq!(next_delay(ConnectionState::Online, 0, 0.9), ONLINE_INTERVAL);
    }

    async fn serve(app: axum::Router) -> ServerUrl {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        ServerUrl::parse(&format!("http://{addr}")).unwrap()
    }

    #[tokio::test]
    async fn a_healthy_server_is_online_with_its_version() {
        let url = serve(axum::Router::new().route(
            "/healthz",
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({"status":"ok","version":"9.9.9","schema_version":1}))
            }),
        ))
        .await;
        let monitor = ConnectionMonitor::new(url);
        assert_eq!(monitor.status().state, ConnectionState::Checking);
        let status = monitor.check().await;
        assert_eq!(status.state, ConnectionState::Online);
        assert_eq!(status.server_version.as_deref(), Some("9.9.9"));
        let checked_at = status
            .checked_at
            .as_deref()
            .expect("a finished check has a time");
        assert!(
            chrono::DateTime::parse_from_rfc3339(checked_at).is_ok(),
            "{checked_at}"
        );
        assert_eq!(monitor.status(), status);
    }

    #[tokio::test]
    async fn something_else_on_the_port_is_offline_with_a_reason() {
        let url = serve(axum::Router::new().route(
            "/healthz",
            axum::routing::get(|| async { "<html>hello</html>" }),
        ))
        .await;
        let status = ConnectionMonitor::new(url).check().await;
        assert_eq!(status.state, ConnectionState::Offline);
        assert_eq!(
            status.detail.as_deref(),
            Some("the address answered, but not as a Tillpoint server")
        );
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed() {
        // A healthy server elsewhere, and the configured address answering 302 to it: the
        // till must not follow (it would send sign-ins and records to the other address).
        let elsewhere = serve(axum::Router::new().route(
            "/healthz",
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({"status":"ok","version":"6.6.6","schema_version":1}))
            }),
        ))
        .await;
        let target = elsewhere.endpoint("healthz").to_string();
        let url = serve(axum::Router::new().route(
            "/healthz",
            axum::routing::get(move || async move {
                (
                    axum::http::StatusCode::FOUND,
                    [(axum::http::header::LOCATION, target)],
                )
            }),
        ))
        .await;
        let status = ConnectionMonitor::new(url).check().await;
        assert_eq!(status.state, ConnectionState::Offline);
        assert_eq!(status.server_version, None);
        assert_eq!(
            status.detail.as_deref(),
            Some("the server answered 302 Found")
        );
    }

    #[tokio::test]
    async fn nothing_listening_is_offline() {
        // Bind then drop, so the port is known to be closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = ServerUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let status = ConnectionMonitor::new(url).check().await;
        assert_eq!(status.state, ConnectionState::Offline);
        assert!(status.detail.unwrap().contains("cannot connect"));
    }
}
