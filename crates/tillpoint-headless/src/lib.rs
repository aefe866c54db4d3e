//! A till without a window or an OS keyring: the real `tillpoint-core` `Till`, its secrets in
//! files beside its store ([`file_secrets`]). The crash suite kills it hundreds of times and
//! the load generator runs a hundred of them at once; no real till is ever opened this way
//! (the product keeps secrets in the OS keyring).

pub mod file_secrets;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tillpoint_core::{LogLevel, ServerUrl, Till, TillConfig};

use file_secrets::FileSecrets;

/// Opens the till whose store is in `data_dir`, talking to `server_url`, with its secrets in
/// [`secrets_dir`].
pub fn open_till(data_dir: &Path, server_url: &str) -> anyhow::Result<Till> {
    let secrets = FileSecrets::in_dir(&secrets_dir(data_dir))?;
    let config = TillConfig {
        server_url: ServerUrl::parse(server_url).context("the server URL")?,
        data_dir: data_dir.to_path_buf(),
        log_level: LogLevel::Warn,
        source_file: None,
        printer: None,
    };
    Ok(Till::open_with_secrets(config, Arc::new(secrets))?)
}

/// Where a headless till keeps its secrets: beside its store.
pub fn secrets_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("crash-secrets")
}
