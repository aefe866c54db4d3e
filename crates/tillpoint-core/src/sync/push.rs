//! Pushing the till's journal: `POST /api/v1/sync/push`, oldest record first, in batches
//! signed by the device (ARCHITECTURE.md §4).
//!
//! Every business event was written to the `journal` and queued in the `outbox` in its own
//! transaction (`crate::journal::append`). Push reads the queue's `pending` rows in `seq`
//! order, signs the batch (the device's Ed25519 key over the organisation, the device, the
//! batch's seq range and its last record's hash, which the chain makes cover every record
//! before it) and sends it with the online session's token.
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
//! can export every unsynced record to a signed file ([`Till::export_pending`], in
//! [`super::export`]) for a till that cannot reach the server any more. What the window is
//! told about it all is read in [`super::status`].

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use chrono::{SecondsFormat, Utc};
use ed25519_dalek::{Signer as _, SigningKey};
use rusqlite::{Connection, TransactionBehavior};
use serde::Serialize;
use tillpoint_protocol::journal::{intact_prefix_len, JournalRecord};
use tillpoint_protocol::sync::{
    Outcome, PushRequest, PushResponse, RecordResult, MAX_PUSH_RECORDS, PUSH_PATH,
};
use tillpoint_protocol::DeviceId;

use super::pull::run_blocking;
use super::status::{count_state, SyncFailure};
use super::{read_answer, SyncError};
use crate::sign_in::identity;
use crate::till::Till;

/// The name push's progress is stored under in `sync_cursors`: its cursor is the last seq
/// the server answered for, its `updated_at` the last time it did.
pub const PUSH_STREAM: &str = "push";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushOptions {
    /// Records per request, 1 to [`MAX_PUSH_RECORDS`] (larger values are capped).
    pub batch_size: usize,
    /// The least time a request is given (more for a larger batch: see `transfer_timeout`).
    pub timeout_floor: std::time::Duration,
    /// Stop after this many answered batches, the rest staying pending (`None`: push
    /// everything). The load generator sends one batch at a time on a schedule.
    pub most_batches: Option<u32>,
}

