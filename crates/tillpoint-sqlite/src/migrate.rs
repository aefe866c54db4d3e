use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::{Migration, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationOutcome {
    /// How many migrations this call applied (0 when the schema was already current).
    pub applied: u32,
    /// The schema version after the call.
    pub version: u32,
}

fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Applies the migrations `conn` has not seen yet, all in one transaction.
///
/// `path` only names the database in errors. Refuses a database whose schema is newer than
/// `migrations`, or whose applied migrations differ from the embedded ones.
pub fn migrate(
    conn: &mut Connection,
    path: &Path,
    migrations: &[Migration],
) -> Result<MigrationOutcome, StoreError> {
    let sqlite = |e| StoreError::sqlite(path, e);
    let known = migrations.last().map_or(0, |m| m.version);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             checksum   TEXT NOT NULL,
             applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         ) STRICT;",
    )
    .map_err(sqlite)?;

    let applied: Vec<(u32, String)> = {
        let mut stmt = tx
            .prepare("SELECT version, checksum FROM schema_migrations ORDER BY version")
            .map_err(sqlite)?;
        let rows = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(sqlite)?;
        rows.collect::<Result<_, _>>().map_err(sqlite)?
    };

    if let Some(&(found, _)) = applied.last() {
        if found > known {
            return Err(StoreError::NewerThanBuild {
                path: path.to_path_buf(),
                found,
                known,
            });
        }
    }
    for (version, stored) in &applied {
        let migration = migrations.iter().find(|m| m.version == *version);
        if migration.is_none_or(|m| checksum(m.sql) != *stored) {
            return Err(StoreError::EditedMigration {
                path: path.to_path_buf(),
                version: *version,
                name: migration.map_or("unknown", |m| m.name).to_owned(),
            });
        }
    }

    let current = applied.last().map_or(0, |&(v, _)| v);
    let mut count = 0;
    for migration in migrations.iter().filter(|m| m.version > current) {
        tx.execute_batch(migration.sql)
            .map_err(|source| StoreError::MigrationFailed {
                path: path.to_path_buf(),
                version: migration.version,
                name: migration.name.to_owned(),
                source,
            })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (?1, ?2, ?3)",
            (migration.version, migration.name, checksum(migration.sql)),
        )
        .map_err(sqlite)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
        count += 1;
    }
    tx.commit().map_err(sqlite)?;
    Ok(MigrationOutcome {
        applied: count,
        version: current.max(known),
    })
}

/// The highest migration applied to `conn`, or 0 for a database never migrated.
pub fn schema_version(conn: &Connection) -> rusqlite::Result<u32> {
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(0);
    }
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{open, open_and_migrate};

    const V1: Migration = Migration {
        version: 1,
        name: "init",
        sql: "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    };
    const V2: Migration = Migration {
        version: 2,
        name: "more",
        sql: "ALTER TABLE things ADD COLUMN colour TEXT;",
    };

    fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        (dir, path)
    }

    #[test]
    fn applies_pending_migrations_once() {
        let (_dir, path) = temp_db();
        let mut conn = open(&path).unwrap();
        let first = migrate(&mut conn, &path, &[V1, V2]).unwrap();
        assert_eq!(
            first,
            MigrationOutcome {
                applied: 2,
                version: 2
            }
        );
        let again = migrate(&mut conn, &path, &[V1, V2]).unwrap();
        assert_eq!(
            again,
            MigrationOutcome {
                applied: 0,
                version: 2
            }
        );
        conn.execute("INSERT INTO things (name, colour) VALUES ('a', 'red')", [])
            .unwrap();
        assert_eq!(schema_version(&conn).unwrap(), 2);
    }

    #[test]
    fn upgrades_an_older_database_in_place() {
        let (_dir, path) = temp_db();
        drop(open_and_migrate(&path, &[V1]).unwrap());
        let mut conn = open(&path).unwrap();
        let outcome = migrate(&mut conn, &path, &[V1, V2]).unwrap();
        assert_eq!(
            outcome,
            MigrationOutcome {
                applied: 1,
                version: 2
            }
        );
    }

    #[test]
    fn a_failing_migration_leaves_the_database_untouched() {
        let (_dir, path) = temp_db();
        let broken = Migration {
            version: 2,
            name: "broken",
            sql: "CREATE TABLE half (id INTEGER); THIS IS NOT SQL;",
        };
        let mut conn = open(&path).unwrap();
        let err = migrate(&mut conn, &path, &[V1, broken]).unwrap_err();
        assert!(
            matches!(err, StoreError::MigrationFailed { version: 2, .. }),
            "{err}"
        );
        // Not even migration 1, nor the first statement of 2, was kept.
        assert_eq!(schema_version(&conn).unwrap(), 0);
        let tables: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('things', 'half')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
    }

    #[test]
    fn refuses_a_database_newer_than_this_build() {
        let (_dir, path) = temp_db();
        drop(open_and_migrate(&path, &[V1, V2]).unwrap());
        let err = open_and_migrate(&path, &[V1]).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::NewerThanBuild {
                    found: 2,
                    known: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("newer Tillpoint"), "{err}");
    }

    #[test]
    fn detects_an_edited_shipped_migration() {
        let (_dir, path) = temp_db();
        drop(open_and_migrate(&path, &[V1]).unwrap());
        let edited = Migration {
            sql: "CREATE TABLE things (id INTEGER PRIMARY KEY);",
            ..V1
        };
        let err = open_and_migrate(&path, &[edited]).unwrap_err();
        assert!(
            matches!(err, StoreError::EditedMigration { version: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_database_gets_a_clear_error() {
        let (_dir, path) = temp_db();
        std::fs::write(
            &path,
            b"this is a text file, not SQLite, and it is long enough",
        )
        .unwrap();
        let err = open_and_migrate(&path, &[V1]).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        assert!(
            err.to_string().contains("restore it from a backup"),
            "{err}"
        );
    }

    #[test]
    fn connections_are_durable_wal_with_foreign_keys() {
        let (_dir, path) = temp_db();
        let conn = open(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync, fk), ("wal", 2, 1));
    }
}
