//! Sync push: a till's journal arriving at the server (ARCHITECTURE.md §4,
//! docs/decisions/sync-push.md).
//!
//! The promise this module keeps: **nothing a till sold is lost or counted twice, and nothing
//! the device did not sign is counted at all.** Every batch is judged in one transaction of
//! its device (`Connection::device_transaction`: beside the organisation's other devices on
//! PostgreSQL, alone on SQLite):
//!
//! 1. The batch as a whole must come from the caller's organisation and from the device that
//!    signed it, with the key bound to that device at sign-in, and its records must form one
//!    intact chain ending in the hash the device signed (`batch`); otherwise it is refused
//!    (403) and nothing but an audit entry is written.
//! 2. Each record is then answered on its own, in order. A record seen before (same id, same
//!    hash) is a `duplicate` and changes nothing, so resending a batch any number of times is
//!    harmless. A record that cannot be read is `rejected` and not stored. Every other record
//!    is stored exactly as sent, with who handed it in: `accepted` (and applied: sale, lines,
//!    payments, stock movements, the grant's running total) when every check passes,
//!    `quarantined` with the first reason that failed otherwise.
//! 3. The server's copy of the device's chain (`device_chains`) ends at the last record
//!    received in `seq` order. A batch's first new record that does not continue it is
//!    quarantined with the chain's reason, and the chain then continues from that record (one
//!    the device signed), so a hole between batches is reported once, where it happened, and
//!    never blocks the records behind it.
//!
//! The work has three parts with one invariant each, run by the one ingest (`ingest`) behind
//! both push and import (`super::import`): `batch` lets only an intact, signed batch through;
//! `judging` decides a record's answer and writes nothing; `applying` writes an accepted
//! record's business rows and refuses nothing. Between them, the ingest keeps the books of
//! what arrived: each record stored as sent (`sync_records`), the chain's new end
//! (`device_chains`) and the audit entries.

mod applying;
mod batch;
mod books;
#[cfg(test)]
mod fixtures;
mod judging;
#[cfg(test)]
mod record_tests;
mod refundable;
mod signed_in;

use std::collections::HashSet;

use crate::store::{Connection, Transaction};
use chrono::{DateTime, Utc};
use serde_json::json;
use tillpoint_protocol::journal::{JournalRecord, RecordKind};
use tillpoint_protocol::sales::{SalePayload, TillSessionPayload};
use tillpoint_protocol::sync::{
    Outcome, PushRequest, PushResponse, RecordResult, MAX_PUSH_RECORDS,
};
use tillpoint_protocol::{DeviceId, OrgId};

pub(super) use applying::apply;
pub(super) use books::BatchBooks;
pub(crate) use judging::{read_head, rejudge, Head};
use judging::{Judge, Verdict, CONFLICTING_COPY};
pub use judging::{CHAIN_TIME_TOLERANCE_SECS, CLOCK_TOLERANCE_SECS, MEASURED_CLOCK_TOLERANCE_SECS};

use crate::identity::audit::{self, AuditContext, AuditEvent};
use crate::identity::time_text;
use crate::store::DbError;
use crate::tenancy::Tenant;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("a batch carries at most {max} records")]
    TooLarge { max: usize },
    #[error("a push carries at least one record")]
    Empty,
    /// The whole batch is refused; nothing was stored.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for PushError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Who is pushing, from where, when.
#[derive(Debug, Clone)]
pub struct Pusher {
    pub tenant: Tenant,
    pub client_ip: Option<String>,
    pub now: DateTime<Utc>,
}

/// A record's payload, read according to its kind.
pub(crate) enum Payload {
    Sale(Box<SalePayload>),
    /// A till opened or closed: checked to be readable, kept as the record only.
    Session,
}

pub(crate) fn parse_payload(kind: RecordKind, payload: &str) -> Result<Payload, String> {
    match kind {
        RecordKind::Sale | RecordKind::Refund => serde_json::from_str(payload)
            .map(|sale| Payload::Sale(Box::new(sale)))
            .map_err(|e| format!("the payload is not a {} payload: {e}", kind.as_str())),
        RecordKind::TillOpened | RecordKind::TillClosed => {
            serde_json::from_str::<TillSessionPayload>(payload)
                .map(|_| Payload::Session)
                .map_err(|e| format!("the payload is not a {} payload: {e}", kind.as_str()))
        }
    }
}

