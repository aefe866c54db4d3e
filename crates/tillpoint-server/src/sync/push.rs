//! Sync push: a till's journal arriving at the server (ARCHITECTURE.md §4,
//! docs/decisions/sync-push.md).
//!
//! The promise this module keeps: **nothing a till sold is lost or counted twice.** Every
//! batch is judged in one `BEGIN IMMEDIATE` transaction:
//!
//! 1. The batch as a whole must come from the caller's organisation and from the device that
//!    signed it, with the key bound to that device at sign-in; otherwise it is refused (403)
//!    and nothing but an audit entry is written.
//! 2. Each record is then answered on its own, in order. A record seen before (same id, same
//!    hash) is a `duplicate` and changes nothing, so resending a batch any number of times is
//!    harmless. A record that cannot be read is `rejected` and not stored. Every other record
//!    is stored exactly as sent: `accepted` (and applied: sale, lines, payments, stock
//!    movements, the grant's running total) when every check passes, `quarantined` with the
//!    first reason that failed otherwise.
//! 3. The server's copy of the device's chain (`device_chains`) ends at the last record
//!    received in `seq` order. A record that does not continue it is quarantined with the
//!    chain's reason, and the chain then continues from that record, so one deleted or edited
//!    entry is reported once, where it happened, and never blocks the records behind it.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, VerifyingKey};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde_json::json;
use tillpoint_protocol::auth::OfflineGrantClaims;
use tillpoint_protocol::journal::{JournalRecord, RecordKind, GENESIS_HASH};
use tillpoint_protocol::permission::any_covers;
use tillpoint_protocol::sales::{SalePayload, TillSessionPayload};
use tillpoint_protocol::sync::{
    push_signing_bytes, Outcome, PushRequest, PushResponse, RecordResult, MAX_PUSH_RECORDS,
};
use tillpoint_protocol::{DeviceId, OrgId, Permission, UserId};

use crate::identity::audit::{self, AuditContext, AuditEvent};
use crate::identity::devices;
use crate::identity::{time_text, users};
use crate::store::DbError;
use crate::tenancy::Tenant;

/// How far a record's time may lie outside its grant's `nbf`..`exp` (or after its
/// revocation) and still count as inside, for a device whose clock offset is unknown (no
/// sign-in of it sent the till's time). The till's offline clock never runs backwards
/// (ARCHITECTURE.md §3), so this only absorbs ordinary drift between two clocks.
pub const CLOCK_TOLERANCE_SECS: i64 = 300;

/// The same for a device whose clock offset was measured at sign-in: the record's time is
/// corrected by that offset, and this only absorbs drift since the measurement.
pub const MEASURED_CLOCK_TOLERANCE_SECS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("a batch carries at most {max} records")]
    TooLarge { max: usize },
    #[error("a push carries at least one record")]
    Empty,
    /// The whole batch is refused; nothing was stored.
    #[error("{0}")]
    Refused(&'static str),
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
/// stored, in one `BEGIN IMMEDIATE` transaction. `finish` runs in that transaction after the
/// last record, with the answers and the device's revocation time (only ever set for
/// [`Channel::Import`]). The caller bounds the batch's size.
pub(crate) fn ingest(
    conn: &mut Connection,
    pusher: &Pusher,
    request: &PushRequest,
    channel: Channel,
    finish: impl FnOnce(&Transaction<'_>, &PushResponse, Option<DateTime<Utc>>) -> rusqlite::Result<()>,
) -> Result<PushResponse, PushError> {
    let Some(last) = request.records.last() else {
        return Err(PushError::Empty);
    };
    let org = pusher.tenant.org();
    let device = request.device_id;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let revoked_at = match check_batch(&tx, org, request, &last.hash, channel) {
        Ok(revoked_at) => revoked_at,
        Err(reason) => {
            let context = AuditContext {
                org: Some(org),
                actor: Some(pusher.tenant.actor()),
                device: Some(device),
                client_ip: pusher.client_ip.clone(),
            };
            let mut detail = json!({"reason": reason, "records": request.records.len()});
            if channel == Channel::Import {
                detail["via"] = json!("import");
            }
            audit::record(&tx, &context, AuditEvent::PushRefused, detail, pusher.now)?;
            tx.commit()?;
            return Err(PushError::Refused(reason));
        }
    };

    let mut judge = Judge::new(&tx, org, device, pusher, revoked_at)?;
    let mut results = Vec::with_capacity(request.records.len());
    for record in &request.records {
        let (outcome, reason) = judge.record(record)?;
        results.push(RecordResult {
            id: record.id,
            seq: record.seq,
            outcome,
            reason,
        });
    }
    judge.save_chain()?;
    drop(judge);
    let response = PushResponse { results };
    finish(&tx, &response, revoked_at)?;
    tx.commit()?;
    Ok(response)
}

/// The checks on the batch as a whole; the reason is sent to the till and written to the
/// audit log. The device's revocation time when `channel` lets a revoked device's records
/// in.
fn check_batch(
    conn: &Connection,
    org: OrgId,
    request: &PushRequest,
    last_hash: &str,
    channel: Channel,
) -> Result<Option<DateTime<Utc>>, &'static str> {
    if request.records.iter().any(|r| r.org_id != org) {
        return Err("a record of this batch belongs to another organisation");
    }
    if request
        .records
        .iter()
        .any(|r| r.device_id != request.device_id)
    {
        return Err("a record of this batch was made on another device");
    }
    let revoked_at = match device_revoked_at(conn, org, request.device_id) {
        Ok(Some(None)) => None,
        Ok(Some(Some(_))) if channel == Channel::Push => {
            return Err("this device has been revoked")
        }
        Ok(Some(Some(at))) => Some(at),
        Ok(None) => return Err("this device is not known to the organisation"),
        Err(_) => return Err("the device could not be checked"),
    };
    let key = devices::public_key(conn, org, request.device_id)
        .ok()
        .flatten()
        .ok_or("this device has no key; sign in on it again with a current till")?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| "the device's key is not valid")?;
    let signature = STANDARD
        .decode(&request.signature)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or("the batch's signature is malformed")?;
    key.verify_strict(
        &push_signing_bytes(request.device_id, last_hash),
        &signature,
    )
    .map_err(|_| "the batch's signature does not verify with this device's key")?;
    Ok(revoked_at)
}

