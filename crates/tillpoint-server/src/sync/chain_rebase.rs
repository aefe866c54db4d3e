//! Recovering a device whose chain on the server was damaged: an administrator, after review,
//! moves the end of the server's copy of the device's chain (`device_chains`) onto a record
//! of that device the server holds (docs/decisions/sync-push.md, "Recovering a damaged chain").
//!
//! Why it exists: the server judges every new record of a device against where its copy of
//! the chain ends. If that end is wrong — set by a forged record before batches had to be
//! intact (issue 17), or left behind a record the till lost for good — every genuine record
//! the till sends after it is quarantined (as a fork, or one gap after another), for ever. A
//! re-enrolment (revoking the device, the till starting over with a new id) fixes the future
//! but strands the till's unsynced records under the old id; a re-base fixes it in place.
//!
//! What keeps it safe: the new end must be a record of that device the server already holds
//! and whose hash is its own, so the chain can only be re-based onto something the device
//! sent, never onto an arbitrary hash or seq; it needs `admin:devices:manage` (or the
//! server's operator, at its command line: `tillpoint-server chain rebase`, for whom the data
//! folder is the permission, as for key rotation), a written note, and it is audited
//! (`device_chain_rebased`, from where to where, why, by whom) in the same transaction. It applies nothing: records quarantined meanwhile stay quarantined until
//! released one by one (four-eyes, re-judged: `super::quarantine`).

use crate::store::Connection;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tillpoint_protocol::{DeviceId, OrgId};
use uuid::Uuid;

use super::push::{read_head, save_chain, Head};
use crate::identity::admin::{AdminError, Administrator};
use crate::identity::audit::{self, AuditContext, AuditEvent};
use crate::identity::time_text;

/// The longest note a re-base keeps.
pub const MAX_NOTE_CHARS: usize = 500;

/// Where to re-base a device's chain, and why.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebaseChain {
    /// The server's id of a stored record of this device (as the quarantine list shows it):
    /// the chain will end at it, and the device's next record must follow it.
    pub record: Uuid,
    /// Why (what was reviewed), for the audit log: 1 to 500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub note: String,
}

/// Where the server's copy of a device's chain ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChainEnd {
    pub device_id: String,
    pub last_seq: i64,
    pub last_hash: String,
    pub last_created_at: Option<String>,
}

impl ChainEnd {
    fn of(device: DeviceId, head: &Head) -> Self {
        Self {
            device_id: device.to_string(),
            last_seq: head.seq as i64,
            last_hash: head.hash.clone(),
            last_created_at: head.created_at.map(time_text),
        }
    }
}

/// Who re-bases a chain.
#[derive(Debug, Clone, Copy)]
pub enum Rebaser<'a> {
    /// An administrator of the organisation, over the admin API.
    Administrator(&'a Administrator),
    /// The server's operator, at its command line, in organisation `org`.
    Operator { org: OrgId, now: DateTime<Utc> },
}

impl Rebaser<'_> {
    fn org(&self) -> OrgId {
        match self {
            Self::Administrator(admin) => admin.tenant().org(),
            Self::Operator { org, .. } => *org,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        match self {
            Self::Administrator(admin) => admin.now(),
            Self::Operator { now, .. } => *now,
        }
    }

    fn audit(
        &self,
        conn: &Connection,
        device: DeviceId,
        mut detail: serde_json::Value,
    ) -> rusqlite::Result<()> {
        let event = AuditEvent::DeviceChainRebased;
        match self {
            Self::Administrator(admin) => admin.audit(conn, event, Some(device), detail),
            Self::Operator { org, now } => {
                detail["via"] = json!("command line");
                let context = AuditContext {
                    org: Some(*org),
                    device: Some(device),
                    ..AuditContext::default()
                };
                audit::record(conn, &context, event, detail, *now)
            }
        }
    }
}

/// Moves the end of `device`'s chain onto the stored record `to.record` (see the module doc).
pub fn rebase(
    conn: &mut Connection,
    by: Rebaser<'_>,
    device: DeviceId,
    to: &RebaseChain,
) -> Result<ChainEnd, AdminError> {
    let note = to.note.trim();
    if note.is_empty() || note.chars().count() > MAX_NOTE_CHARS {
        return Err(AdminError::Invalid(format!(
            "say why in a note of 1 to {MAX_NOTE_CHARS} characters"
        )));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let org = by.org();
    let known: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM devices WHERE org_id = ?1 AND id = ?2)",
        (org.to_string(), device.to_string()),
        |r| r.get(0),
    )?;
    if !known {
        return Err(AdminError::NotFound("device"));
    }
    let target: Option<(i64, String, String, String)> = tx
        .query_row(
            "SELECT seq, hash, content_hash, created_at FROM sync_records
              WHERE org_id = ?1 AND device_id = ?2 AND id = ?3",
            (org.to_string(), device.to_string(), to.record.to_string()),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((seq, hash, content_hash, created_at)) = target else {
        return Err(AdminError::NotFound("record of this device"));
    };
    if content_hash != hash {
        return Err(AdminError::Conflict(
            "this record's hash is not its own (it was edited): a chain cannot end at it".into(),
        ));
    }
    let from = read_head(&tx, org, device)?;
    let head = Head {
        seq: seq as u64,
        hash,
        created_at: chrono::DateTime::parse_from_rfc3339(&created_at)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc)),
    };
    save_chain(&tx, org, device, &head, by.now())?;
    by.audit(
        &tx,
        device,
        json!({
            "device": device,
            "record": to.record,
            "from": {"seq": from.seq, "hash": from.hash},
            "to": {"seq": head.seq, "hash": head.hash},
            "note": note,
        }),
    )?;
    tx.commit()?;
    Ok(ChainEnd::of(device, &head))
}
