//! Export of a till's unsynced records to a signed file, for a till that cannot reach the
//! server any more: the file is a push batch (`{device_id, records, signature}`), so the
//! server imports it through the same checks as a push and nothing made on the till is lost.

use std::io::Write as _;
use std::path::Path;

use chrono::Utc;
use serde::Serialize;
use tillpoint_protocol::permission::names;

use super::push::signed_batch;
use super::SyncError;
use crate::error::CoreError;
use crate::till::Till;

/// Who may export a till's unsynced records: a manager of quarantined records, or an
/// administrator of devices (docs/decisions/sync-client.md).
pub const EXPORT_PERMISSIONS: [&str; 2] =
    [names::SYNC_QUARANTINE_MANAGE, names::ADMIN_DEVICES_MANAGE];

/// What [`Till::export_pending`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct ExportSummary {
    pub path: String,
    /// Records in the file: every one from the oldest unsynced record to the newest.
    pub records: u64,
    /// Of those, not yet synced (pending, quarantined or rejected).
    pub unsynced: u64,
}

impl Till {
    /// Writes this till's unsynced records to `path` as a signed push batch
    /// (`{device_id, records, signature}`, the
    /// [`PushRequest`](tillpoint_protocol::sync::PushRequest) shape), so the server can
    /// import them through the push checks — for a till that will never reach the server
    /// again. The file holds every journal record from the oldest unsynced one to the
    /// newest (synced ones in between come back `duplicate`), one unbroken stretch of the
    /// chain, so the signature over its last hash covers them all. Needs
    /// `sync:quarantine:manage` or `admin:devices:manage`. Never overwrites a file.
    pub fn export_pending(&self, path: &Path) -> Result<ExportSummary, CoreError> {
        self.require_any(&EXPORT_PERMISSIONS)?;
        let (device_id, key) = self.device_key()?;
        let (records, unsynced) = {
            let conn = self.store().conn()?;
            let first: Option<i64> = conn.query_row(
                "SELECT MIN(journal_seq) FROM outbox WHERE state <> 'synced'",
                [],
                |r| r.get(0),
            )?;
            let Some(first) = first else {
                return Err(SyncError::NothingToExport.into());
            };
            let last: i64 = conn.query_row("SELECT MAX(seq) FROM journal", [], |r| r.get(0))?;
            let records = crate::journal::read(&conn, first as u64, last as u64)?;
            let unsynced: i64 = conn.query_row(
                "SELECT COUNT(*) FROM outbox WHERE state <> 'synced'",
                [],
                |r| r.get(0),
            )?;
            (records, unsynced as u64)
        };
        let export = signed_batch(device_id, &key, records).ok_or(SyncError::NothingToExport)?;
        let count = export.records.len() as u64;
        let bytes =
            serde_json::to_vec_pretty(&export).map_err(|e| SyncError::Export(e.to_string()))?;
        let write = || -> std::io::Result<()> {
            if let Some(folder) = path.parent() {
                std::fs::create_dir_all(folder)?;
            }
            let mut file = crate::private_files::create_new_private_file(path)?;
            file.write_all(&bytes)?;
            file.sync_all()
        };
        write().map_err(|e| SyncError::Export(format!("{}: {e}", path.display())))?;
        tracing::info!(path = %path.display(), records = count, "unsynced records exported");
        Ok(ExportSummary {
            path: path.display().to_string(),
            records: count,
            unsynced,
        })
    }

    /// Where [`Till::export_pending`] writes when the window asks for an export: a new
    /// file under `exports/` in the data folder, named by the time.
    pub fn export_path(&self) -> std::path::PathBuf {
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        self.config()
            .data_dir
            .join("exports")
            .join(format!("unsynced-{stamp}.json"))
    }
}

#[cfg(test)]
mod tests {
    use tillpoint_protocol::sync::{Outcome, PushRequest};

    use crate::sync::fake_server::{accept_all, setup, verifies};

    #[tokio::test]
    async fn a_manager_exports_unsynced_records_as_a_signed_batch() {
        let s = setup(&["sync:quarantine:manage"], |r| {
            Some(match r.seq {
                2 => (Outcome::Quarantined, Some("chain gap")),
                3 => return None,
                _ => (Outcome::Accepted, None),
            })
        })
        .await;
        s.record(4);
        s.till.push_outbox(|_| {}).await.unwrap_err();
        assert_eq!(
            s.state_names(),
            ["synced", "quarantined", "pending", "synced"]
        );
        let path = s.dir.path().join("export.json");
        let summary = s.till.export_pending(&path).unwrap();
        assert_eq!((summary.records, summary.unsynced), (3, 2));
        let file: PushRequest = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(
            file.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            [2, 3, 4]
        );
        assert!(verifies(&s.till, &file));
        tillpoint_protocol::journal::verify_chain((1, s.record_hash(1)), &file.records).unwrap();
        // An export is never overwritten.
        let err = s.till.export_pending(&path).unwrap_err();
        assert_eq!(err.code(), "export_failed");
        // The window's exports go to a new file in the data folder.
        let path = s.till.export_path();
        assert!(path.starts_with(s.dir.path().join("data/exports")));
        assert_eq!(s.till.export_pending(&path).unwrap().records, 3);
    }

    #[tokio::test]
    async fn export_needs_a_manager_and_something_to_export() {
        let s = setup(&["pos:sales:create"], accept_all).await;
        let path = s.dir.path().join("export.json");
        s.record(1);
        let err = s.till.export_pending(&path).unwrap_err();
        assert_eq!(err.code(), "forbidden");
        assert!(err.to_string().contains("sync:quarantine:manage"), "{err}");

        let s = setup(&["admin:devices:manage"], accept_all).await;
        s.record(1);
        s.till.push_outbox(|_| {}).await.unwrap();
        let err = s.till.export_pending(&path).unwrap_err();
        assert_eq!(err.code(), "nothing_to_export");
    }
}
