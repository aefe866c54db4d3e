//! PostgreSQL migrations (`migrations/server/postgres/`). The folder starts with a baseline
//! that brings an empty database to the SQLite schema of the same number at once; every later
//! migration is added to both folders under the same number.
//!
//! Several instances may start together: the first takes an advisory lock for the length of
//! its migration transaction and the others wait for it, then find nothing left to do.

use postgres::Client;
use sha2::{Digest, Sha256};
use tillpoint_sqlite::Migration;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("database error while migrating: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("the database's schema is at version {found}, newer than this build knows ({known}): run a newer tillpoint-server")]
    NewerThanBuild { found: u32, known: u32 },
    #[error("migration {version} ({name}) applied to this database differs from this build's: the migration files were edited after being applied")]
    Edited { version: u32, name: String },
    #[error("this database was migrated to version {found} by an older build, before the PostgreSQL baseline {baseline}; it cannot be brought forward")]
    BeforeBaseline { found: u32, baseline: u32 },
}

/// Any number: the advisory lock that serialises migrations between instances.
const MIGRATION_LOCK: i64 = 0x7411_9017;

fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Applies what is pending. Returns the schema version afterwards.
pub fn migrate(client: &mut Client, migrations: &[Migration]) -> Result<u32, MigrateError> {
    let known = migrations.last().map_or(0, |m| m.version);
    let baseline = migrations.first().map_or(0, |m| m.version);
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             checksum   TEXT NOT NULL,
             applied_at TEXT NOT NULL
                 DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')
         )",
    )?;
    let applied: Vec<(u32, String)> = tx
        .query(
            "SELECT version, checksum FROM schema_migrations ORDER BY version",
            &[],
        )?
        .iter()
        .map(|r| (r.get::<_, i64>(0) as u32, r.get(1)))
        .collect();
    if let Some(&(found, _)) = applied.last() {
        if found > known {
            return Err(MigrateError::NewerThanBuild { found, known });
        }
        if found < baseline {
            return Err(MigrateError::BeforeBaseline { found, baseline });
        }
    }
    for (version, stored) in &applied {
        let migration = migrations.iter().find(|m| m.version == *version);
        if migration.is_none_or(|m| checksum(m.sql) != *stored) {
            return Err(MigrateError::Edited {
                version: *version,
                name: migration.map_or("unknown", |m| m.name).to_owned(),
            });
        }
    }
    let current = applied.last().map_or(0, |&(v, _)| v);
    for migration in migrations.iter().filter(|m| m.version > current) {
        tx.batch_execute(migration.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[
                &i64::from(migration.version),
                &migration.name,
                &checksum(migration.sql),
            ],
        )?;
    }
    tx.commit()?;
    Ok(known.max(current))
}