impl Default for PushOptions {
    fn default() -> Self {
        Self {
            batch_size: MAX_PUSH_RECORDS,
            timeout_floor: super::SYNC_TIMEOUT_FLOOR,
            most_batches: None,
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

/// Push's in-memory state on the till: one push at a time, and the last failure.
#[derive(Default)]
pub(crate) struct PushState {
    running: tokio::sync::Mutex<()>,
    last_error: Mutex<Option<SyncFailure>>,
}

impl PushState {
    pub(super) fn last_error(&self) -> Option<SyncFailure> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn record<T>(&self, result: &Result<T, SyncError>) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) =
            result.as_ref().err().map(|err| SyncFailure {
                code: err.code(),
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
            let mut records = {
                let mut conn = self.store().conn()?;
                run_blocking(|| start_batch(&mut conn, size, &now()))?
            };
            // The server takes a batch only as one intact chain, so a batch ends where this
            // till's own journal breaks; the record after the break leads the next batch, and
            // the server reports the break once, on it. A record whose hash is not its own
            // (edited here after it was written) can never be signed as one: it is kept here,
            // marked, and the server will report it missing.
            if records.first().is_some_and(|first| !first.hash_is_intact()) {
                let seq = records[0].seq;
                let mut conn = self.store().conn()?;
                run_blocking(|| mark_unsendable(&mut conn, seq, &now()))?;
                summary.rejected += 1;
                continue;
            }
            records.truncate(intact_prefix_len(&records));
            let Some(request) = signed_batch(device_id, &key, records) else {
                break;
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
            if options
                .most_batches
                .is_some_and(|most| summary.batches >= most)
            {
                break;
            }
        }
        if summary.batches > 0 {
            tracing::info!(?summary, "outbox pushed");
        }
        Ok(summary)
    }

    /// The device's identity and signing key, for signing a batch.
    pub(super) fn device_key(&self) -> Result<(DeviceId, SigningKey), SyncError> {
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
}

/// `records` as a batch the device signed (`tillpoint-push-v2`): its key over the
/// organisation, the device, the first and last seq and the last record's hash, which the
/// chain makes cover every record before it. The organisation is the records' own (a till
/// belongs to one). `None` for no records.
pub(super) fn signed_batch(
    device_id: DeviceId,
    key: &SigningKey,
    records: Vec<JournalRecord>,
) -> Option<PushRequest> {
    let org = records.first()?.org_id;
    let mut request = PushRequest {
        device_id,
        records,
        signature: String::new(),
    };
    let bytes = request.signing_bytes(org)?;
    request.signature =
        base64::engine::general_purpose::STANDARD.encode(key.sign(&bytes).to_bytes());
    Some(request)
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
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

/// Why a record edited on this till is never sent.
pub(crate) const EDITED_ON_THIS_TILL: &str = "edited on this till after it was written (its hash does not match its contents): it cannot be signed, so it was not sent; the server reports it missing";

/// Marks record `seq` as one the till cannot send ([`EDITED_ON_THIS_TILL`]): `rejected`, kept
/// and shown like a record the server could not read, and exported with the rest.
fn mark_unsendable(conn: &mut Connection, seq: u64, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET state = 'rejected', reason = ?2, updated_at = ?3
          WHERE journal_seq = ?1 AND state = 'pending'",
    )?
    .execute((seq as i64, EDITED_ON_THIS_TILL, now))?;
    Ok(())
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
    use std::sync::Arc;

    use axum::http::StatusCode;
    use tillpoint_protocol::auth::UserInfo;
    use tillpoint_protocol::UserId;
    use uuid::Uuid;

    use super::*;
    use crate::config::{LogLevel, TillConfig};
    use crate::server_url::ServerUrl;
    use crate::sign_in::secrets::MemorySecrets;
    use crate::sync::fake_server::{accept_all, setup, verifies};

    #[tokio::test]
    async fn a_batch_ends_where_the_journal_breaks_and_an_edited_record_is_kept_unsent() {
        let s = setup(&[], accept_all).await;
        s.record(5);
        {
            // Record 2 edited in place, as someone with the database file could.
            let conn = s.till.store().conn().unwrap();
            conn.execute_batch(
                "DROP TRIGGER journal_no_update;
                 UPDATE journal SET payload = '{\"n\":99}' WHERE seq = 2;",
            )
            .unwrap();
        }
        let summary = s.till.push_outbox(|_| {}).await.unwrap();
        assert_eq!((summary.accepted, summary.rejected), (4, 1), "{summary:?}");
        // Every batch sent is one intact chain, signed: the record before the edit, then the
        // records after it (which the server reports as following a missing record).
        assert_eq!(s.seen_seqs(), [vec![1], vec![3, 4, 5]]);
        assert!(s
            .fake
            .seen
            .lock()
            .unwrap()
            .iter()
            .all(|b| verifies(&s.till, b)));
        let states = s.states();
        assert_eq!(
            states.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
            ["synced", "rejected", "synced", "synced", "synced"]
        );
        assert_eq!(states[1].2.as_deref(), Some(EDITED_ON_THIS_TILL));
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
        // 3 and 5 do not chain to each other (4 was answered between them): each goes in a
        // batch of its own, since the server takes a batch only as one intact chain.
        assert_eq!(s.seen_seqs()[1..], [vec![3], vec![5]]);
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
        s.till = Arc::new(
            Till::open_with_secrets(
                TillConfig {
                    server_url: ServerUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap(),
                    data_dir: s.dir.path().join("other"),
                    log_level: LogLevel::Info,
                    source_file: None,
                    printer: None,
                },
                secrets,
            )
            .unwrap(),
        );
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

    #[tokio::test]
    async fn a_push_told_to_stop_after_a_batch_leaves_the_rest_pending_in_order() {
        let s = setup(&[], accept_all).await;
        s.record(5);
        let one_batch = PushOptions {
            batch_size: 2,
            most_batches: Some(1),
            ..PushOptions::default()
        };
        let summary = s.till.push_outbox_with(one_batch, |_| {}).await.unwrap();
        assert_eq!((summary.batches, summary.accepted), (1, 2));
        assert_eq!(
            s.state_names(),
            ["synced", "synced", "pending", "pending", "pending"]
        );
        let summary = s.till.push_outbox_with(one_batch, |_| {}).await.unwrap();
        assert_eq!((summary.batches, summary.accepted), (1, 2));
        assert_eq!(s.seen_seqs(), [vec![1, 2], vec![3, 4]]);
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
}
