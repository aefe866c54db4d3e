//! Pushing the till's journal: `POST /api/v1/sync/push`, oldest record first, in batches
//! signed by the device (ARCHITECTURE.md §4).
//!
//! Every business event was written to the `journal` and queued in the `outbox` in its own
//! transaction (`crate::journal::append`). Push reads the queue's `pending` rows in `seq`
//! order, signs the batch (the device's Ed25519 key over the last record's hash, which the
//! chain makes cover every record before it) and sends it with the online session's token.
//!
//! The invariant kept here: **a record is marked synced only after the server answered for
//! that record.** The server answers per record; each answer is stored in one transaction:
//! - `accepted`, `duplicate` → `synced` (a duplicate is safe: the id made the push
//!   idempotent; a duplicate whose answer carries a reason was quarantined the first time, so
//!   it is stored as `quarantined`);
//! - `quarantined` → `quarantined` with the reason: the server holds it for a manager, so it
//!   is never sent again and never blocks the records behind it;
//! - `rejected` → `rejected` with the reason (malformed: the server did not store it; it
//!   stays on the till, is shown, and can be exported).
//!
//! A record the server did not answer for stays `pending`, and the round stops there: sending
//! the records behind it first would leave a gap in the server's copy of the chain. Killed
//! at any point — before the request, after the server committed, before the answer was
//! stored — the till sends the same records again and the server answers `duplicate`.
//!
//! Nothing unsynced is thrown away: [`Till::unsynced_count`] holds sign-out, and a manager
//! can export every unsynced record to a signed file ([`Till::export_pending`]) for a till
//! that cannot reach the server any more.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::Mutex;

use base64::Engine as _;
use chrono::{SecondsFormat, Utc};
use ed25519_dalek::{Signer as _, SigningKey};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use tillpoint_protocol::journal::JournalRecord;
use tillpoint_protocol::permission::{names, Operation};
use tillpoint_protocol::sync::{
    push_signing_bytes, Outcome, PushRequest, PushResponse, RecordResult, MAX_PUSH_RECORDS,
    PUSH_PATH,
};
use tillpoint_protocol::{DeviceId, Permission, ProductId};

use super::pull::run_blocking;
use super::{read_answer, SyncError};
use crate::error::CoreError;
use crate::sign_in::identity;
use crate::till::Till;

/// The name push's progress is stored under in `sync_cursors`: its cursor is the last seq
/// the server answered for, its `updated_at` the last time it did.
pub const PUSH_STREAM: &str = "push";

/// Who may export a till's unsynced records: a manager of quarantined records, or an
/// administrator of devices (docs/decisions/sync-client.md).
pub const EXPORT_PERMISSIONS: [&str; 2] =
    [names::SYNC_QUARANTINE_MANAGE, names::ADMIN_DEVICES_MANAGE];

/// Who may see stock levels and look products up for them (Cashier, Stock Manager, …).
pub const STOCK_VIEW: &str = Operation::ViewStock.permission_name();

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushOptions {
    /// Records per request, 1 to [`MAX_PUSH_RECORDS`] (larger values are capped).
    pub batch_size: usize,
    /// The least time a request is given (more for a larger batch: see `transfer_timeout`).
    pub timeout_floor: std::time::Duration,
}

impl Default for PushOptions {
    fn default() -> Self {
        Self {
            batch_size: MAX_PUSH_RECORDS,
            timeout_floor: super::SYNC_TIMEOUT_FLOOR,
        }
    }
}

/// Reported after each answered batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushProgress {
    pub batches: u32,
    /// Records the server answered for so far in this push.
    pub answered: u64,
    /// Records still pending.
    pub pending: u64,
}

/// What a finished push did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushSummary {
    pub batches: u32,
    pub accepted: u64,
    pub duplicate: u64,
    pub quarantined: u64,
    pub rejected: u64,
}

impl PushSummary {
    fn answered(&self) -> u64 {
        self.accepted + self.duplicate + self.quarantined + self.rejected
    }
}

/// The last push that failed, for the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncFailure {
    pub code: String,
    pub message: String,
    pub at: String,
}

/// What the sync indicator shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
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

/// What [`Till::export_pending`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportSummary {
    pub path: String,
    /// Records in the file: every one from the oldest unsynced record to the newest.
    pub records: u64,
    /// Of those, not yet synced (pending, quarantined or rejected).
    pub unsynced: u64,
}