/// `None` for a device unknown to the organisation; else when it was revoked, if it was.
fn device_revoked_at(
    conn: &Connection,
    org: OrgId,
    device: DeviceId,
) -> Result<Option<Option<DateTime<Utc>>>, ()> {
    let revoked: Option<Option<String>> = conn
        .query_row(
            "SELECT revoked_at FROM devices WHERE org_id = ?1 AND id = ?2",
            (org.to_string(), device.to_string()),
            |r| r.get(0),
        )
        .optional()
        .map_err(|_| ())?;
    match revoked {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(text)) => DateTime::parse_from_rfc3339(&text)
            .map(|at| Some(Some(at.with_timezone(&Utc))))
            .map_err(|_| ()),
    }
}

/// A user as a push needs them: whether they belong to the organisation and what they hold.
type UserPermissions = Option<Vec<Permission>>;

struct Grant {
    user: UserId,
    device: DeviceId,
    claims: OfflineGrantClaims,
    revoked_at: Option<DateTime<Utc>>,
}

/// The per-record judge of one batch: the chain head it advances and what it has looked up.
struct Judge<'a> {
    tx: &'a Transaction<'a>,
    org: OrgId,
    device: DeviceId,
    pusher: &'a Pusher,
    /// When the device was revoked, for an import of its records (a push of a revoked
    /// device's batch is refused before judging).
    revoked_at: Option<DateTime<Utc>>,
    /// The device's clock offset measured at sign-in (server − device, seconds), if known.
    clock_offset: Option<i64>,
    /// The last record of the server's copy of this device's chain.
    head: (u64, String),
    head_moved: bool,
    users: HashMap<UserId, UserPermissions>,
    grants: HashMap<String, Option<Grant>>,
}

