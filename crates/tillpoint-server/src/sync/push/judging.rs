//! Judging: what the server answers for each record of a batch, decided before anything of
//! the record is written.
//!
//! The invariant: **judging writes nothing.** It reads a batch that passed the batch checks
//! (`super::batch`: intact, signed by its device), the server's copy of the
//! device's chain, the organisation's users and offline grants, and what earlier records
//! made of the books (records held, sales applied, what each grant has been used for), and
//! returns a [`Verdict`]: `duplicate`, a conflicting copy, `rejected`, `quarantined` with
//! the first reason that failed (chain, time along the chain, revocation, receipt number,
//! creator, grant, limits, time),
//! or `accepted`. The ingest ([`super::ingest`]) stores the record and, when it is accepted,
//! has it applied before the next record is judged — so a grant's running total, a receipt
//! number already taken, or a copy already held are seen by every record after the one that
//! made them.
//!
//! The only state judging keeps is in memory: the chain's end as the batch moves it, which
//! the ingest saves after the last record, and the users, sign-ins and grants it has looked
//! up. A quarantine release re-runs what can be re-run of it on a stored record ([`rejudge`]).

use std::collections::HashMap;

use crate::store::Connection;
use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use tillpoint_protocol::auth::OfflineGrantClaims;
use tillpoint_protocol::journal::{JournalRecord, RecordKind, GENESIS_HASH};
use tillpoint_protocol::permission::{any_covers, Operation};
use tillpoint_protocol::receipt_number::{is_devices_receipt_number, receipt_prefix};
use tillpoint_protocol::sale_checks;
use tillpoint_protocol::sales::SalePayload;
use tillpoint_protocol::{DeviceId, OrgId, Permission, UserId};

use super::books::BatchBooks;
use super::signed_in::SignIns;
use super::{parse_payload, refundable, Payload};
use crate::identity::{devices, time_text, users};

/// How far a record's time may lie outside its grant's `nbf`..`exp` (or after its
/// revocation) and still count as inside, for a device whose clock offset is unknown (no
/// sign-in of it sent the till's time). The till's offline clock never runs backwards
/// (ARCHITECTURE.md §3), so this only absorbs ordinary drift between two clocks.
pub const CLOCK_TOLERANCE_SECS: i64 = 300;

/// The same for a device whose clock offset was measured at sign-in: the record's time is
/// corrected by that offset, and this only absorbs drift since the measurement.
pub const MEASURED_CLOCK_TOLERANCE_SECS: i64 = 60;

/// The reason a second copy under a held record id is quarantined with.
pub(super) const CONFLICTING_COPY: &str =
    "conflicting copy: the server holds another record with this id";

/// What the server answers for one record.
pub(super) enum Verdict {
    /// The same copy was received before; the reason it was answered with, if any.
    Duplicate(Option<String>),
    /// Another copy under an id the server holds: a security event, kept apart as its own
    /// record, quarantined with [`CONFLICTING_COPY`], never an overwrite.
    ConflictingCopy,
    /// Unreadable: neither stored nor allowed to move the chain.
    Rejected(String),
    /// Kept as sent, never applied until a manager releases it.
    Quarantined(String),
    /// Every check passed: kept and applied.
    Accepted(Payload),
}

/// How far a record's `created_at` may lie before the record it follows in its device's chain:
/// a till's clock may be stepped back a little (NTP), never by more (its offline time never
/// runs backwards, ARCHITECTURE.md §3).
pub const CHAIN_TIME_TOLERANCE_SECS: i64 = 300;

/// The last record of the server's copy of a device's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) seq: u64,
    pub(crate) hash: String,
    /// When that record was made (unknown for a chain saved before the server kept it).
    pub(crate) created_at: Option<DateTime<Utc>>,
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
pub(super) struct Judge<'a> {
    conn: &'a Connection<'a>,
    org: OrgId,
    device: DeviceId,
    /// When the device was revoked, for an import of its records (a push of a revoked
    /// device's batch is refused before judging).
    revoked_at: Option<DateTime<Utc>>,
    /// The device's clock offset measured at sign-in (server − device, seconds), if known.
    clock_offset: Option<i64>,
    /// The last record of the server's copy of this device's chain.
    head: Head,
    head_moved: bool,
    users: HashMap<UserId, UserPermissions>,
    /// When each user looked up was disabled, if they are.
    disabled: HashMap<UserId, Option<DateTime<Utc>>>,
    /// Each creator's sign-ins on this device, for the records made online.
    sign_ins: HashMap<UserId, SignIns>,
    grants: HashMap<String, Option<Grant>>,
    /// What the batch's records meet in the books, kept up to date as they are stored and
    /// applied.
    pub(super) books: BatchBooks,
}

