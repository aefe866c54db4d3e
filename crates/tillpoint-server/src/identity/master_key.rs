//! The server's master key: 32 random bytes that encrypt the signing keys' private halves at
//! rest, so a copy of the database alone cannot mint tokens.
//!
//! It comes from `TILLPOINT_SERVER_MASTER_KEY` (base64) when set — the way to share one key
//! across several instances — or from a key file (`<data_dir>/master.key` by default),
//! created with mode 0600 on first start.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::Rng;

pub const ENV_MASTER_KEY: &str = "TILLPOINT_SERVER_MASTER_KEY";

#[derive(Clone)]
pub struct MasterKey(Key);

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("{ENV_MASTER_KEY} must be 32 bytes in base64 (e.g. from `openssl rand -base64 32`)")]
    BadEnv,
    #[error("the master key file {path} is not 32 bytes of base64; restore the right file or the signing keys cannot be read")]
    BadFile { path: PathBuf },
    #[error("cannot read or create the master key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "a signing key could not be decrypted: the master key is not the one it was stored with"
    )]
    WrongKey,
}

/// Where the master key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    Base64(String),
    File(PathBuf),
}

// By hand, so printing a configuration never prints the key.
impl std::fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Base64(_) => f.write_str("Base64(<redacted>)"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

impl MasterKey {
    pub fn load(source: &MasterKeySource) -> Result<Self, MasterKeyError> {
        match source {
            MasterKeySource::Base64(text) => decode(text).ok_or(MasterKeyError::BadEnv),
            MasterKeySource::File(path) => load_or_create_file(path),
        }
    }

    pub fn encrypt(&self, plaintext: &[u8], associated: &[u8]) -> ([u8; 12], Vec<u8>) {
        let nonce: [u8; 12] = rand::rng().random();
        let sealed = ChaCha20Poly1305::new(&self.0)
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: associated,
                },
            )
            .expect("encryption with a valid key cannot fail");
        (nonce, sealed)
    }

    pub fn decrypt(
        &self,
        nonce: &[u8],
        sealed: &[u8],
        associated: &[u8],
    ) -> Result<Vec<u8>, MasterKeyError> {
        if nonce.len() != 12 {
            return Err(MasterKeyError::WrongKey);
        }
        ChaCha20Poly1305::new(&self.0)
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: associated,
                },
            )
            .map_err(|_| MasterKeyError::WrongKey)
    }
}

fn decode(text: &str) -> Option<MasterKey> {
    let bytes = STANDARD.decode(text.trim()).ok()?;
    let bytes: [u8; 32] = bytes.try_into().ok()?;
    Some(MasterKey(Key::from(bytes)))
}

fn load_or_create_file(path: &Path) -> Result<MasterKey, MasterKeyError> {
    let io = |source| MasterKeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => decode(&text).ok_or_else(|| MasterKeyError::BadFile {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes: [u8; 32] = rand::rng().random();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(io)?;
            file.write_all(STANDARD.encode(bytes).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(io)?;
            tracing::info!(path = %path.display(), "created a new master key");
            Ok(MasterKey(Key::from(bytes)))
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_file_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let source = MasterKeySource::File(path.clone());
        let first = MasterKey::load(&source).unwrap();
        let (nonce, sealed) = first.encrypt(b"secret", b"kid-1");
        let again = MasterKey::load(&source).unwrap();
        assert_eq!(again.decrypt(&nonce, &sealed, b"kid-1").unwrap(), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_wrong_key_or_context_cannot_decrypt() {
        let a = MasterKey::load(&MasterKeySource::Base64(STANDARD.encode([1u8; 32]))).unwrap();
        let b = MasterKey::load(&MasterKeySource::Base64(STANDARD.encode([2u8; 32]))).unwrap();
        let (nonce, sealed) = a.encrypt(b"secret", b"kid-1");
        assert!(b.decrypt(&nonce, &sealed, b"kid-1").is_err());
        assert!(
            a.decrypt(&nonce, &sealed, b"kid-2").is_err(),
            "bound to its kid"
        );
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let source = MasterKeySource::Base64("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==".into());
        assert_eq!(format!("{source:?}"), "Base64(<redacted>)");
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(matches!(
            MasterKey::load(&MasterKeySource::Base64("short".into())),
            Err(MasterKeyError::BadEnv)
        ));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        std::fs::write(&path, "not base64!").unwrap();
        assert!(matches!(
            MasterKey::load(&MasterKeySource::File(path)),
            Err(MasterKeyError::BadFile { .. })
        ));
    }
}