impl<'a> Judge<'a> {
    fn new(
        tx: &'a Transaction<'a>,
        org: OrgId,
        device: DeviceId,
        pusher: &'a Pusher,
        revoked_at: Option<DateTime<Utc>>,
    ) -> rusqlite::Result<Self> {
        let head = tx
            .query_row(
                "SELECT last_seq, last_hash FROM device_chains WHERE org_id = ?1 AND device_id = ?2",
                (org.to_string(), device.to_string()),
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)),
            )
            .optional()?
            .unwrap_or((0, GENESIS_HASH.to_owned()));
        let clock_offset = devices::clock_offset(tx, org, device)?;
        Ok(Self {
            tx,
            org,
            device,
            pusher,
            revoked_at,
            clock_offset,
            head,
            head_moved: false,
            users: HashMap::new(),
            grants: HashMap::new(),
        })
    }

    fn record(&mut self, record: &JournalRecord) -> rusqlite::Result<(Outcome, Option<String>)> {
        // Seen before: the same copy is a duplicate; another copy under the same id is a
        // security event, kept apart and never an overwrite. Copies are compared by what
        // their contents hash to, not by the hash they claim: an edited record keeps its
        // claimed hash, and the genuine one arriving later must not pass as its duplicate.
        let content_hash = record.expected_hash();
        let held: Vec<(String, String, Option<String>)> = self
            .tx
            .prepare_cached(
                "SELECT content_hash, status, reason FROM sync_records WHERE org_id = ?1 AND record_id = ?2",
            )?
            .query_map((self.org.to_string(), record.id.to_string()), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        if let Some((_, status, reason)) = held.iter().find(|(hash, _, _)| *hash == content_hash) {
            let reason = match status.as_str() {
                "quarantined" => reason.clone(),
                "voided" => Some(format!(
                    "voided by a manager: {}",
                    reason.as_deref().unwrap_or("")
                )),
                _ => None,
            };
            return Ok((Outcome::Duplicate, reason));
        }
        if !held.is_empty() {
            let reason = "conflicting copy: the server holds another record with this id";
            self.audit_conflict(record)?;
            self.store(record, &content_hash, Some(reason))?;
            return Ok((Outcome::Quarantined, Some(reason.to_owned())));
        }

        // Unreadable: not stored, and the chain does not move past it.
        let created_at = match DateTime::parse_from_rfc3339(&record.created_at) {
            Ok(t) => t.with_timezone(&Utc),
            Err(_) => {
                let reason = "created_at is not an RFC 3339 time".to_owned();
                return Ok((Outcome::Rejected, Some(reason)));
            }
        };
        let payload = match parse_payload(record.kind, &record.payload) {
            Ok(payload) => payload,
            Err(reason) => return Ok((Outcome::Rejected, Some(reason))),
        };

        let reason = match self.chain(record) {
            Some(reason) => Some(reason),
            None => match self.revoked_at.filter(|at| created_at >= *at) {
                Some(at) => Some(format!(
                    "made after this device was revoked ({})",
                    time_text(at)
                )),
                None => self.checks(record, created_at, &payload)?,
            },
        };
        let stored = self.store(record, &content_hash, reason.as_deref())?;
        match reason {
            Some(reason) => Ok((Outcome::Quarantined, Some(reason))),
            None => {
                apply(
                    self.tx,
                    self.org,
                    &stored,
                    record,
                    &payload,
                    self.pusher.now,
                )?;
                Ok((Outcome::Accepted, None))
            }
        }
    }

    /// Whether `record` continues the chain; moves the head to it when it lies ahead of it.
    fn chain(&mut self, record: &JournalRecord) -> Option<String> {
        let (last_seq, last_hash) = &self.head;
        let reason = if record.seq <= *last_seq {
            // Behind the head: the server holds (or skipped past) a record with this seq.
            return Some(format!(
                "fork: the server already holds this device's chain up to record {last_seq}, and record {} is another one",
                record.seq
            ));
        } else if !record.hash_is_intact() {
            Some("edited: its hash does not match its contents".to_owned())
        } else if record.seq != last_seq + 1 {
            Some(format!(
                "gap: record {} of this device is missing (the chain ends at {last_seq})",
                last_seq + 1
            ))
        } else if record.prev_hash != *last_hash {
            Some(format!(
                "broken chain: it does not link to record {last_seq}; one was removed or replaced"
            ))
        } else {
            None
        };
        // The chain continues from this record (its claimed hash), so the next record is
        // judged against it: one break is reported once.
        self.head = (record.seq, record.hash.clone());
        self.head_moved = true;
        reason
    }

    /// The checks of who made the record and under what authority. `None` when all pass.
    fn checks(
        &mut self,
        record: &JournalRecord,
        created_at: DateTime<Utc>,
        payload: &Payload,
    ) -> rusqlite::Result<Option<String>> {
        let Some(creator_perms) = self.user(record.creator_id)?.clone() else {
            return Ok(Some(
                "the creator is not a user of this organisation".into(),
            ));
        };
        let sale = match payload {
            Payload::Sale(sale) => Some(sale.as_ref()),
            Payload::Session => None,
        };
        // A refund approved by a manager on the till needs the approver's permission, not
        // the cashier's.
        let approver = sale
            .filter(|_| record.kind == RecordKind::Refund)
            .and_then(|s| s.approver_id);
        let required = match record.kind {
            RecordKind::Sale => Some("pos:sales:create"),
            RecordKind::Refund if approver.is_some() => None,
            RecordKind::Refund => Some("pos:sales:refund"),
            RecordKind::TillOpened | RecordKind::TillClosed => Some("pos:sessions:manage"),
        }
        .map(|p| Permission::parse(p).expect("valid permission"));
        if let Some(approver) = approver {
            let refund = Permission::parse("pos:sales:refund").expect("valid permission");
            match self.user(approver)? {
                None => {
                    return Ok(Some(
                        "the approver is not a user of this organisation".into(),
                    ))
                }
                Some(held) if !any_covers(held, &refund) => {
                    return Ok(Some("the approver does not hold pos:sales:refund".into()))
                }
                Some(_) => {}
            }
        }
        if let Some(sale) = sale {
            if let Some(reason) = self.sale_clashes(record, sale)? {
                return Ok(Some(reason));
            }
        }
        match &record.grant_jti {
            None => Ok(required
                .filter(|p| !any_covers(&creator_perms, p))
                .map(|p| format!("the creator does not hold {}", p.as_str()))),
            Some(jti) => self.grant_checks(record, jti, created_at, required.as_ref(), sale),
        }
    }

    fn grant_checks(
        &mut self,
        record: &JournalRecord,
        jti: &str,
        created_at: DateTime<Utc>,
        required: Option<&Permission>,
        sale: Option<&SalePayload>,
    ) -> rusqlite::Result<Option<String>> {
        // The record's time on the server's clock when the device's offset is known, with a
        // small allowance for drift since it was measured; otherwise the till's time as it
        // claims it, with the wider allowance.
        let (created_at, tolerance) = match self.clock_offset {
            Some(offset) => (
                created_at
                    .checked_add_signed(chrono::Duration::seconds(offset))
                    .unwrap_or(created_at),
                chrono::Duration::seconds(MEASURED_CLOCK_TOLERANCE_SECS),
            ),
            None => (created_at, chrono::Duration::seconds(CLOCK_TOLERANCE_SECS)),
        };
        let (tx, org, device) = (self.tx, self.org, self.device);
        let Some(grant) = self.grant(jti)? else {
            return Ok(Some(format!(
                "unknown grant: no offline grant {jti} was issued in this organisation"
            )));
        };
        if grant.user != record.creator_id {
            return Ok(Some("the grant was issued to another user".into()));
        }
        if grant.device != device {
            return Ok(Some("the grant was issued for another device".into()));
        }
        if let Some(required) = required {
            if !any_covers(&grant.claims.perms, required) {
                return Ok(Some(format!(
                    "the grant does not cover {}",
                    required.as_str()
                )));
            }
        }
        let at = |secs: i64| DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
        if created_at + tolerance < at(grant.claims.nbf) {
            return Ok(Some("made before the grant was valid".into()));
        }
        if created_at - tolerance > at(grant.claims.exp) {
            return Ok(Some(format!(
                "made after the grant expired ({})",
                time_text(at(grant.claims.exp))
            )));
        }
        if let Some(revoked) = grant.revoked_at {
            if created_at - tolerance > revoked {
                return Ok(Some(format!(
                    "made after the grant was revoked ({})",
                    time_text(revoked)
                )));
            }
        }
        let Some(sale) = sale else { return Ok(None) };
        let currency = sale.currency;
        let Some(limits) = grant.claims.limits.get(&currency).copied() else {
            return Ok(Some(format!(
                "the grant allows no offline sales in {currency}"
            )));
        };
        let amount = sale.total_minor.abs();
        if amount > limits.max_sale {
            return Ok(Some(format!(
                "over the grant's largest sale: {amount} > {} ({currency} minor units)",
                limits.max_sale
            )));
        }
        if record.kind == RecordKind::Sale && sale.discount_minor > limits.max_discount {
            return Ok(Some(format!(
                "over the grant's largest discount: {} > {} ({currency} minor units)",
                sale.discount_minor, limits.max_discount
            )));
        }
        let used = grant_used(tx, org, jti, currency.as_str())?;
        if used + amount > limits.max_offline_total {
            return Ok(Some(format!(
                "over the grant's offline total: {used} already + {amount} > {} ({currency} minor units)",
                limits.max_offline_total
            )));
        }
        Ok(None)
    }

    /// Whether the sale's id or receipt number is already the server's for another record.
    fn sale_clashes(
        &self,
        record: &JournalRecord,
        sale: &SalePayload,
    ) -> rusqlite::Result<Option<String>> {
        let org = self.org.to_string();
        let by_id: Option<String> = self
            .tx
            .prepare_cached("SELECT device_id FROM sales WHERE org_id = ?1 AND id = ?2")?
            .query_row((&org, sale.sale_id.to_string()), |r| r.get(0))
            .optional()?;
        let clash = match by_id {
            Some(device) => Some(device),
            None => self
                .tx
                .prepare_cached(
                    "SELECT device_id FROM sales WHERE org_id = ?1 AND receipt_no = ?2 LIMIT 1",
                )?
                .query_row((&org, &sale.receipt_no), |r| r.get(0))
                .optional()?,
        };
        Ok(clash.map(|device| {
            if device == record.device_id.to_string() {
                format!(
                    "sale {} (receipt {}) is already recorded by another record",
                    sale.sale_id, sale.receipt_no
                )
            } else {
                format!(
                    "receipt number {} is already used by another device",
                    sale.receipt_no
                )
            }
        }))
    }

    fn user(&mut self, id: UserId) -> rusqlite::Result<&UserPermissions> {
        if !self.users.contains_key(&id) {
            let found = users::find_in_org(self.tx, self.org, id)?.map(|u| u.permissions);
            self.users.insert(id, found);
        }
        Ok(&self.users[&id])
    }

    fn grant(&mut self, jti: &str) -> rusqlite::Result<&Option<Grant>> {
        if !self.grants.contains_key(jti) {
            let found = self
                .tx
                .query_row(
                    "SELECT user_id, device_id, claims, revoked_at FROM offline_grants
                      WHERE jti = ?1 AND org_id = ?2",
                    (jti, self.org.to_string()),
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, Option<String>>(3)?,
                        ))
                    },
                )
                .optional()?
                .and_then(|(user, device, claims, revoked)| {
                    Some(Grant {
                        user: user.parse().ok()?,
                        device: device.parse().ok()?,
                        claims: serde_json::from_str(&claims).ok()?,
                        revoked_at: match revoked {
                            None => None,
                            Some(text) => Some(
                                DateTime::parse_from_rfc3339(&text)
                                    .ok()?
                                    .with_timezone(&Utc),
                            ),
                        },
                    })
                });
            self.grants.insert(jti.to_owned(), found);
        }
        Ok(&self.grants[jti])
    }

    /// Stores the record as sent; returns the server's id for this copy.
    fn store(
        &self,
        record: &JournalRecord,
        content_hash: &str,
        reason: Option<&str>,
    ) -> rusqlite::Result<String> {
        let id = uuid::Uuid::now_v7().to_string();
        self.tx
            .prepare_cached(
                "INSERT INTO sync_records (id, org_id, record_id, kind, creator_id, device_id, seq,
                     created_at, grant_jti, prev_hash, hash, payload, content_hash, received_at,
                     status, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?
            .execute(rusqlite::params![
                id,
                self.org.to_string(),
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
                time_text(self.pusher.now),
                if reason.is_some() {
                    "quarantined"
                } else {
                    "accepted"
                },
                reason,
            ])?;
        Ok(id)
    }

    fn audit_conflict(&self, record: &JournalRecord) -> rusqlite::Result<()> {
        let context = AuditContext {
            org: Some(self.org),
            actor: Some(self.pusher.tenant.actor()),
            device: Some(self.device),
            client_ip: self.pusher.client_ip.clone(),
        };
        let detail = json!({"record": record.id, "seq": record.seq, "hash": record.hash});
        audit::record(
            self.tx,
            &context,
            AuditEvent::SyncConflictingCopy,
            detail,
            self.pusher.now,
        )
    }

    fn save_chain(&self) -> rusqlite::Result<()> {
        if !self.head_moved {
            return Ok(());
        }
        self.tx.execute(
            "INSERT INTO device_chains (org_id, device_id, last_seq, last_hash, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (org_id, device_id) DO UPDATE
                SET last_seq = excluded.last_seq, last_hash = excluded.last_hash,
                    updated_at = excluded.updated_at",
            (
                self.org.to_string(),
                self.device.to_string(),
                self.head.0 as i64,
                &self.head.1,
                time_text(self.pusher.now),
            ),
        )?;
        Ok(())
    }
}