impl<'a> Judge<'a> {
    /// The judge of `records`, a batch from `device`.
    pub(super) fn new(
        conn: &'a Connection,
        org: OrgId,
        device: DeviceId,
        revoked_at: Option<DateTime<Utc>>,
        records: &[&JournalRecord],
    ) -> rusqlite::Result<Self> {
        let head = read_head(conn, org, device)?;
        let books = BatchBooks::read(conn, org, records)?;
        let clock_offset = devices::clock_offset(conn, org, device)?;
        Ok(Self {
            conn,
            org,
            device,
            revoked_at,
            clock_offset,
            head,
            head_moved: false,
            users: HashMap::new(),
            disabled: HashMap::new(),
            sign_ins: HashMap::new(),
            grants: HashMap::new(),
            books,
        })
    }

    /// The chain's new end when the records judged so far moved it.
    pub(super) fn moved_head(&self) -> Option<&Head> {
        self.head_moved.then_some(&self.head)
    }

    /// The answer for `record`, whose contents hash to `content_hash`.
    pub(super) fn record(
        &mut self,
        record: &JournalRecord,
        content_hash: &str,
    ) -> rusqlite::Result<Verdict> {
        // Seen before: the same copy is a duplicate; another copy under the same id is a
        // security event, kept apart and never an overwrite. Copies are compared by what
        // their contents hash to, not by the hash they claim: an edited record keeps its
        // claimed hash, and the genuine one arriving later must not pass as its duplicate.
        let held = self.books.copies_of(&record.id.to_string());
        if let Some((_, status, reason)) = held.iter().find(|(hash, _, _)| hash == content_hash) {
            let reason = match status.as_str() {
                "quarantined" => reason.clone(),
                "voided" => Some(format!(
                    "voided by a manager: {}",
                    reason.as_deref().unwrap_or("")
                )),
                _ => None,
            };
            return Ok(Verdict::Duplicate(reason));
        }
        if !held.is_empty() {
            return Ok(Verdict::ConflictingCopy);
        }

        // Unreadable: not stored, and the chain does not move past it.
        let created_at = match DateTime::parse_from_rfc3339(&record.created_at) {
            Ok(t) => t.with_timezone(&Utc),
            Err(_) => {
                let reason = "created_at is not an RFC 3339 time".to_owned();
                return Ok(Verdict::Rejected(reason));
            }
        };
        let payload = self
            .books
            .take_payload(record)
            .unwrap_or_else(|| parse_payload(record.kind, &record.payload));
        let payload = match payload {
            Ok(payload) => payload,
            Err(reason) => return Ok(Verdict::Rejected(reason)),
        };

        let reason = if let Some(reason) = self.chain(record, created_at) {
            Some(reason)
        } else if let Some(at) = self.revoked_at.filter(|at| created_at >= *at) {
            Some(format!(
                "made after this device was revoked ({})",
                time_text(at)
            ))
        } else if let Some(reason) = foreign_receipt_number(record, &payload) {
            Some(reason)
        } else {
            self.checks(record, created_at, &payload)?
        };
        Ok(match reason {
            Some(reason) => Verdict::Quarantined(reason),
            None => Verdict::Accepted(payload),
        })
    }

