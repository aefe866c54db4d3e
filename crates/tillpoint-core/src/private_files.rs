//! The till's folders and files are private to the OS account that runs it: the data folder
//! and its `exports/` are 0700, the SQLite store (with its `-wal` and `-shm`) and every export
//! 0600. They hold sales, the people who may unlock the till offline and their verifiers, and
//! signed batches — nothing another account on the same machine should read or edit.
//!
//! On Unix the modes are set here, on every start, so a folder made by an older Tillpoint is
//! tightened too. Windows has no modes: there the data folder lives in the user's profile
//! (`%APPDATA%`), whose ACL already admits only that user and administrators.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Creates `dir` (and its parents) if needed, and makes it private to this account.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    restrict(dir, 0o700)
}

/// Makes the existing file at `path` private to this account; a missing file is left so.
pub fn make_private_if_exists(path: &Path) -> io::Result<()> {
    match restrict(path, 0o600) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Creates a new file at `path`, private from its first byte; refuses to replace one.
pub fn create_new_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(path: &Path, _mode: u32) -> io::Result<()> {
    // The profile's ACL protects it (see above); only check that it is there.
    std::fs::metadata(path).map(drop)
}

/// The permission bits of `path` (tests of the modes above).
#[cfg(all(test, unix))]
pub(crate) fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn new_files_are_private_from_the_start_and_never_replace_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.json");
        create_new_private_file(&path).unwrap();
        assert_eq!(mode_of(&path), 0o600);
        let err = create_new_private_file(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        make_private_if_exists(&dir.path().join("missing")).unwrap();
    }
}