/// What has been sold offline under grant `jti` in `currency`, by the records applied.
fn grant_used(conn: &Connection, org: OrgId, jti: &str, currency: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT total_minor FROM grant_usage WHERE org_id = ?1 AND grant_jti = ?2 AND currency = ?3",
    )?
    .query_row((org.to_string(), jti, currency), |r| r.get(0))
    .optional()
    .map(|t| t.unwrap_or(0))
}

/// Applies an accepted (or released) record: a sale or refund becomes the server's sale, its
/// lines, payments and stock movements, and counts against its grant; selling below zero and
/// a price off the list are recorded as exceptions for a manager, never refused. Till
/// openings and closings are kept as records only.
pub(crate) fn apply(
    tx: &Connection,
    org: OrgId,
    stored_id: &str,
    record: &JournalRecord,
    payload: &Payload,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let Payload::Sale(sale) = payload else {
        return Ok(());
    };
    let org_text = org.to_string();
    let sale_id = sale.sale_id.to_string();
    let kind = if record.kind == RecordKind::Refund {
        "refund"
    } else {
        "sale"
    };
    tx.prepare_cached(
        "INSERT INTO sales (org_id, id, sync_record_id, kind, device_id, creator_id, receipt_no,
             till_session_id, location_id, currency, subtotal_minor, discount_minor, total_minor,
             refund_of, approver_id, grant_jti, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(rusqlite::params![
        org_text,
        sale_id,
        stored_id,
        kind,
        record.device_id.to_string(),
        record.creator_id.to_string(),
        sale.receipt_no,
        sale.till_session_id.to_string(),
        sale.location_id.map(|l| l.to_string()),
        sale.currency.as_str(),
        sale.subtotal_minor,
        sale.discount_minor,
        sale.total_minor,
        sale.refund_of.map(|s| s.to_string()),
        sale.approver_id.map(|a| a.to_string()),
        record.grant_jti,
        record.created_at,
    ])?;
    let location = sale.location_id.map(|l| l.to_string());
    for line in &sale.lines {
        let product = line.product_id.to_string();
        tx.prepare_cached(
            "INSERT INTO sale_lines (org_id, sale_id, line_no, product_id, sku, name, quantity_milli,
                 unit_price_minor, list_price_minor, discount_minor, total_minor, vat_minor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(rusqlite::params![
            org_text,
            sale_id,
            line.line_no,
            product,
            line.sku,
            line.name,
            line.quantity.milli(),
            line.unit_price_minor,
            line.list_price_minor,
            line.line_discount_minor + line.cart_discount_minor,
            line.total_minor,
            line.vat_minor,
        ])?;
        let moved = tillpoint_protocol::stock::line_movement_milli(record.kind, line);
        if let Some(moved) = moved.filter(|m| *m != 0) {
            tx.prepare_cached(
                "INSERT INTO stock_movements (org_id, product_id, location_id, quantity_milli, sale_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute((&org_text, &product, &location, moved, &sale_id, &record.created_at))?;
            let on_hand: i64 = tx
                .prepare_cached(
                    "INSERT INTO stock_levels (org_id, product_id, location_id, on_hand_milli)
                     VALUES (?1, ?2, COALESCE(?3, ''), ?4)
                     ON CONFLICT (org_id, product_id, location_id)
                        DO UPDATE SET on_hand_milli = on_hand_milli + excluded.on_hand_milli
                     RETURNING on_hand_milli",
                )?
                .query_row((&org_text, &product, &location, moved), |r| r.get(0))?;
            if moved < 0 && on_hand < 0 {
                exception(
                    tx,
                    &org_text,
                    stored_id,
                    "negative_stock",
                    json!({"product_id": product, "sku": line.sku, "location_id": location, "on_hand_milli": on_hand}),
                    now,
                )?;
            }
        }
        if record.kind == RecordKind::Sale && line.unit_price_minor != line.list_price_minor {
            exception(
                tx,
                &org_text,
                stored_id,
                "price_differs",
                json!({"product_id": product, "sku": line.sku, "charged": line.unit_price_minor, "list": line.list_price_minor}),
                now,
            )?;
        }
    }
    for (n, payment) in sale.payments.iter().enumerate() {
        tx.prepare_cached(
            "INSERT INTO sale_payments (org_id, sale_id, n, method, currency, amount_minor, value_minor, reference)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(rusqlite::params![
            org_text,
            sale_id,
            n as i64,
            payment.method.as_str(),
            payment.currency.as_str(),
            payment.amount_minor,
            payment.value_minor,
            payment.reference,
        ])?;
    }
    if let Some(jti) = &record.grant_jti {
        tx.prepare_cached(
            "INSERT INTO grant_usage (org_id, grant_jti, currency, total_minor) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (org_id, grant_jti, currency) DO UPDATE SET total_minor = total_minor + excluded.total_minor",
        )?
        .execute((&org_text, jti, sale.currency.as_str(), sale.total_minor.abs()))?;
    }
    Ok(())
}

fn exception(
    tx: &Connection,
    org: &str,
    stored_id: &str,
    kind: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_exceptions (org_id, sync_record_id, kind, detail, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute((org, stored_id, kind, detail.to_string(), time_text(now)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer as _, SigningKey};
    use tillpoint_protocol::auth::AccessClaims;
    use tillpoint_protocol::CurrencyCode;

    use super::*;
    use crate::identity::organisations::{create_organisation, NewOrganisation};
    use crate::identity::users::{create_user, NewUser};
    use crate::store::Database;

    struct Setup {
        _dir: tempfile::TempDir,
        db: Database,
        pusher: Pusher,
        device: DeviceId,
        key: SigningKey,
        cashier: UserId,
        /// An Administrator (holds `pos:*:*`).
        manager: UserId,
    }

    /// An organisation with a cashier, a manager and a keyed device, straight in the
    /// database.
    fn setup() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("server.db")).unwrap();
        let device = DeviceId::from_uuid(uuid::Uuid::now_v7());
        let key = SigningKey::from_bytes(&[42; 32]);
        let public = key.verifying_key().to_bytes();
        let (org, cashier, manager) = db
            .call_blocking(|conn| -> Result<_, DbError> {
                let tx = conn.transaction()?;
                let created = create_organisation(
                    &tx,
                    &NewOrganisation {
                        name: "Shop",
                        tax_number: None,
                        base_currency: CurrencyCode::parse("USD").unwrap(),
                        base_currency_name: "US Dollar",
                    },
                )?;
                let role = created
                    .roles
                    .iter()
                    .find(|(n, _)| *n == "Cashier")
                    .unwrap()
                    .1;
                let cashier = create_user(
                    &tx,
                    &NewUser {
                        org_id: created.id,
                        username: "cashier",
                        name: "Cashier",
                        email: "c@example.com",
                        role_id: role,
                        password: "cashier-password-1",
                    },
                )?;
                let admin_role = created
                    .roles
                    .iter()
                    .find(|(n, _)| *n == "Administrator")
                    .unwrap()
                    .1;
                let manager = create_user(
                    &tx,
                    &NewUser {
                        org_id: created.id,
                        username: "manager",
                        name: "Manager",
                        email: "m@example.com",
                        role_id: admin_role,
                        password: "manager-password-1",
                    },
                )?;
                tx.execute(
                    "INSERT INTO devices (org_id, id, first_seen, last_seen, public_key)
                     VALUES (?1, ?2, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', ?3)",
                    (
                        created.id.to_string(),
                        device.to_string(),
                        public.as_slice(),
                    ),
                )?;
                tx.commit()?;
                Ok((created.id, cashier, manager))
            })
            .unwrap();
        let claims: AccessClaims = serde_json::from_value(json!({
            "iss": "test", "aud": "tillpoint-api", "sub": cashier,
            "name": "c", "email": "c@example.com", "role": "Cashier", "perms": [],
            "org": org, "iat": 0, "nbf": 0, "exp": 0, "jti": "j",
        }))
        .unwrap();
        Setup {
            _dir: dir,
            db,
            pusher: Pusher {
                tenant: Tenant::from_verified_claims(&claims),
                client_ip: None,
                now: Utc::now(),
            },
            device,
            key,
            cashier,
            manager,
        }
    }

    /// `n` till openings made online by the cashier, chained from genesis.
    fn openings(s: &Setup, n: u64) -> Vec<JournalRecord> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let mut record = JournalRecord {
                    id: uuid::Uuid::now_v7(),
                    kind: RecordKind::TillOpened,
                    org_id: s.pusher.tenant.org(),
                    creator_id: s.cashier,
                    device_id: s.device,
                    seq,
                    created_at: "2026-11-27T10:00:00.000Z".into(),
                    grant_jti: None,
                    prev_hash: prev.clone(),
                    hash: String::new(),
                    payload: format!(
                        r#"{{"till_session_id":"{}","counts":[]}}"#,
                        uuid::Uuid::now_v7()
                    ),
                };
                record.hash = record.expected_hash();
                prev = record.hash.clone();
                record
            })
            .collect()
    }

    fn send(s: &Setup, records: Vec<JournalRecord>) -> Vec<(Outcome, Option<String>)> {
        let last = records.last().unwrap().hash.clone();
        let request = PushRequest {
            device_id: s.device,
            signature: STANDARD.encode(s.key.sign(&push_signing_bytes(s.device, &last)).to_bytes()),
            records,
        };
        let pusher = s.pusher.clone();
        s.db.call_blocking(|conn| push(conn, &pusher, &request))
            .unwrap()
            .results
            .into_iter()
            .map(|r| (r.outcome, r.reason))
            .collect()
    }

    #[test]
    fn a_gap_is_reported_once_and_the_chain_continues_from_the_record_after_it() {
        let s = setup();
        let records = openings(&s, 5);
        let sent = vec![
            records[0].clone(),
            records[1].clone(),
            records[3].clone(),
            records[4].clone(),
        ];
        let answer = send(&s, sent);
        let outcomes: Vec<Outcome> = answer.iter().map(|a| a.0).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Accepted,
                Outcome::Accepted,
                Outcome::Quarantined,
                Outcome::Accepted
            ]
        );
        assert!(answer[2].1.as_deref().unwrap().starts_with("gap: record 3"));
        // The missing record arriving late is behind the chain's end: a fork, kept.
        let late = send(&s, vec![records[2].clone()]);
        assert_eq!(late[0].0, Outcome::Quarantined);
        assert!(late[0].1.as_deref().unwrap().starts_with("fork"));
        // And the next record continues from 5.
        let mut next = openings(&s, 6).pop().unwrap();
        next.prev_hash = records[4].hash.clone();
        next.hash = next.expected_hash();
        assert_eq!(send(&s, vec![next])[0].0, Outcome::Accepted);
    }

    #[test]
    fn an_online_record_needs_the_permission_now_and_a_refused_batch_stores_nothing() {
        let s = setup();
        let mut records = openings(&s, 3);
        // A refund made online by a cashier, who does not hold pos:sales:refund.
        records[1].kind = RecordKind::Refund;
        records[1].payload = json!({
            "sale_id": uuid::Uuid::now_v7(), "receipt_no": "R-000001",
            "till_session_id": uuid::Uuid::now_v7(), "currency": "USD", "lines": [],
            "subtotal_minor": -100, "discount_minor": 0, "total_minor": -100, "vat": [],
            "payments": [], "change_minor": 0, "change_currency": "USD", "change_rate": "1",
            "change_rate_base": "USD", "refund_of": uuid::Uuid::now_v7(),
        })
        .to_string();
        // A till-session payload under a refund's kind cannot be read as a refund.
        records[2].kind = RecordKind::Refund;
        let mut prev = records[0].hash.clone();
        for record in &mut records[1..] {
            record.prev_hash = prev;
            record.hash = record.expected_hash();
            prev = record.hash.clone();
        }
        let answer = send(&s, records.clone());
        assert_eq!(answer[0].0, Outcome::Accepted);
        assert_eq!(answer[1].0, Outcome::Quarantined, "{answer:?}");
        assert_eq!(
            answer[1].1.as_deref(),
            Some("the creator does not hold pos:sales:refund")
        );
        assert_eq!(answer[2].0, Outcome::Rejected, "{answer:?}");

        let mut other = records.clone();
        other[0].device_id = DeviceId::from_uuid(uuid::Uuid::now_v7());
        let last = other.last().unwrap().hash.clone();
        let request = PushRequest {
            device_id: s.device,
            signature: STANDARD.encode(s.key.sign(&push_signing_bytes(s.device, &last)).to_bytes()),
            records: other,
        };
        let pusher = s.pusher.clone();
        let refused = s.db.call_blocking(|conn| push(conn, &pusher, &request));
        assert!(matches!(refused, Err(PushError::Refused(_))));
        let stored: i64 =
            s.db.call_blocking(|conn| -> Result<i64, DbError> {
                Ok(conn.query_row("SELECT COUNT(*) FROM sync_records", [], |r| r.get(0))?)
            })
            .unwrap();
        assert_eq!(
            stored, 2,
            "only the first batch's opening and quarantined refund"
        );
    }

    /// `n` online sales of one loaf each by the cashier, chained after `after`.
    fn sales(s: &Setup, after: (u64, String), n: u64) -> Vec<JournalRecord> {
        let (mut seq, mut prev) = after;
        let product = uuid::Uuid::from_u128(7);
        (0..n)
            .map(|_| {
                seq += 1;
                let payload = json!({
                    "sale_id": uuid::Uuid::now_v7(), "receipt_no": format!("R-{seq:08}"),
                    "till_session_id": uuid::Uuid::from_u128(1), "currency": "USD",
                    "lines": [{
                        "line_no": 1, "product_id": product, "sku": "BREAD", "name": "Bread",
                        "unit": "each", "quantity": 1000, "unit_price_minor": 125,
                        "list_price_minor": 125, "line_discount_minor": 0,
                        "cart_discount_minor": 0, "total_minor": 125,
                        "tax": {"code": "standard", "rate_bp": 1500}, "vat_minor": 16,
                    }],
                    "subtotal_minor": 125, "discount_minor": 0, "total_minor": 125, "vat": [],
                    "payments": [{"method": "cash", "currency": "USD", "amount_minor": 200,
                                  "rate": "1", "rate_base": "USD", "value_minor": 200}],
                    "change_minor": 75, "change_currency": "USD", "change_rate": "1",
                    "change_rate_base": "USD",
                });
                let mut record = JournalRecord {
                    id: uuid::Uuid::now_v7(),
                    kind: RecordKind::Sale,
                    org_id: s.pusher.tenant.org(),
                    creator_id: s.cashier,
                    device_id: s.device,
                    seq,
                    created_at: "2026-11-27T10:00:00.000Z".into(),
                    grant_jti: None,
                    prev_hash: prev.clone(),
                    hash: String::new(),
                    payload: payload.to_string(),
                };
                record.hash = record.expected_hash();
                prev = record.hash.clone();
                record
            })
            .collect()
    }

    #[test]
    fn sales_are_applied_with_their_stock_and_a_level_below_zero_is_flagged() {
        let s = setup();
        let records = sales(&s, (0, GENESIS_HASH.to_owned()), 3);
        let answer = send(&s, records);
        assert!(
            answer.iter().all(|a| a.0 == Outcome::Accepted),
            "{answer:?}"
        );
        let (level, flagged, sold): (i64, i64, i64) =
            s.db.call_blocking(|conn| -> Result<_, DbError> {
                Ok(conn.query_row(
                    "SELECT (SELECT on_hand_milli FROM stock_levels),
                            (SELECT COUNT(*) FROM sync_exceptions WHERE kind = 'negative_stock'),
                            (SELECT SUM(total_minor) FROM sales)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?)
            })
            .unwrap();
        assert_eq!((level, flagged, sold), (-3000, 3, 375));
    }

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
    fn a_refund_a_manager_approved_needs_the_approvers_permission_not_the_cashiers() {
        let s = setup();
        let mut records = sales(&s, (0, GENESIS_HASH.to_owned()), 3);
        let refund = |record: &mut JournalRecord, approver: UserId| {
            record.kind = RecordKind::Refund;
            let mut payload: serde_json::Value = serde_json::from_str(&record.payload).unwrap();
            payload["refund_of"] = json!(uuid::Uuid::now_v7());
            payload["approver_id"] = json!(approver);
            payload["total_minor"] = json!(-125);
            record.payload = payload.to_string();
        };
        refund(&mut records[1], s.manager);
        refund(&mut records[2], s.cashier);
        let mut prev = GENESIS_HASH.to_owned();
        for record in &mut records {
            record.prev_hash = prev;
            record.hash = record.expected_hash();
            prev = record.hash.clone();
        }
        let answer = send(&s, records);
        assert_eq!(answer[0].0, Outcome::Accepted);
        assert_eq!(answer[1].0, Outcome::Accepted, "{answer:?}");
        assert_eq!(answer[2].0, Outcome::Quarantined);
        assert_eq!(
            answer[2].1.as_deref(),
            Some("the approver does not hold pos:sales:refund")
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
        ] {
            assert!(doc.paths.paths.contains_key(path), "{path}");
        }
    }
}