/// How a batch reaches the ingest: the checks are the same, but for what a revoked device
/// may still hand in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// A till pushing its own outbox: a revoked device's batch is refused.
    Push,
    /// A manager importing a file exported from a till (`super::import`): a revoked
    /// device's records made before its revocation are judged as if pushed, those made
    /// after it are quarantined.
    Import,
}

/// Judges and stores one batch (see the module documentation).
pub fn push(
    conn: &mut Connection,
    pusher: &Pusher,
    request: &PushRequest,
) -> Result<PushResponse, PushError> {
    if request.records.len() > MAX_PUSH_RECORDS {
        return Err(PushError::TooLarge {
            max: MAX_PUSH_RECORDS,
        });
    }
    ingest(conn, pusher, request, Channel::Push, |_, _, _| Ok(()))
}

/// The one ingest behind push and import: the batch checks, then every record judged and
/// stored, in one transaction of the device. `finish` runs in that transaction after the
/// last record, with the answers and the device's revocation time (only ever set for
/// [`Channel::Import`]). The caller bounds the batch's size.
///
/// When the books refuse an accepted record (a constraint, a value out of range:
/// [`refused_by_the_books`]), the transaction is rolled back, so nothing of that record stays
/// half-applied, and the batch is ingested again from the start with it set aside: stored
/// quarantined with [`NOT_APPLICABLE`] instead of applied. One bad record is never answered
/// with a retryable 5xx that its till would resend for ever. The batch's rows go out
/// together ([`Connection::hold`]), so a refusal may surface after the record that caused
/// it: then the batch runs again with every row written at once, which names the record. A
/// batch that applies cleanly (every genuine one) pays nothing for this; a failure of the
/// database itself stays an error.
pub(crate) fn ingest(
    conn: &mut Connection,
    pusher: &Pusher,
    request: &PushRequest,
    channel: Channel,
    finish: impl Fn(&Transaction<'_>, &PushResponse, Option<DateTime<Utc>>) -> rusqlite::Result<()>,
) -> Result<PushResponse, PushError> {
    if request.records.is_empty() {
        return Err(PushError::Empty);
    }
    let mut set_aside = HashSet::new();
    loop {
        match ingest_once(conn, pusher, request, channel, &finish, &set_aside) {
            Ok(response) => return Ok(response),
            Err(Again::SettingAside(id)) => {
                set_aside.insert(id);
            }
            Err(Again::OneRowAtATime) => conn.set_holding(false),
            Err(Again::No(err)) => return Err(err),
        }
    }
}

/// Why [`ingest_once`] stopped short.
enum Again {
    /// The books refused this accepted record: run the batch again with it set aside.
    SettingAside(uuid::Uuid),
    /// The books refused a held row, which names no record: run again writing each at once.
    OneRowAtATime,
    No(PushError),
}

impl From<PushError> for Again {
    fn from(err: PushError) -> Self {
        Again::No(err)
    }
}

/// `err`, which a statement of `tx` met: a refusal of rows held earlier is not that
/// statement's.
fn blame(tx: &Connection, err: rusqlite::Error) -> Again {
    if tx.take_held_write_failure() && refused_by_the_books(&err) {
        Again::OneRowAtATime
    } else {
        Again::No(err.into())
    }
}

fn ingest_once(
    conn: &mut Connection,
    pusher: &Pusher,
    request: &PushRequest,
    channel: Channel,
    finish: &impl Fn(&Transaction<'_>, &PushResponse, Option<DateTime<Utc>>) -> rusqlite::Result<()>,
    set_aside: &HashSet<uuid::Uuid>,
) -> Result<PushResponse, Again> {
    let org = pusher.tenant.org();
    let device = request.device_id;
    let tx = conn
        .device_transaction(&org.to_string(), &device.to_string())
        .map_err(PushError::from)?;
    let batch = match batch::check_batch(&tx, org, request, channel) {
        Ok(batch) => batch,
        Err(reason) => {
            let context = audit_context(pusher, device);
            let mut detail = json!({"reason": reason, "records": request.records.len()});
            if channel == Channel::Import {
                detail["via"] = json!("import");
            }
            audit::record(&tx, &context, AuditEvent::PushRefused, detail, pusher.now)
                .map_err(PushError::from)?;
            tx.commit().map_err(PushError::from)?;
            return Err(PushError::Refused(reason).into());
        }
    };
    let revoked_at = batch.revoked_at;
    let records: Vec<&JournalRecord> = batch.records.iter().collect();
    let mut judge =
        Judge::new(&tx, org, device, revoked_at, &records).map_err(|e| blame(&tx, e))?;
    let mut results = Vec::with_capacity(batch.records.len());
    let handed_in = HandedIn {
        pusher,
        via: channel,
    };
    for record in batch.records {
        let content_hash = record.expected_hash();
        let verdict = judge
            .record(record, &content_hash)
            .map_err(|e| blame(&tx, e))?;
        let mut keep = |reason: Option<&str>| {
            store(
                &tx,
                &mut judge.books,
                &handed_in,
                record,
                &content_hash,
                reason,
            )
            .map_err(|e| blame(&tx, e))
        };
        let (outcome, reason) = match verdict {
            Verdict::Duplicate(reason) => (Outcome::Duplicate, reason),
            Verdict::Rejected(reason) => (Outcome::Rejected, Some(reason)),
            Verdict::ConflictingCopy => {
                audit_conflict(&tx, pusher, device, record).map_err(|e| blame(&tx, e))?;
                keep(Some(CONFLICTING_COPY))?;
                (Outcome::Quarantined, Some(CONFLICTING_COPY.to_owned()))
            }
            Verdict::Quarantined(reason) => {
                keep(Some(&reason))?;
                (Outcome::Quarantined, Some(reason))
            }
            Verdict::Accepted(_) if set_aside.contains(&record.id) => {
                keep(Some(NOT_APPLICABLE))?;
                (Outcome::Quarantined, Some(NOT_APPLICABLE.to_owned()))
            }
            Verdict::Accepted(payload) => {
                let stored = keep(None)?;
                match apply(
                    &tx,
                    &mut judge.books,
                    org,
                    &stored,
                    record,
                    &payload,
                    pusher.now,
                ) {
                    Ok(()) => (Outcome::Accepted, None),
                    Err(err) if tx.take_held_write_failure() => {
                        return Err(blame_held(err));
                    }
                    Err(err) if refused_by_the_books(&err) => {
                        tracing::warn!(record = %record.id, error = %err, "an accepted record cannot be applied; quarantining it");
                        return Err(Again::SettingAside(record.id));
                    }
                    Err(err) => return Err(PushError::from(err).into()),
                }
            }
        };
        results.push(RecordResult {
            id: record.id,
            seq: record.seq,
            outcome,
            reason,
        });
    }
    let response = PushResponse { results };
    let wrote = (|| {
        judge.books.write(&tx, pusher.now)?;
        if let Some(head) = judge.moved_head() {
            save_chain(&tx, org, device, head, pusher.now)?;
        }
        finish(&tx, &response, revoked_at)
    })();
    wrote.map_err(|e| blame(&tx, e))?;
    drop(judge);
    // The commit writes what is still held: a refusal there is a held row's too.
    if let Err(err) = tx.commit() {
        return Err(blame_held(err));
    }
    Ok(response)
}

/// A refusal met while writing held rows, which names no record.
fn blame_held(err: rusqlite::Error) -> Again {
    if refused_by_the_books(&err) {
        Again::OneRowAtATime
    } else {
        Again::No(err.into())
    }
}

/// The reason a record judged acceptable is quarantined with when the books refuse it.
pub(crate) const NOT_APPLICABLE: &str = "it cannot be applied to the server's books: a value in it is out of range or clashes with one held; a manager can look at it";

/// Whether `err` says the record's own values were refused (a constraint, a type or size
/// out of range), as opposed to the database failing.
pub(crate) fn refused_by_the_books(err: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode;
    match err {
        rusqlite::Error::SqliteFailure(e, _) => matches!(
            e.code,
            ErrorCode::ConstraintViolation | ErrorCode::TypeMismatch | ErrorCode::TooBig
        ),
        rusqlite::Error::ToSqlConversionFailure(_)
        | rusqlite::Error::IntegralValueOutOfRange(..) => true,
        _ => false,
    }
}

fn audit_context(pusher: &Pusher, device: DeviceId) -> AuditContext {
    AuditContext {
        org: Some(pusher.tenant.org()),
        actor: Some(pusher.tenant.actor()),
        device: Some(device),
        client_ip: pusher.client_ip.clone(),
    }
}

/// Who handed a batch in, and how: stored with each record, so a release can be made by
/// someone else (docs/decisions/sync-push.md, "Managers").
struct HandedIn<'a> {
    pusher: &'a Pusher,
    via: Channel,
}

/// Stores the record as sent, `quarantined` with `reason` or else `accepted`; returns the
/// server's id for this copy.
fn store(
    tx: &Transaction<'_>,
    books: &mut BatchBooks,
    handed_in: &HandedIn<'_>,
    record: &JournalRecord,
    content_hash: &str,
    reason: Option<&str>,
) -> rusqlite::Result<String> {
    let pusher = handed_in.pusher;
    let id = uuid::Uuid::now_v7().to_string();
    let status = if reason.is_some() {
        "quarantined"
    } else {
        "accepted"
    };
    tx.hold(
        "INSERT INTO sync_records (id, org_id, record_id, kind, creator_id, device_id, seq,
             created_at, grant_jti, prev_hash, hash, payload, content_hash, received_at,
             status, reason, pushed_by, pushed_via)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        rusqlite::params![
            id,
            pusher.tenant.org().to_string(),
            record.id.to_string(),
            record.kind.as_str(),
            record.creator_id.to_string(),
            record.device_id.to_string(),
            record.seq as i64,
            record.created_at,
            record.grant_jti,
            record.prev_hash,
            record.hash,
            record.payload,
            content_hash,
            time_text(pusher.now),
            status,
            reason,
            pusher.tenant.actor().to_string(),
            match handed_in.via {
                Channel::Push => "push",
                Channel::Import => "import",
            },
        ],
    )?;
    books.stored(
        &record.id.to_string(),
        (
            content_hash.to_owned(),
            status.to_owned(),
            reason.map(str::to_owned),
        ),
    );
    Ok(id)
}

