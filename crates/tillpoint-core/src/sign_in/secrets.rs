//! Where the till keeps its secrets: refresh tokens and the device's private key. They live
//! in the OS keyring (Secret Service, Keychain, Credential Manager) — never in SQLite, files
//! or the webview. A machine without a keyring service gets a clear error, not a fallback.

use std::collections::HashMap;
use std::sync::Mutex;

/// Secrets by name. Names are prefixed with the installation's id by the caller
/// ([`super::identity::TillIdentity::secret_name`]), so two installations never collide.
pub trait SecretStore: Send + Sync {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, SecretError>;
    fn set(&self, name: &str, secret: &[u8]) -> Result<(), SecretError>;
    fn delete(&self, name: &str) -> Result<(), SecretError>;
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("this computer has no usable keyring ({0}). Tillpoint keeps sign-in secrets only in the system keyring: start the desktop's keyring service (e.g. GNOME Keyring) and unlock it, then try again")]
    Unavailable(String),
    #[error("the system keyring refused: {0}")]
    Failed(String),
}

/// The OS keyring, through the `keyring` crate: service `tillpoint`, the name as account.
#[derive(Default)]
pub struct KeyringSecrets;

impl KeyringSecrets {
    fn entry(&self, name: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new("tillpoint", name).map_err(classify)
    }
}

fn classify(err: keyring::Error) -> SecretError {
    match err {
        keyring::Error::NoDefaultStore
        | keyring::Error::NoStorageAccess(_)
        | keyring::Error::PlatformFailure(_) => SecretError::Unavailable(err.to_string()),
        other => SecretError::Failed(other.to_string()),
    }
}

impl SecretStore for KeyringSecrets {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, SecretError> {
        match self.entry(name)?.get_secret() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(classify(err)),
        }
    }

    fn set(&self, name: &str, secret: &[u8]) -> Result<(), SecretError> {
        self.entry(name)?.set_secret(secret).map_err(classify)
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(classify(err)),
        }
    }
}

/// Secrets in memory, for tests of code that needs a store but not the OS (what the OS
/// keyring itself does is tested against a real Secret Service).
#[derive(Default)]
pub struct MemorySecrets {
    secrets: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemorySecrets {
    /// Every secret held, by name: what a process reading the whole keyring would see.
    pub fn entries(&self) -> Vec<(String, Vec<u8>)> {
        let secrets = self.secrets.lock().expect("secrets lock");
        secrets
            .iter()
            .map(|(name, secret)| (name.clone(), secret.clone()))
            .collect()
    }
}

impl SecretStore for MemorySecrets {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, SecretError> {
        Ok(self
            .secrets
            .lock()
            .expect("secrets lock")
            .get(name)
            .cloned())
    }

    fn set(&self, name: &str, secret: &[u8]) -> Result<(), SecretError> {
        self.secrets
            .lock()
            .expect("secrets lock")
            .insert(name.to_owned(), secret.to_vec());
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.secrets.lock().expect("secrets lock").remove(name);
        Ok(())
    }
}