    /// Whether `record`, made at `created_at`, continues the chain; moves the head to it when
    /// it lies ahead of it. The batch it came in is intact and signed ([`VerifiedBatch`]), so
    /// only a batch's first new record can fail to link, and the head only ever moves to a
    /// record the device signed.
    fn chain(&mut self, record: &JournalRecord, created_at: DateTime<Utc>) -> Option<String> {
        let Head {
            seq: last_seq,
            hash: last_hash,
            created_at: last_at,
        } = &self.head;
        let reason = if record.seq <= *last_seq {
            // Behind the head: the server holds (or skipped past) a record with this seq.
            return Some(format!(
                "fork: the server already holds this device's chain up to record {last_seq}, and record {} is another one",
                record.seq
            ));
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
            let tolerance = chrono::Duration::seconds(CHAIN_TIME_TOLERANCE_SECS);
            last_at
                .filter(|last| created_at + tolerance < *last)
                .map(|last| {
                    format!(
                    "time runs backwards: made at {}, before record {last_seq} of this device ({})",
                    time_text(created_at),
                    time_text(last)
                )
                })
        };
        // The chain continues from this record, so the next record is judged against it: one
        // break is reported once.
        self.head = Head {
            seq: record.seq,
            hash: record.hash.clone(),
            created_at: Some(created_at),
        };
        self.head_moved = true;
        reason
    }

