//! A stand-in for the OS keyring that survives SIGKILL: the crash runs kill and restart the
//! headless till hundreds of times, and each restart must find the device key and the refresh
//! token the last life left, as the real keyring would. One file per secret, written to a
//! temporary name, synced and renamed, so a kill leaves the old secret or the new one.
//!
//! Only for these runs: the product keeps secrets in the OS keyring and never in files
//! (`tillpoint_core::sign_in::secrets`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use tillpoint_core::sign_in::secrets::{SecretError, SecretStore};

pub struct FileSecrets {
    dir: PathBuf,
}

impl FileSecrets {
    /// Secrets kept in `dir` (created if missing).
    pub fn in_dir(dir: &Path) -> std::io::Result<Self> {
        fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        // Names are `<installation id>.<what>`: hex, dots and dashes; anything else is
        // escaped so a name can never step out of the folder.
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}.secret"))
    }
}

fn failed(err: std::io::Error) -> SecretError {
    SecretError::Failed(err.to_string())
}

impl SecretStore for FileSecrets {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, SecretError> {
        match fs::read(self.path(name)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(failed(err)),
        }
    }

    fn set(&self, name: &str, secret: &[u8]) -> Result<(), SecretError> {
        let path = self.path(name);
        let temporary = path.with_extension("partial");
        let mut file = fs::File::create(&temporary).map_err(failed)?;
        file.write_all(secret).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        fs::rename(&temporary, &path).map_err(failed)?;
        fs::File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(failed)
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        match fs::remove_file(self.path(name)) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(failed(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_set_is_read_back_replaced_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = FileSecrets::in_dir(dir.path()).unwrap();
        assert_eq!(secrets.get("abc.refresh").unwrap(), None);
        secrets.set("abc.refresh", b"one").unwrap();
        secrets.set("abc.refresh", b"two").unwrap();
        let again = FileSecrets::in_dir(dir.path()).unwrap();
        assert_eq!(again.get("abc.refresh").unwrap(), Some(b"two".to_vec()));
        again.delete("abc.refresh").unwrap();
        assert_eq!(secrets.get("abc.refresh").unwrap(), None);
    }

    #[test]
    fn a_name_cannot_reach_outside_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = FileSecrets::in_dir(&dir.path().join("inner")).unwrap();
        secrets.set("../escape", b"x").unwrap();
        assert!(!dir.path().join("escape.secret").exists());
        assert_eq!(secrets.get("../escape").unwrap(), Some(b"x".to_vec()));
    }
}
