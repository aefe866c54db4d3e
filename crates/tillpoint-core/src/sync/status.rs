//! What the window is told about push: how many records wait, how many need a manager, when
//! the server last answered and why the last push failed (the sync indicator), and which
//! records the server quarantined or rejected (the Settings screen). All of it is read from
//! the outbox and push's cursor in the store, plus the last failure push keeps in memory;
//! none of it touches the network.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::push::PUSH_STREAM;
use super::SyncError;
use crate::error_code::ErrorCode;
use crate::till::Till;

/// The last push that failed, for the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct SyncFailure {
    pub code: ErrorCode,
    pub message: String,
    pub at: String,
}

/// What the sync indicator shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct SyncStatus {
    /// Records still to send.
    pub pending: u64,
    /// Held by the server for a manager.
    pub quarantined: u64,
    /// Refused as malformed: on this till only.
    pub rejected: u64,
    /// When the server last answered a push.
    pub last_success_at: Option<String>,
    /// Set when the latest push failed; cleared by the next one that works.
    pub last_error: Option<SyncFailure>,
}

/// A record the server quarantined or rejected, as the Settings screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct SyncProblem {
    pub seq: u64,
    pub id: String,
    /// `sale`, `refund`, `till_opened`, `till_closed`.
    pub kind: String,
    /// `quarantined` or `rejected`.
    pub state: String,
    pub reason: Option<String>,
    /// The receipt number, for a sale or refund.
    pub receipt_no: Option<String>,
    pub created_at: String,
    pub attempts: u32,
}

impl Till {
    /// What the sync indicator shows: what is waiting, what needs a manager, the last
    /// success and the last failure.
    pub fn sync_status(&self) -> Result<SyncStatus, SyncError> {
        let conn = self.store().conn()?;
        let last_success_at = conn
            .query_row(
                "SELECT updated_at FROM sync_cursors WHERE stream = ?1",
                [PUSH_STREAM],
                |r| r.get(0),
            )
            .optional()?;
        Ok(SyncStatus {
            pending: count_state(&conn, "pending")?,
            quarantined: count_state(&conn, "quarantined")?,
            rejected: count_state(&conn, "rejected")?,
            last_success_at,
            last_error: self.push_state().last_error(),
        })
    }

    /// The records the server quarantined or rejected, oldest first (at most 1,000), with
    /// the reason it gave.
    pub fn sync_problems(&self) -> Result<Vec<SyncProblem>, SyncError> {
        let conn = self.store().conn()?;
        let mut statement = conn.prepare_cached(
            "SELECT o.journal_seq, j.id, j.kind, o.state, o.reason, s.receipt_no, j.created_at,
                    o.attempts
             FROM outbox o
             JOIN journal j ON j.seq = o.journal_seq
             LEFT JOIN sales s ON s.journal_seq = o.journal_seq
             WHERE o.state IN ('quarantined', 'rejected')
             ORDER BY o.journal_seq
             LIMIT 1000",
        )?;
        let problems = statement
            .query_map([], |r| {
                Ok(SyncProblem {
                    seq: r.get::<_, i64>(0)? as u64,
                    id: r.get(1)?,
                    kind: r.get(2)?,
                    state: r.get(3)?,
                    reason: r.get(4)?,
                    receipt_no: r.get(5)?,
                    created_at: r.get(6)?,
                    attempts: r.get(7)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(problems)
    }

    /// Records that have not reached the server yet (pending). Sign-out waits for zero.
    pub fn unsynced_count(&self) -> Result<u64, SyncError> {
        let conn = self.store().conn()?;
        Ok(count_state(&conn, "pending")?)
    }
}

/// Outbox rows in `state`.
pub(super) fn count_state(conn: &Connection, state: &str) -> rusqlite::Result<u64> {
    conn.prepare_cached("SELECT COUNT(*) FROM outbox WHERE state = ?1")?
        .query_row([state], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
}

#[cfg(test)]
mod tests {
    use crate::sync::fake_server::{accept_all, setup};

    #[tokio::test]
    async fn sign_out_waits_for_pending_records_but_lock_does_not() {
        let s = setup(&[], accept_all).await;
        s.record(2);
        let err = s.till.sign_out().unwrap_err();
        assert_eq!(err.code(), "records_pending");
        assert!(err.to_string().starts_with("2 record(s)"), "{err}");
        assert!(s.till.session_status().is_some(), "still signed in");
        s.till.push_outbox(|_| {}).await.unwrap();
        s.till.sign_out().unwrap();
        assert!(s.till.session_status().is_none());
    }
}