/// A product's quantity on hand as this till can tell offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StockOnHand {
    pub product_id: ProductId,
    /// The server's level for this till's shop as last pulled, in thousandths of the unit.
    /// `None` until a pull has brought one.
    pub synced_quantity_milli: Option<i64>,
    /// When that figure was last known to be the server's (its age); `None` with it.
    pub synced_at: Option<String>,
    /// This till's movements the synced figure does not count (sales negative, restocking
    /// refunds positive): pending ones, and ones the server took after `synced_at`.
    pub unsynced_change_milli: i64,
    /// `synced_quantity_milli + unsynced_change_milli`, when there is a synced figure.
    pub estimate_milli: Option<i64>,
}

/// Push's in-memory state on the till: one push at a time, and the last failure.
#[derive(Default)]
pub(crate) struct PushState {
    running: tokio::sync::Mutex<()>,
    last_error: Mutex<Option<SyncFailure>>,
}

impl PushState {
    fn last_error(&self) -> Option<SyncFailure> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn record<T>(&self, result: &Result<T, SyncError>) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) =
            result.as_ref().err().map(|err| SyncFailure {
                code: err.code().to_owned(),
                message: err.to_string(),
                at: now(),
            });
    }
}

impl Till {
    /// Sends every pending outbox record to the server, oldest first, and stores the
    /// server's answer for each (see the module doc). Reports after each batch.
    pub async fn push_outbox(
        &self,
        progress: impl FnMut(PushProgress),
    ) -> Result<PushSummary, SyncError> {
        self.push_outbox_with(PushOptions::default(), progress)
            .await
    }

    /// [`Till::push_outbox`] with explicit options.
    pub async fn push_outbox_with(
        &self,
        options: PushOptions,
        mut progress: impl FnMut(PushProgress),
    ) -> Result<PushSummary, SyncError> {
        let _one_at_a_time = self.push_state().running.lock().await;
        let result = self.push_batches(options, &mut progress).await;
        self.push_state().record(&result);
        if let Err(err) = &result {
            tracing::warn!(error = %err, "push stopped; the records stay pending");
        }
        result
    }

    async fn push_batches(
        &self,
        options: PushOptions,
        progress: &mut impl FnMut(PushProgress),
    ) -> Result<PushSummary, SyncError> {
        let size = options.batch_size.clamp(1, MAX_PUSH_RECORDS);
        // Signed in online, before anything is touched.
        self.online_credentials()?;
        let (device_id, key) = self.device_key()?;
        let client = self.connection().client().clone();
        let url = self.config().server_url.endpoint(PUSH_PATH);
        let mut summary = PushSummary::default();
        loop {
            let records = {
                let mut conn = self.store().conn()?;
                run_blocking(|| start_batch(&mut conn, size, &now()))?
            };
            let Some(last) = records.last() else {
                break;
            };
            let signature = base64::engine::general_purpose::STANDARD.encode(
                key.sign(&push_signing_bytes(device_id, &last.hash))
                    .to_bytes(),
            );
            let request = PushRequest {
                device_id,
                records,
                signature,
            };
            // The token of this moment: the session may have been refreshed since the last batch.
            let (token, _) = self.online_credentials()?;
            let response = send(
                &client,
                url.clone(),
                &token,
                &request,
                options.timeout_floor,
            )
            .await?;
            let (applied, pending) = {
                let mut conn = self.store().conn()?;
                run_blocking(|| {
                    let applied =
                        apply_results(&mut conn, &request.records, &response.results, &now())?;
                    Ok::<_, rusqlite::Error>((applied, count_state(&conn, "pending")?))
                })?
            };
            summary.batches += 1;
            summary.accepted += applied.accepted;
            summary.duplicate += applied.duplicate;
            summary.quarantined += applied.quarantined;
            summary.rejected += applied.rejected;
            progress(PushProgress {
                batches: summary.batches,
                answered: summary.answered(),
                pending,
            });
            if applied.unanswered > 0 {
                return Err(SyncError::Server(format!(
                    "it answered for {} of the {} records sent; the others are sent again at the next sync",
                    request.records.len() as u64 - applied.unanswered,
                    request.records.len()
                )));
            }
        }
        if summary.batches > 0 {
            tracing::info!(?summary, "outbox pushed");
        }
        Ok(summary)
    }

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

