//! A till: its configuration, its local store and its view of the server, opened together.
//! This is the object the desktop shell holds and every headless test builds.

use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use crate::config::TillConfig;
use crate::connection::{probe, ConnectionMonitor, ConnectionStatus};
use crate::error::CoreError;
use crate::server_url::ServerUrl;
use crate::sign_in::secrets::{KeyringSecrets, SecretStore};
use crate::sign_in::session::ActiveSession;
use crate::store::LocalStore;
use crate::sync::push::PushState;

pub struct Till {
    config: TillConfig,
    store: LocalStore,
    connection: ConnectionMonitor,
    secrets: Arc<dyn SecretStore>,
    session: Mutex<Option<ActiveSession>>,
    push: PushState,
}

/// What Settings shows about this installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub server_url: String,
    pub log_level: String,
    pub schema_version: u32,
}

impl Till {
    /// Creates the data folder if needed and opens the local store in it; secrets go to the
    /// OS keyring.
    pub fn open(config: TillConfig) -> Result<Self, CoreError> {
        Self::open_with_secrets(config, Arc::new(KeyringSecrets))
    }

    /// As [`Till::open`], keeping secrets in `secrets`.
    pub fn open_with_secrets(
        config: TillConfig,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Self, CoreError> {
        // The data folder, and the exports a manager writes into it ([`Till::export_path`]).
        for dir in [config.data_dir.clone(), config.data_dir.join("exports")] {
            crate::private_files::create_private_dir(&dir)
                .map_err(|source| CoreError::DataDir { path: dir, source })?;
        }
        let store = LocalStore::open(&config.data_dir)?;
        store.with_conn(|conn| {
            crate::sign_in::refresh_vault::purge_plain_tokens(conn, secrets.as_ref());
            // A till that has signed in before seals with its key from now; a keyring that
            // does not answer leaves the seals failing closed until the next sign-in.
            match crate::sign_in::identity::load(conn) {
                Ok(Some(identity)) => {
                    if let Err(err) = store.seal_key().load(&identity, secrets.as_ref()) {
                        tracing::warn!(error = %err, "cannot read the sealing key yet");
                    }
                }
                Ok(None) => {}
                Err(err) => tracing::warn!(error = %err, "cannot read the till's identity"),
            }
        })?;
        let connection = ConnectionMonitor::new(config.server_url.clone());
        Ok(Self {
            config,
            store,
            connection,
            secrets,
            session: Mutex::new(None),
            push: PushState::default(),
        })
    }

    pub fn config(&self) -> &TillConfig {
        &self.config
    }

    pub fn store(&self) -> &LocalStore {
        &self.store
    }

    pub fn connection(&self) -> &ConnectionMonitor {
        &self.connection
    }

    pub(crate) fn secrets(&self) -> &Arc<dyn SecretStore> {
        &self.secrets
    }

    pub(crate) fn push_state(&self) -> &PushState {
        &self.push
    }

    pub(crate) fn active_session(&self) -> MutexGuard<'_, Option<ActiveSession>> {
        // A panic while holding it cannot leave a half-written session: recover the value.
        self.session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn info(&self) -> Result<AppInfo, CoreError> {
        Ok(AppInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            data_dir: self.config.data_dir.display().to_string(),
            server_url: self.config.server_url.to_string(),
            log_level: self.config.log_level.to_string(),
            schema_version: self.store.schema_version()?,
        })
    }

    pub fn local_product_count(&self) -> Result<u64, CoreError> {
        self.store.product_count()
    }

    /// Checks whether `url` (typed by a person in Settings) is a reachable Tillpoint server,
    /// without changing the configured one.
    pub async fn check_server(&self, url: &str) -> Result<ConnectionStatus, CoreError> {
        let url = ServerUrl::parse(url)?;
        Ok(probe(self.connection.client(), &url).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LogLevel;

    fn config(dir: &std::path::Path) -> TillConfig {
        TillConfig {
            server_url: ServerUrl::parse("http://127.0.0.1:9").unwrap(),
            data_dir: dir.join("nested/data"),
            log_level: LogLevel::Info,
            source_file: None,
            printer: None,
        }
    }

    #[test]
    fn opening_creates_the_data_folder_and_reports_its_info() {
        let dir = tempfile::tempdir().unwrap();
        let till = Till::open(config(dir.path())).unwrap();
        let info = till.info().unwrap();
        assert_eq!(info.schema_version, LocalStore::known_schema_version());
        assert!(info.data_dir.ends_with("nested/data"));
        assert_eq!(info.server_url, "http://127.0.0.1:9/");
    }

    #[cfg(unix)]
    #[test]
    fn the_data_folder_is_private_to_the_account() {
        use crate::private_files::mode_of;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        std::fs::create_dir_all(&config.data_dir).unwrap();
        // Made readable by an older Tillpoint (or a umask of 022): tightened at open.
        std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let till = Till::open(config.clone()).unwrap();
        assert_eq!(mode_of(&config.data_dir), 0o700);
        assert_eq!(mode_of(till.export_path().parent().unwrap()), 0o700);
        assert_eq!(mode_of(till.store().path()), 0o600);
    }

    #[test]
    fn a_data_folder_that_cannot_be_created_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let mut config = config(dir.path());
        config.data_dir = file.join("data");
        let err = Till::open(config).err().expect("must fail");
        assert_eq!(err.code(), "data_dir_unusable");
        assert!(err.to_string().contains("a-file"), "{err}");
    }

    #[tokio::test]
    async fn checking_a_bad_url_is_refused_before_any_request() {
        let dir = tempfile::tempdir().unwrap();
        let till = Till::open(config(dir.path())).unwrap();
        let err = till
            .check_server("http://pos.example.com")
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_server_url");
    }
}
