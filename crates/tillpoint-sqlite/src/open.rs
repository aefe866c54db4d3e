use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::{migrate, Migration, StoreError};

/// How long a writer waits for another before giving up with SQLITE_BUSY. Writes here are
/// milliseconds long, so a wait this long means something is stuck.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The settings every Tillpoint connection runs with. Also used as the pool's init hook on
/// the server, so every pooled connection is configured the same way.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // journal_mode is the first statement that reads the file: a non-database fails here.
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;",
    )
}

/// Opens (creating if needed) the database at `path` with [`configure`]'s settings.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    configure(&conn).map_err(|e| StoreError::sqlite(path, e))?;
    Ok(conn)
}

/// Opens the database at `path` and brings its schema up to date.
pub fn open_and_migrate(path: &Path, migrations: &[Migration]) -> Result<Connection, StoreError> {
    let mut conn = open(path)?;
    migrate(&mut conn, path, migrations)?;
    Ok(conn)
}