    /// Writes this till's unsynced records to `path` as a signed push batch
    /// (`{device_id, records, signature}`, the [`PushRequest`] shape), so the server can
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
        let last = records.last().ok_or(SyncError::NothingToExport)?;
        let signature = base64::engine::general_purpose::STANDARD.encode(
            key.sign(&push_signing_bytes(device_id, &last.hash))
                .to_bytes(),
        );
        let count = records.len() as u64;
        let export = PushRequest {
            device_id,
            records,
            signature,
        };
        let bytes =
            serde_json::to_vec_pretty(&export).map_err(|e| SyncError::Export(e.to_string()))?;
        let write = || -> std::io::Result<()> {
            if let Some(folder) = path.parent() {
                std::fs::create_dir_all(folder)?;
            }
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)?;
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

    /// What this till can say about `product`'s stock while offline: the server's level for
    /// this till's shop as last pulled, as of when (its age), and this till's movements the
    /// server had not counted then — pending ones, and ones the server took after that.
    /// Needs [`STOCK_VIEW`].
    pub fn stock_on_hand(&self, product: ProductId) -> Result<StockOnHand, CoreError> {
        self.require_any(&[STOCK_VIEW])?;
        let conn = self.store().conn()?;
        let product_text = product.to_string();
        // The shop this till sells from, as checkout records it: the one shop, else none.
        let shops: Vec<String> = conn
            .prepare_cached("SELECT id FROM locations WHERE kind = 'shop' LIMIT 2")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let location = match shops.as_slice() {
            [only] => only.clone(),
            _ => String::new(),
        };
        // The figure was the server's at the page that brought it, and stays so until a
        // later change arrives: it is as recent as the last complete pull, if later.
        let synced: Option<(i64, String)> = conn
            .prepare_cached(
                "SELECT l.on_hand_milli,
                        MAX(l.pulled_at, COALESCE(
                            (SELECT completed_at FROM sync_cursors WHERE stream = 'pull'), ''))
                 FROM stock_levels l WHERE l.product_id = ?1 AND l.location_id = ?2",
            )?
            .query_row([&product_text, &location], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let counted_after = synced.as_ref().map(|(_, at)| at.as_str());
        let unsynced: i64 = conn
            .prepare_cached(
                "SELECT COALESCE(SUM(m.quantity_milli), 0)
                 FROM stock_movements m JOIN outbox o ON o.journal_seq = m.journal_seq
                 WHERE m.product_id = ?1
                   AND (o.state = 'pending'
                        OR (o.state = 'synced' AND ?2 IS NOT NULL AND o.updated_at > ?2))",
            )?
            .query_row((&product_text, counted_after), |r| r.get(0))?;
        let (synced, synced_at) = match synced {
            Some((quantity, at)) => (Some(quantity), Some(at)),
            None => (None, None),
        };
        Ok(StockOnHand {
            product_id: product,
            synced_quantity_milli: synced,
            synced_at,
            unsynced_change_milli: unsynced,
            estimate_milli: synced.map(|q| q + unsynced),
        })
    }

    fn device_key(&self) -> Result<(DeviceId, SigningKey), SyncError> {
        let found = {
            let conn = self.store().conn()?;
            identity::load(&conn)?
        };
        let identity = found.ok_or(SyncError::NotSignedIn)?;
        let key = identity
            .signing_key(self.secrets().as_ref())
            .map_err(|e| SyncError::DeviceKey(e.to_string()))?;
        Ok((identity.device_id, key))
    }

    fn require_any(&self, permissions: &[&str]) -> Result<(), CoreError> {
        let mut first_refusal = None;
        for text in permissions {
            let permission = Permission::parse(text).expect("a valid permission");
            match self.require(&permission) {
                Ok(()) => return Ok(()),
                Err(err) => {
                    first_refusal.get_or_insert(err);
                }
            }
        }
        Err(first_refusal.expect("at least one permission").into())
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn count_state(conn: &Connection, state: &str) -> rusqlite::Result<u64> {
    conn.prepare_cached("SELECT COUNT(*) FROM outbox WHERE state = ?1")?
        .query_row([state], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
}

/// The oldest `size` pending records, their attempts counted, in one transaction.
fn start_batch(
    conn: &mut Connection,
    size: usize,
    now: &str,
) -> rusqlite::Result<Vec<JournalRecord>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let seqs: Vec<i64> = tx
        .prepare_cached(
            "SELECT journal_seq FROM outbox WHERE state = 'pending' ORDER BY journal_seq LIMIT ?1",
        )?
        .query_map([size as i64], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let (Some(&first), Some(&last)) = (seqs.first(), seqs.last()) else {
        return Ok(Vec::new());
    };
    // Pending records are contiguous except around quarantined or rejected ones, so the
    // range read is rarely larger than the batch; those in between are left out.
    let pending: std::collections::HashSet<u64> = seqs.iter().map(|&s| s as u64).collect();
    let records: Vec<JournalRecord> = crate::journal::read(&tx, first as u64, last as u64)?
        .into_iter()
        .filter(|r| pending.contains(&r.seq))
        .collect();
    let mut attempt = tx.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, updated_at = ?2 WHERE journal_seq = ?1",
    )?;
    for seq in &seqs {
        attempt.execute((seq, now))?;
    }
    drop(attempt);
    tx.commit()?;
    Ok(records)
}

#[derive(Debug, Default)]
struct Applied {
    accepted: u64,
    duplicate: u64,
    quarantined: u64,
    rejected: u64,
    unanswered: u64,
}

/// Stores the server's answer for each record it answered for, in one transaction; a record
/// without an answer (or with an answer naming another seq) is left pending.
fn apply_results(
    conn: &mut Connection,
    sent: &[JournalRecord],
    results: &[RecordResult],
    now: &str,
) -> rusqlite::Result<Applied> {
    let answers: HashMap<uuid::Uuid, &RecordResult> = results.iter().map(|r| (r.id, r)).collect();
    let mut applied = Applied::default();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut mark = tx.prepare_cached(
        "UPDATE outbox SET state = ?2, reason = ?3, updated_at = ?4
         WHERE journal_seq = ?1 AND state = 'pending'",
    )?;
    let mut last_answered = None;
    for record in sent {
        let Some(answer) = answers.get(&record.id).filter(|a| a.seq == record.seq) else {
            applied.unanswered += 1;
            continue;
        };
        let given = || {
            Some(
                answer
                    .reason
                    .clone()
                    .unwrap_or_else(|| "the server gave no reason".to_owned()),
            )
        };
        let (state, reason) = match answer.outcome {
            Outcome::Accepted => {
                applied.accepted += 1;
                ("synced", None)
            }
            Outcome::Duplicate if answer.reason.is_some() => {
                // Quarantined when it first arrived; that outcome stands.
                applied.quarantined += 1;
                ("quarantined", given())
            }
            Outcome::Duplicate => {
                applied.duplicate += 1;
                ("synced", None)
            }
            Outcome::Quarantined => {
                applied.quarantined += 1;
                ("quarantined", given())
            }
            Outcome::Rejected => {
                applied.rejected += 1;
                ("rejected", given())
            }
        };
        mark.execute((record.seq as i64, state, reason, now))?;
        last_answered = Some(record.seq);
    }
    drop(mark);
    if let Some(seq) = last_answered {
        tx.prepare_cached(
            "INSERT INTO sync_cursors (stream, cursor, updated_at, completed_at)
             VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT (stream) DO UPDATE SET cursor = excluded.cursor,
                 updated_at = excluded.updated_at, completed_at = excluded.completed_at",
        )?
        .execute((PUSH_STREAM, seq.to_string(), now))?;
    }
    tx.commit()?;
    Ok(applied)
}

async fn send(
    client: &reqwest::Client,
    url: url::Url,
    token: &str,
    request: &PushRequest,
    timeout_floor: std::time::Duration,
) -> Result<PushResponse, SyncError> {
    // Unreadable (cut mid-answer): nothing is marked, the batch is sent again and the server
    // answers `duplicate` for what it already stored.
    let body = serde_json::to_vec(request).map_err(|e| SyncError::Server(e.to_string()))?;
    let sent = client
        .post(url)
        .bearer_auth(token)
        .timeout(super::transfer_timeout(body.len(), timeout_floor))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    read_answer(sent, "answer", |status, message| match status {
        403 => SyncError::PushRefused(message),
        _ => SyncError::Server(format!("{status}: {message}")),
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::Json;
    use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
    use tillpoint_protocol::auth::UserInfo;
    use tillpoint_protocol::journal::RecordKind;
    use tillpoint_protocol::{ErrorBody, ErrorCode, OrgId, UserId};
    use uuid::Uuid;

    use super::*;
    use crate::config::{LogLevel, TillConfig};
    use crate::journal::Author;
    use crate::server_url::ServerUrl;
    use crate::sign_in::secrets::MemorySecrets;

    /// How the fake server answers one record: `None` leaves it unanswered.
    type Answer = dyn Fn(&JournalRecord) -> Option<(Outcome, Option<&'static str>)> + Send + Sync;

    #[derive(Clone)]
    struct Fake {
        seen: Arc<Mutex<Vec<PushRequest>>>,
        status: Arc<Mutex<StatusCode>>,
        answer: Arc<Answer>,
    }

    async fn push(
        State(fake): State<Fake>,
        Json(request): Json<PushRequest>,
    ) -> axum::response::Response {
        fake.seen.lock().unwrap().push(request.clone());
        let status = *fake.status.lock().unwrap();
        if !status.is_success() {
            let code = match status.as_u16() {
                401 => ErrorCode::Unauthenticated,
                403 => ErrorCode::Forbidden,
                _ => ErrorCode::Internal,
            };
            return (status, Json(ErrorBody::new(code, "the device was revoked"))).into_response();
        }
        let results = request
            .records
            .iter()
            .filter_map(|r| {
                (fake.answer)(r).map(|(outcome, reason)| RecordResult {
                    id: r.id,
                    seq: r.seq,
                    outcome,
                    reason: reason.map(str::to_owned),
                })
            })
            .collect();
        Json(PushResponse { results }).into_response()
    }

    struct Setup {
        till: Till,
        fake: Fake,
        org: OrgId,
        _dir: tempfile::TempDir,
    }

    async fn setup(
        perms: &[&str],
        answer: impl Fn(&JournalRecord) -> Option<(Outcome, Option<&'static str>)>
            + Send
            + Sync
            + 'static,
    ) -> Setup {
        let fake = Fake {
            seen: Arc::default(),
            status: Arc::new(Mutex::new(StatusCode::OK)),
            answer: Arc::new(answer),
        };
        let app = axum::Router::new()
            .route(&format!("/{PUSH_PATH}"), axum::routing::post(push))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let dir = tempfile::tempdir().unwrap();
        let till = Till::open_with_secrets(
            TillConfig {
                server_url: ServerUrl::parse(&format!("http://{addr}")).unwrap(),
                data_dir: dir.path().join("data"),
                log_level: LogLevel::Info,
                source_file: None,
                printer: None,
            },
            Arc::new(MemorySecrets::default()),
        )
        .unwrap();
        let org = OrgId::from_uuid(Uuid::now_v7());
        till.sign_in_for_tests(
            UserInfo {
                id: UserId::from_uuid(Uuid::now_v7()),
                name: "Mary".into(),
                email: String::new(),
                role: "Cashier".into(),
                permissions: perms
                    .iter()
                    .map(|p| Permission::parse(p).unwrap())
                    .collect(),
                organisation_id: org,
            },
            "access-token",
        );
        Setup {
            till,
            fake,
            org,
            _dir: dir,
        }
    }

    fn accept_all(_: &JournalRecord) -> Option<(Outcome, Option<&'static str>)> {
        Some((Outcome::Accepted, None))
    }

    impl Setup {
        /// Appends `n` journal entries, as selling would.
        fn record(&self, n: u64) -> Vec<JournalRecord> {
            let device_id = self.till.device_id().unwrap().unwrap();
            let author = Author {
                org_id: self.org,
                user_id: UserId::from_uuid(Uuid::now_v7()),
                user_name: "Mary".into(),
                device_id,
                grant_jti: None,
            };
            let mut conn = self.till.store().conn().unwrap();
            let tx = conn.transaction().unwrap();
            let records = (0..n)
                .map(|i| {
                    crate::journal::append(
                        &tx,
                        &author,
                        RecordKind::Sale,
                        Uuid::now_v7(),
                        "2026-11-27T10:00:00.000Z",
                        &serde_json::json!({ "n": i }),
                    )
                    .unwrap()
                })
                .collect();
            tx.commit().unwrap();
            records
        }

        fn states(&self) -> Vec<(u64, String, Option<String>, u32)> {
            let conn = self.till.store().conn().unwrap();
            let mut statement = conn
                .prepare(
                    "SELECT journal_seq, state, reason, attempts FROM outbox ORDER BY journal_seq",
                )
                .unwrap();
            let rows = statement
                .query_map([], |r| {
                    Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            rows
        }

        fn state_names(&self) -> Vec<String> {
            self.states().into_iter().map(|s| s.1).collect()
        }

        fn seen_seqs(&self) -> Vec<Vec<u64>> {
            let seen = self.fake.seen.lock().unwrap();
            seen.iter()
                .map(|b| b.records.iter().map(|r| r.seq).collect())
                .collect()
        }
    }

    #[tokio::test]
    async fn each_record_is_marked_by_its_own_answer() {
        let s = setup(&[], |r| {
            Some(match r.seq {
                1 => (Outcome::Accepted, None),
                2 => (Outcome::Duplicate, None),
                3 => (Outcome::Quarantined, Some("the grant had expired")),
                4 => (Outcome::Rejected, Some("unreadable payload")),
                _ => (
                    Outcome::Duplicate,
                    Some("creator is not in the organisation"),
                ),
            })
        })
        .await;
        s.record(5);
        let summary = s.till.push_outbox(|_| {}).await.unwrap();
        assert_eq!(
            summary,
            PushSummary {
                batches: 1,
                accepted: 1,
                duplicate: 1,
                quarantined: 2,
                rejected: 1
            }
        );
        let states = s.states();
        assert_eq!(
            states
                .iter()
                .map(|s| (s.1.as_str(), s.2.as_deref()))
                .collect::<Vec<_>>(),
            [
                ("synced", None),
                ("synced", None),
                ("quarantined", Some("the grant had expired")),
                ("rejected", Some("unreadable payload")),
                // A duplicate with a reason was quarantined the first time.
                ("quarantined", Some("creator is not in the organisation")),
            ]
        );
        assert!(
            states.iter().all(|s| s.3 == 1),
            "one attempt each: {states:?}"
        );
        let status = s.till.sync_status().unwrap();
        assert_eq!(
            (status.pending, status.quarantined, status.rejected),
            (0, 2, 1)
        );
        assert!(status.last_success_at.is_some());
        assert_eq!(status.last_error, None);
        let problems = s.till.sync_problems().unwrap();
        assert_eq!(
            problems
                .iter()
                .map(|p| (p.seq, p.state.as_str(), p.kind.as_str()))
                .collect::<Vec<_>>(),
            [
                (3, "quarantined", "sale"),
                (4, "rejected", "sale"),
                (5, "quarantined", "sale")
            ]
        );
        assert_eq!(problems[0].reason.as_deref(), Some("the grant had expired"));
    }

    #[tokio::test]
    async fn a_quarantined_record_in_the_middle_does_not_block_the_rest() {
        let s = setup(&[], |r| {
            Some(if r.seq == 2 {
                (Outcome::Quarantined, Some("over the grant's limit"))
            } else {
                (Outcome::Accepted, None)
            })
        })
        .await;
        s.record(5);
        s.till.push_outbox(|_| {}).await.unwrap();
        assert_eq!(
            s.state_names(),
            ["synced", "quarantined", "synced", "synced", "synced"]
        );
        // Later records go up alone: the quarantined one is never sent again.
        s.record(2);
        s.till.push_outbox(|_| {}).await.unwrap();
        assert_eq!(s.seen_seqs(), [vec![1, 2, 3, 4, 5], vec![6, 7]]);
        assert_eq!(s.till.sync_status().unwrap().pending, 0);
    }

    #[tokio::test]
    async fn a_record_without_an_answer_stays_pending_and_is_sent_again() {
        let answer_three = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = answer_three.clone();
        let s = setup(&[], move |r| {
            (r.seq != 3 || flag.load(std::sync::atomic::Ordering::SeqCst))
                .then_some((Outcome::Accepted, None))
        })
        .await;
        s.record(5);
        let options = PushOptions {
            batch_size: 4,
            ..PushOptions::default()
        };
        let err = s.till.push_outbox_with(options, |_| {}).await.unwrap_err();
        assert_eq!(err.code(), "server_error");
        assert!(err.to_string().contains("3 of the 4"), "{err}");
        // Answered ones are marked; the unanswered one waits, and so does the batch after it
        // (sending 5 before 3 would leave a gap in the server's chain).
        assert_eq!(
            s.state_names(),
            ["synced", "synced", "pending", "synced", "pending"]
        );
        assert_eq!(s.seen_seqs(), [vec![1, 2, 3, 4]]);
        let status = s.till.sync_status().unwrap();
        assert_eq!(status.pending, 2);
        assert_eq!(status.last_error.unwrap().code, "server_error");

        answer_three.store(true, std::sync::atomic::Ordering::SeqCst);
        s.till.push_outbox_with(options, |_| {}).await.unwrap();
        assert_eq!(s.seen_seqs()[1], [3, 5]);
        assert!(s.state_names().iter().all(|s| s == "synced"));
        assert_eq!(s.states()[2].3, 2, "two attempts for record 3");
        assert_eq!(s.till.sync_status().unwrap().last_error, None);
    }

    #[tokio::test]
    async fn a_server_error_leaves_everything_pending() {
        let s = setup(&[], accept_all).await;
        s.record(3);
        *s.fake.status.lock().unwrap() = StatusCode::INTERNAL_SERVER_ERROR;
        let err = s.till.push_outbox(|_| {}).await.unwrap_err();
        assert_eq!(err.code(), "server_error");
        assert!(s.state_names().iter().all(|s| s == "pending"));
        assert!(
            s.states().iter().all(|s| s.3 == 1),
            "the attempt is counted"
        );
        assert_eq!(s.till.sync_status().unwrap().last_success_at, None);

        *s.fake.status.lock().unwrap() = StatusCode::UNAUTHORIZED;
        let err = s.till.push_outbox(|_| {}).await.unwrap_err();
        assert_eq!(err.code(), "session_expired");

        *s.fake.status.lock().unwrap() = StatusCode::FORBIDDEN;
        let err = s.till.push_outbox(|_| {}).await.unwrap_err();
        assert_eq!(err.code(), "push_refused");
        assert!(err.to_string().contains("the device was revoked"), "{err}");
        assert!(s.state_names().iter().all(|s| s == "pending"));
    }

    #[tokio::test]
    async fn an_unreachable_server_leaves_everything_pending() {
        let mut s = setup(&[], accept_all).await;
        s.record(2);
        let secrets = Arc::new(MemorySecrets::default());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Another till, its server's port closed.
        s.till = Till::open_with_secrets(
            TillConfig {
                server_url: ServerUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap(),
                data_dir: s._dir.path().join("other"),
                log_level: LogLevel::Info,
                source_file: None,
                printer: None,
            },
            secrets,
        )
        .unwrap();
        assert_eq!(
            s.till.push_outbox(|_| {}).await.unwrap_err().code(),
            "not_signed_in"
        );
        s.till.sign_in_for_tests(
            UserInfo {
                id: UserId::from_uuid(Uuid::now_v7()),
                name: "Mary".into(),
                email: String::new(),
                role: "Cashier".into(),
                permissions: Vec::new(),
                organisation_id: s.org,
            },
            "access-token",
        );
        s.record(2);
        let err = s.till.push_outbox(|_| {}).await.unwrap_err();
        assert_eq!(err.code(), "server_unreachable");
        assert_eq!(s.state_names(), ["pending", "pending"]);
        assert_eq!(
            s.till.sync_status().unwrap().last_error.unwrap().code,
            "server_unreachable"
        );
    }

    #[tokio::test]
    async fn long_queues_go_in_batches_oldest_first() {
        let s = setup(&[], accept_all).await;
        s.record(7);
        let mut reports = Vec::new();
        let summary = s
            .till
            .push_outbox_with(
                PushOptions {
                    batch_size: 3,
                    ..PushOptions::default()
                },
                |p| reports.push(p),
            )
            .await
            .unwrap();
        assert_eq!(summary.batches, 3);
        assert_eq!(summary.accepted, 7);
        assert_eq!(s.seen_seqs(), [vec![1, 2, 3], vec![4, 5, 6], vec![7]]);
        assert_eq!(
            reports
                .iter()
                .map(|p| (p.answered, p.pending))
                .collect::<Vec<_>>(),
            [(3, 4), (6, 1), (7, 0)]
        );
        // Nothing left: the next push sends nothing.
        assert_eq!(s.till.push_outbox(|_| {}).await.unwrap().batches, 0);
        assert_eq!(s.fake.seen.lock().unwrap().len(), 3);
    }

    fn verifies(till: &Till, request: &PushRequest) -> bool {
        let conn = till.store().conn().unwrap();
        let identity = identity::load(&conn).unwrap().unwrap();
        let key = VerifyingKey::from_bytes(&identity.public_key).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&request.signature)
            .unwrap();
        let signature = Signature::from_slice(&bytes).unwrap();
        let last = request.records.last().unwrap();
        request.device_id == identity.device_id
            && key
                .verify(
                    &push_signing_bytes(request.device_id, &last.hash),
                    &signature,
                )
                .is_ok()
    }

    #[tokio::test]
    async fn every_batch_is_signed_with_the_device_key() {
        let s = setup(&[], accept_all).await;
        s.record(4);
        s.till
            .push_outbox_with(
                PushOptions {
                    batch_size: 2,
                    ..PushOptions::default()
                },
                |_| {},
            )
            .await
            .unwrap();
        let seen = s.fake.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        for batch in &seen {
            assert!(verifies(&s.till, batch));
        }
        let mut forged = seen[0].clone();
        forged.records.pop();
        assert!(
            !verifies(&s.till, &forged),
            "the signature names the last hash"
        );
    }

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
        let path = s._dir.path().join("export.json");
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
        assert!(path.starts_with(s._dir.path().join("data/exports")));
        assert_eq!(s.till.export_pending(&path).unwrap().records, 3);
    }

    impl Setup {
        fn record_hash(&self, seq: u64) -> String {
            let conn = self.till.store().conn().unwrap();
            crate::journal::read(&conn, seq, seq)
                .unwrap()
                .remove(0)
                .hash
        }
    }

    #[tokio::test]
    async fn export_needs_a_manager_and_something_to_export() {
        let s = setup(&["pos:sales:create"], accept_all).await;
        let path = s._dir.path().join("export.json");
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

    #[tokio::test]
    async fn offline_stock_counts_only_movements_the_server_has_not_had() {
        let s = setup(&[STOCK_VIEW], accept_all).await;
        let product = ProductId::from_uuid(Uuid::now_v7());
        let move_stock = |s: &Setup, quantity: i64| {
            let seq = s.record(1)[0].seq;
            s.till
                .store()
                .conn()
                .unwrap()
                .execute(
                    "INSERT INTO stock_movements (id, product_id, quantity_milli, reason, journal_seq, created_at)
                     VALUES (?1, ?2, ?3, 'sale', ?4, 't')",
                    (Uuid::now_v7().to_string(), product.to_string(), quantity, seq as i64),
                )
                .unwrap();
        };
        move_stock(&s, -2000);
        s.till.push_outbox(|_| {}).await.unwrap();
        move_stock(&s, -1500);
        move_stock(&s, 1000);
        let stock = s.till.stock_on_hand(product).unwrap();
        assert_eq!(stock.unsynced_change_milli, -500);
        assert_eq!(
            stock.synced_quantity_milli, None,
            "stock levels are not pulled yet"
        );
        assert_eq!(stock.estimate_milli, None);
    }

    #[tokio::test]
    async fn stock_lookups_need_stock_view() {
        let product = ProductId::from_uuid(Uuid::now_v7());
        let s = setup(&["pos:sales:view"], accept_all).await;
        let err = s.till.stock_on_hand(product).unwrap_err();
        assert_eq!(err.code(), "forbidden");
        assert!(err.to_string().contains(STOCK_VIEW), "{err}");
        let err = s.till.find_stock_products("milk").unwrap_err();
        assert_eq!(err.code(), "forbidden");

        // A Stock Manager (stock:*:*) sells nothing but may look stock up.
        let s = setup(&["stock:*:*"], accept_all).await;
        let stock = s.till.stock_on_hand(product).unwrap();
        assert_eq!(
            (stock.synced_quantity_milli, stock.unsynced_change_milli),
            (None, 0)
        );
        assert!(s.till.find_stock_products("milk").unwrap().is_empty());
        assert_eq!(
            s.till.find_products("milk").unwrap_err().code(),
            "forbidden"
        );
    }
}