fn audit_conflict(
    tx: &Transaction<'_>,
    pusher: &Pusher,
    device: DeviceId,
    record: &JournalRecord,
) -> rusqlite::Result<()> {
    let detail = json!({"record": record.id, "seq": record.seq, "hash": record.hash});
    audit::record(
        tx,
        &audit_context(pusher, device),
        AuditEvent::SyncConflictingCopy,
        detail,
        pusher.now,
    )
}

/// Saves `head` as the end of the server's copy of `device`'s chain.
pub(crate) fn save_chain(
    tx: &Connection,
    org: OrgId,
    device: DeviceId,
    head: &Head,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO device_chains (org_id, device_id, last_seq, last_hash, last_created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (org_id, device_id) DO UPDATE
            SET last_seq = excluded.last_seq, last_hash = excluded.last_hash,
                last_created_at = excluded.last_created_at, updated_at = excluded.updated_at",
        (
            org.to_string(),
            device.to_string(),
            head.seq as i64,
            &head.hash,
            head.created_at.map(time_text),
            time_text(now),
        ),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use tillpoint_protocol::journal::GENESIS_HASH;
    use tillpoint_protocol::sync::{Outcome, MAX_PUSH_RECORDS};

    use super::fixtures::{sales, send, setup};

    /// Throughput of the ingest itself (no HTTP): `cargo test -p tillpoint-server --release
    /// --lib -- --ignored --nocapture push_throughput`.
    #[test]
    #[ignore]
    fn push_throughput() {
        let s = setup();
        let total: u64 = 20_000;
        let mut after = (0, GENESIS_HASH.to_owned());
        let mut batches = Vec::new();
        while after.0 < total {
            let batch = sales(&s, after.clone(), MAX_PUSH_RECORDS as u64);
            let last = batch.last().unwrap();
            after = (last.seq, last.hash.clone());
            batches.push(batch);
        }
        let started = std::time::Instant::now();
        for batch in batches {
            let answer = send(&s, batch);
            assert!(answer.iter().all(|a| a.0 == Outcome::Accepted));
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{total} sales in {secs:.2} s: {:.0} sales/s",
            total as f64 / secs
        );
    }

    #[test]
    fn the_push_and_quarantine_routes_are_in_the_api_document() {
        let doc = crate::startup::openapi();
        for path in [
            "/api/v1/sync/push",
            "/api/v1/sync/import",
            "/api/v1/sync/quarantine",
            "/api/v1/sync/quarantine/{id}/release",
            "/api/v1/sync/quarantine/{id}/void",
            "/api/v1/admin/devices/{id}/chain/rebase",
        ] {
            assert!(doc.paths.paths.contains_key(path), "{path}");
        }
    }
}