    /// The checks of who made the record, under what authority, and what it says. `None`
    /// when all pass. In order: the creator is a person of the organisation, not disabled
    /// at the record's time; an approver named on a refund approved it on this device under
    /// a grant that covered it; the creator was signed in on this device (made online) or
    /// held a grant covering the record (made offline), within its limits; the payload adds
    /// up (`tillpoint_protocol::sale_checks`); it takes no sale id or receipt number
    /// already held; a refund takes back no more than remains of the sale it names.
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
        let (at, tolerance) = self.server_time(created_at);
        if let Some(reason) =
            self.disabled_before(record.creator_id, "its creator", at, tolerance)?
        {
            return Ok(Some(reason));
        }
        let sale = match payload {
            Payload::Sale(sale) => Some(sale.as_ref()),
            Payload::Session => None,
        };
        // A refund a manager approved on the till needs the approver's refund permission;
        // its creator, who made it, still needs to be someone who sells on this till.
        let approver = sale
            .filter(|_| record.kind == RecordKind::Refund)
            .and_then(|s| s.approver_id.map(|a| (a, s.approver_grant_jti.as_deref())));
        let required = match record.kind {
            RecordKind::Refund if approver.is_some() => Operation::Sell.required_permission(),
            kind => kind.operation().required_permission(),
        };
        if let Some((approver, grant)) = approver {
            if let Some(reason) = self.approval_checks(record, approver, grant, at, tolerance)? {
                return Ok(Some(reason));
            }
        }
        let authority = match &record.grant_jti {
            None => self.online_checks(record, &creator_perms, &required, at, tolerance)?,
            Some(jti) => self.grant_checks(record, jti, at, tolerance, &required, sale)?,
        };
        if authority.is_some() {
            return Ok(authority);
        }
        let Some(sale) = sale else { return Ok(None) };
        if let Err(problem) = sale_checks::check(record.kind, sale) {
            return Ok(Some(format!(
                "the {} does not add up: {problem}",
                record.kind.as_str()
            )));
        }
        if let Some(reason) = self.sale_clashes(record, sale)? {
            return Ok(Some(reason));
        }
        if record.kind == RecordKind::Refund {
            return refundable::check(self.conn, self.org, sale);
        }
        Ok(None)
    }

    /// The record's time on the server's clock when the device's offset is known, with a
    /// small allowance for drift since it was measured; otherwise the till's time as it
    /// claims it, with the wider allowance.
    fn server_time(&self, created_at: DateTime<Utc>) -> (DateTime<Utc>, chrono::Duration) {
        match self.clock_offset {
            Some(offset) => (
                created_at
                    .checked_add_signed(chrono::Duration::seconds(offset))
                    .unwrap_or(created_at),
                chrono::Duration::seconds(MEASURED_CLOCK_TOLERANCE_SECS),
            ),
            None => (created_at, chrono::Duration::seconds(CLOCK_TOLERANCE_SECS)),
        }
    }

    /// Why `user` (`who`: its creator, its approver) could not have acted at `at`: they were
    /// disabled before it.
    fn disabled_before(
        &mut self,
        user: UserId,
        who: &str,
        at: DateTime<Utc>,
        tolerance: chrono::Duration,
    ) -> rusqlite::Result<Option<String>> {
        if !self.disabled.contains_key(&user) {
            let since = users::disabled_since(self.conn, self.org, user)?;
            self.disabled.insert(user, since);
        }
        Ok(self.disabled[&user]
            .filter(|disabled| at - tolerance > *disabled)
            .map(|disabled| format!("made after {who} was disabled ({})", time_text(disabled))))
    }

    /// A record made online: its creator was signed in on this device at its time, and
    /// holds what it needs now.
    fn online_checks(
        &mut self,
        record: &JournalRecord,
        creator_perms: &[Permission],
        required: &Permission,
        at: DateTime<Utc>,
        tolerance: chrono::Duration,
    ) -> rusqlite::Result<Option<String>> {
        let creator = record.creator_id;
        if !self.sign_ins.contains_key(&creator) {
            let found = SignIns::of(self.conn, self.org, creator, self.device)?;
            self.sign_ins.insert(creator, found);
        }
        if !self.sign_ins[&creator].cover(at, tolerance) {
            return Ok(Some(
                "made online, but its creator was not signed in on this device at its time".into(),
            ));
        }
        Ok((!any_covers(creator_perms, required))
            .then(|| format!("the creator does not hold {}", required.as_str())))
    }

    /// A refund's approver: a person of the organisation, not disabled, who approved on this
    /// device under their grant (`approver_grant_jti`, checked on the till and hashed into
    /// the record) covering refunds and in force at the record's time.
    fn approval_checks(
        &mut self,
        record: &JournalRecord,
        approver: UserId,
        grant: Option<&str>,
        at: DateTime<Utc>,
        tolerance: chrono::Duration,
    ) -> rusqlite::Result<Option<String>> {
        let refund = Operation::Refund.required_permission();
        match self.user(approver)? {
            None => {
                return Ok(Some(
                    "the approver is not a user of this organisation".into(),
                ))
            }
            Some(held) if !any_covers(held, &refund) => {
                return Ok(Some(format!("the approver does not hold {refund}")))
            }
            Some(_) => {}
        }
        if approver == record.creator_id {
            return Ok(Some("the refund's approver is its own creator".into()));
        }
        if let Some(reason) = self.disabled_before(approver, "its approver", at, tolerance)? {
            return Ok(Some(reason));
        }
        let Some(jti) = grant else {
            return Ok(Some(
                "the approver's grant is not named: an approval is checked against the approver's grant on the till".into(),
            ));
        };
        Ok(self
            .grant_in_force(jti, approver, at, tolerance, &refund)?
            .map(|reason| format!("the approver's approval: {reason}")))
    }

    /// Why grant `jti` did not let `user` do what needs `required` on this device at `at`.
    fn grant_in_force(
        &mut self,
        jti: &str,
        user: UserId,
        at: DateTime<Utc>,
        tolerance: chrono::Duration,
        required: &Permission,
    ) -> rusqlite::Result<Option<String>> {
        let device = self.device;
        let Some(grant) = self.grant(jti)? else {
            return Ok(Some(format!(
                "unknown grant: no offline grant {jti} was issued in this organisation"
            )));
        };
        if grant.user != user {
            return Ok(Some("the grant was issued to another user".into()));
        }
        if grant.device != device {
            return Ok(Some("the grant was issued for another device".into()));
        }
        if !any_covers(&grant.claims.perms, required) {
            return Ok(Some(format!(
                "the grant does not cover {}",
                required.as_str()
            )));
        }
        let time =
            |secs: i64| DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
        if at + tolerance < time(grant.claims.nbf) {
            return Ok(Some("made before the grant was valid".into()));
        }
        if at - tolerance > time(grant.claims.exp) {
            return Ok(Some(format!(
                "made after the grant expired ({})",
                time_text(time(grant.claims.exp))
            )));
        }
        if let Some(revoked) = grant.revoked_at {
            if at - tolerance > revoked {
                return Ok(Some(format!(
                    "made after the grant was revoked ({})",
                    time_text(revoked)
                )));
            }
        }
        Ok(None)
    }

    /// A record made offline: its creator's grant was in force and covered it, and a sale
    /// keeps within the grant's limits.
    fn grant_checks(
        &mut self,
        record: &JournalRecord,
        jti: &str,
        at: DateTime<Utc>,
        tolerance: chrono::Duration,
        required: &Permission,
        sale: Option<&SalePayload>,
    ) -> rusqlite::Result<Option<String>> {
        if let Some(reason) =
            self.grant_in_force(jti, record.creator_id, at, tolerance, required)?
        {
            return Ok(Some(reason));
        }
        let conn = self.conn;
        let Some(sale) = sale else { return Ok(None) };
        let Some(Some(grant)) = self.grants.get(jti) else {
            return Ok(None);
        };
        let currency = sale.currency;
        let Some(limits) = grant.claims.limits.get(&currency).copied() else {
            return Ok(Some(format!(
                "the grant allows no offline sales in {currency}"
            )));
        };
        // Amounts are in range (`tillpoint_protocol::bounds`), but the sums are checked all
        // the same: nothing a till sends may overflow the server's arithmetic.
        let amount = sale.total_minor.unsigned_abs();
        if amount > limits.max_sale.max(0).unsigned_abs() {
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
        let used = self.books.grant_used(conn, jti, currency.as_str())?;
        if i128::from(used) + i128::from(amount) > i128::from(limits.max_offline_total) {
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
        let clash = self
            .books
            .sale_clash(&sale.sale_id.to_string(), &sale.receipt_no);
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
            let found = users::find_in_org(self.conn, self.org, id)?.map(|u| u.permissions);
            self.users.insert(id, found);
        }
        Ok(&self.users[&id])
    }

    fn grant(&mut self, jti: &str) -> rusqlite::Result<&Option<Grant>> {
        if !self.grants.contains_key(jti) {
            let found = self
                .conn
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
}

/// The checks a manager's release re-runs on a stored record, and what each still finds
/// (empty: all pass now). Everything judging can decide again from what the server holds: the
/// record's own hash, its link (and time) to the stored record before it, the device's
/// revocation, its receipt number, and who made it under what authority, judged as of now.
/// What cannot be re-run is where it stood against the chain's end when it arrived (the end
/// has moved since); the link to its stored predecessor stands in for it.
pub(crate) fn rejudge(
    conn: &Connection,
    org: OrgId,
    record: &JournalRecord,
    content_hash: &str,
) -> rusqlite::Result<Vec<String>> {
    let mut failing = Vec::new();
    if content_hash != record.hash {
        failing.push("edited: its hash does not match its contents".to_owned());
    }
    let Ok(created_at) = DateTime::parse_from_rfc3339(&record.created_at) else {
        failing.push("created_at is not an RFC 3339 time".to_owned());
        return Ok(failing);
    };
    let created_at = created_at.with_timezone(&Utc);
    if let Some(reason) = stored_link(conn, org, record, created_at)? {
        failing.push(reason);
    }
    let payload = match parse_payload(record.kind, &record.payload) {
        Ok(payload) => payload,
        Err(reason) => {
            failing.push(reason);
            return Ok(failing);
        }
    };
    let revoked_at = conn
        .query_row(
            "SELECT revoked_at FROM devices WHERE org_id = ?1 AND id = ?2",
            (org.to_string(), record.device_id.to_string()),
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten()
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc));
    if let Some(at) = revoked_at.filter(|at| created_at >= *at) {
        failing.push(format!(
            "made after this device was revoked ({})",
            time_text(at)
        ));
    }
    if let Some(reason) = foreign_receipt_number(record, &payload) {
        failing.push(reason);
    }
    let mut judge = Judge::new(conn, org, record.device_id, None, &[record])?;
    if let Some(reason) = judge.checks(record, created_at, &payload)? {
        failing.push(reason);
    }
    Ok(failing)
}

/// Whether `record` links to a record of its device the server holds (not voided), made no
/// later than it (within [`CHAIN_TIME_TOLERANCE_SECS`]).
fn stored_link(
    conn: &Connection,
    org: OrgId,
    record: &JournalRecord,
    created_at: DateTime<Utc>,
) -> rusqlite::Result<Option<String>> {
    if record.seq <= 1 {
        return Ok((record.prev_hash != GENESIS_HASH)
            .then(|| "broken chain: the device's first record does not start a chain".to_owned()));
    }
    let before = record.seq - 1;
    let linked: Option<String> = conn
        .query_row(
            "SELECT created_at FROM sync_records
              WHERE org_id = ?1 AND device_id = ?2 AND seq = ?3 AND hash = ?4
                AND content_hash = hash AND status <> 'voided'
              LIMIT 1",
            (
                org.to_string(),
                record.device_id.to_string(),
                before as i64,
                &record.prev_hash,
            ),
            |r| r.get(0),
        )
        .optional()?;
    let Some(linked_at) = linked else {
        return Ok(Some(format!(
            "broken chain: the server holds no record {before} of this device that it links to"
        )));
    };
    let tolerance = chrono::Duration::seconds(CHAIN_TIME_TOLERANCE_SECS);
    Ok(DateTime::parse_from_rfc3339(&linked_at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .filter(|before_at| created_at + tolerance < *before_at)
        .map(|before_at| {
            format!(
                "time runs backwards: made at {}, before record {before} of this device ({})",
                time_text(created_at),
                time_text(before_at)
            )
        }))
}

/// Where the server's copy of `device`'s chain ends (genesis for a device never heard from).
pub(crate) fn read_head(conn: &Connection, org: OrgId, device: DeviceId) -> rusqlite::Result<Head> {
    let head = conn
        .query_row(
            "SELECT last_seq, last_hash, last_created_at FROM device_chains
              WHERE org_id = ?1 AND device_id = ?2",
            (org.to_string(), device.to_string()),
            |r| {
                Ok(Head {
                    seq: r.get::<_, i64>(0)? as u64,
                    hash: r.get(1)?,
                    created_at: r
                        .get::<_, Option<String>>(2)?
                        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                        .map(|t| t.with_timezone(&Utc)),
                })
            },
        )
        .optional()?;
    Ok(head.unwrap_or(Head {
        seq: 0,
        hash: GENESIS_HASH.to_owned(),
        created_at: None,
    }))
}

/// Why a sale or refund's receipt number is not its device's, if it is not: a till numbers
/// its receipts under its own prefix, so a number without it was made elsewhere or by hand,
/// and could take a number another till will use.
pub(crate) fn foreign_receipt_number(record: &JournalRecord, payload: &Payload) -> Option<String> {
    let Payload::Sale(sale) = payload else {
        return None;
    };
    (!is_devices_receipt_number(record.device_id, &sale.receipt_no)).then(|| {
        format!(
            "receipt number {} is not one of this device's (they are {}-<number>)",
            sale.receipt_no,
            receipt_prefix(record.device_id)
        )
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tillpoint_protocol::journal::{JournalRecord, RecordKind, GENESIS_HASH};
    use tillpoint_protocol::sync::Outcome;
    use tillpoint_protocol::DeviceId;

    use super::super::fixtures::{
        edit_payload, grant, make_refund_of, openings, rechain, relink, sales, send, setup, signed,
    };
    use super::super::{push, PushError};
    use crate::store::DbError;

    #[test]
    fn a_gap_is_reported_once_and_the_chain_continues_from_the_record_after_it() {
        let s = setup();
        let records = openings(&s, 5);
        // Record 3 never arrives: the batch after the hole starts at 4. (A batch with the hole
        // inside it is refused whole: `super::super::batch`.)
        assert_eq!(
            send(&s, records[..2].to_vec())
                .iter()
                .map(|a| a.0)
                .collect::<Vec<_>>(),
            [Outcome::Accepted; 2]
        );
        let answer = send(&s, records[3..].to_vec());
        let outcomes: Vec<Outcome> = answer.iter().map(|a| a.0).collect();
        assert_eq!(outcomes, [Outcome::Quarantined, Outcome::Accepted]);
        assert!(answer[0].1.as_deref().unwrap().starts_with("gap: record 3"));
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
    fn a_record_made_before_the_one_it_follows_is_quarantined_once() {
        let s = setup();
        let mut records = openings(&s, 4);
        let at = |t: &str| format!("2026-11-27T{t}.000Z");
        records[0].created_at = at("10:00:00");
        // Stepped back by less than the tolerance: a clock's correction, not a lie.
        records[1].created_at = at("09:56:00");
        // Backdated by an hour: the record's own time runs backwards.
        records[2].created_at = at("08:56:00");
        // After the backdated one, from its time on: judged against its predecessor only.
        records[3].created_at = at("09:00:00");
        relink(&mut records, GENESIS_HASH);
        let answer = send(&s, records[..2].to_vec());
        assert!(
            answer.iter().all(|a| a.0 == Outcome::Accepted),
            "{answer:?}"
        );
        // The next batch is judged against the time of the chain's end, which the server kept.
        let answer = send(&s, records[2..].to_vec());
        assert_eq!(answer[0].0, Outcome::Quarantined, "{answer:?}");
        assert!(
            answer[0]
                .1
                .as_deref()
                .unwrap()
                .starts_with("time runs backwards: made at 2026-11-27T08:56:00"),
            "{answer:?}"
        );
        assert_eq!(answer[1].0, Outcome::Accepted, "{answer:?}");
    }

    #[test]
    fn a_sale_numbered_under_another_devices_prefix_is_quarantined() {
        let s = setup();
        let mut records = sales(&s, (0, GENESIS_HASH.to_owned()), 3);
        let edit = |record: &mut JournalRecord, receipt_no: &str| {
            let mut payload: serde_json::Value = serde_json::from_str(&record.payload).unwrap();
            payload["receipt_no"] = json!(receipt_no);
            record.payload = payload.to_string();
        };
        edit(&mut records[1], "0A1B2C3D-000002");
        edit(&mut records[2], "R-000003");
        relink(&mut records, GENESIS_HASH);
        let answer = send(&s, records);
        assert_eq!(answer[0].0, Outcome::Accepted, "{answer:?}");
        let prefix = tillpoint_protocol::receipt_number::receipt_prefix(s.device);
        for a in &answer[1..] {
            assert_eq!(a.0, Outcome::Quarantined, "{answer:?}");
            let reason = a.1.as_deref().unwrap();
            assert!(reason.contains("is not one of this device's"), "{reason}");
            assert!(reason.contains(&format!("{prefix}-<number>")), "{reason}");
        }
    }

    #[test]
    fn an_online_record_needs_the_permission_now_and_a_refused_batch_stores_nothing() {
        let s = setup();
        let mut records = openings(&s, 3);
        // A refund made online by a cashier, who does not hold pos:sales:refund.
        records[1].kind = RecordKind::Refund;
        records[1].payload = json!({
            "sale_id": uuid::Uuid::now_v7(),
            "receipt_no": format!("{}-000001", tillpoint_protocol::receipt_number::receipt_prefix(s.device)),
            "till_session_id": uuid::Uuid::now_v7(), "currency": "USD", "lines": [],
            "subtotal_minor": -100, "discount_minor": 0, "total_minor": -100, "vat": [],
            "payments": [], "change_minor": 0, "change_currency": "USD", "change_rate": "1",
            "change_rate_base": "USD", "refund_of": uuid::Uuid::now_v7(),
        })
        .to_string();
        // A till-session payload under a refund's kind cannot be read as a refund.
        records[2].kind = RecordKind::Refund;
        let first = records[0].hash.clone();
        relink(&mut records[1..], &first);
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
        let request = signed(&s, other);
        let pusher = s.pusher.clone();
        let refused = s.db.call_blocking(|conn| push(conn, &pusher, &request));
        assert!(matches!(refused, Err(PushError::Refused(_))));
        let stored: i64 =
            s.db.call_blocking(|conn| -> Result<i64, DbError> {
                Ok(conn.query_row("SELECT COUNT(*) FROM sync_records", (), |r| r.get(0))?)
            })
            .unwrap();
        assert_eq!(
            stored, 2,
            "only the first batch's opening and quarantined refund"
        );
    }

    #[test]
    fn a_refund_a_manager_approved_needs_the_approvers_permission_not_the_cashiers() {
        let s = setup();
        let manager_grant = grant(&s, s.manager, &["pos:*:*"]);
        let cashier_grant = grant(&s, s.cashier, &["pos:sales:create"]);
        let mut records = sales(&s, (0, GENESIS_HASH.to_owned()), 3);
        let sold = records[0].clone();
        for (index, approver, jti) in [
            (1, s.manager, &manager_grant),
            (2, s.cashier, &cashier_grant),
        ] {
            let record = &mut records[index];
            make_refund_of(record, &sold);
            edit_payload(record, |p| {
                p["approver_id"] = json!(approver);
                p["approver_grant_jti"] = json!(jti);
            });
        }
        rechain(&mut records, (0, GENESIS_HASH.to_owned()));
        let answer = send(&s, records);
        assert_eq!(answer[0].0, Outcome::Accepted);
        assert_eq!(answer[1].0, Outcome::Accepted, "{answer:?}");
        assert_eq!(answer[2].0, Outcome::Quarantined);
        assert_eq!(
            answer[2].1.as_deref(),
            Some("the approver does not hold pos:sales:refund")
        );
    }
}
