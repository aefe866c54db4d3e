//! The records sync quarantined, as a manager sees and settles them: listed with their
//! reason, then released (applied as if accepted) or voided (kept, never applied). Either is
//! one transaction with its audit entry; a record already settled cannot be settled again.
//! Another organisation's record answers exactly like a missing one.
//!
//! A release is four-eyes: it is made by someone other than the record's creator and than
//! the person whose token handed it in, so nobody can let their own record into the books.
//! It re-runs every check that can be run again on what the server holds
//! (`super::push::rejudge`) and says what still fails, in its answer and its audit entry:
//! the manager overrides knowingly, never blindly.

use crate::store::Connection;
use rusqlite::{OptionalExtension, TransactionBehavior};
use serde::Serialize;
use serde_json::json;
use tillpoint_protocol::journal::{JournalRecord, RecordKind};
use uuid::Uuid;

use super::push::{apply, parse_payload, refused_by_the_books, rejudge, BatchBooks};
use crate::identity::admin::{AdminError, Administrator};
use crate::identity::audit::AuditEvent;
use crate::identity::time_text;
use crate::tenancy::Tenant;

/// A stored record held for a manager (or settled by one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QuarantinedRecord {
    /// The server's id for this copy (what release and void take).
    pub id: Uuid,
    /// The till's id of the record.
    pub record_id: Uuid,
    pub kind: String,
    pub device_id: String,
    pub creator_id: String,
    pub seq: i64,
    pub created_at: String,
    pub grant_jti: Option<String>,
    pub received_at: String,
    /// `quarantined`, `released` or `voided`.
    pub status: String,
    pub reason: Option<String>,
    /// The record's payload as the till sent it (JSON text).
    pub payload: String,
    /// The user whose token handed it in (unknown for records stored before the server kept
    /// it): they may not release it.
    pub pushed_by: Option<String>,
    /// `push` or `import`.
    pub pushed_via: Option<String>,
}

const COLUMNS: &str = "id, record_id, kind, device_id, creator_id, seq, created_at, grant_jti,
                       received_at, status, reason, payload, pushed_by, pushed_via";

fn read(row: &crate::store::Row<'_, '_>) -> rusqlite::Result<QuarantinedRecord> {
    let uuid = |i: usize| -> rusqlite::Result<Uuid> {
        let text: String = row.get(i)?;
        text.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    Ok(QuarantinedRecord {
        id: uuid(0)?,
        record_id: uuid(1)?,
        kind: row.get(2)?,
        device_id: row.get(3)?,
        creator_id: row.get(4)?,
        seq: row.get(5)?,
        created_at: row.get(6)?,
        grant_jti: row.get(7)?,
        received_at: row.get(8)?,
        status: row.get(9)?,
        reason: row.get(10)?,
        payload: row.get(11)?,
        pushed_by: row.get(12)?,
        pushed_via: row.get(13)?,
    })
}

/// The records of the tenant's organisation under review, oldest first.
pub fn list(conn: &Connection, tenant: &Tenant) -> rusqlite::Result<Vec<QuarantinedRecord>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM sync_records WHERE org_id = ?1 AND status = 'quarantined'
          ORDER BY received_at, device_id, seq"
    ))?;

    stmt.query_map([tenant.org().to_string()], read)?.collect()
}

fn find(conn: &Connection, tenant: &Tenant, id: Uuid) -> Result<QuarantinedRecord, AdminError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM sync_records WHERE org_id = ?1 AND id = ?2"),
        (tenant.org().to_string(), id.to_string()),
        read,
    )
    .optional()?
    .ok_or(AdminError::NotFound("quarantined record"))
}

/// A settled record, and for a release what the re-run checks still found (empty when all
/// pass now, or for a void).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SettledRecord {
    #[serde(flatten)]
    pub record: QuarantinedRecord,
    pub still_failing: Vec<String>,
}

/// What a manager decides about a quarantined record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Apply it as if it had been accepted.
    Release,
    /// Keep it, never apply it.
    Void,
}

/// Settles a quarantined record of the administrator's organisation.
pub fn settle(
    conn: &mut Connection,
    admin: &Administrator,
    id: Uuid,
    decision: Decision,
) -> Result<SettledRecord, AdminError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let tenant = admin.tenant();
    let held = find(&tx, tenant, id)?;
    if held.status != "quarantined" {
        return Err(AdminError::Conflict(format!(
            "this record was already {}",
            held.status
        )));
    }
    // Four eyes for both decisions: a release counts a record, and a void keeps one out of
    // the books for good — neither is for the person who made it or handed it in (a manager
    // voiding their own quarantined sale would take its cash out of the books).
    let (record, content_hash, pushed_by) = journal_record(&tx, tenant, id)?;
    let actor = tenant.actor();
    if record.creator_id == actor {
        return Err(AdminError::NeedsAnotherPerson(match decision {
            Decision::Release => "you made this record: someone else must release it",
            Decision::Void => "you made this record: someone else must void it",
        }));
    }
    if pushed_by.as_deref() == Some(actor.to_string().as_str()) {
        return Err(AdminError::NeedsAnotherPerson(match decision {
            Decision::Release => "you handed this record in: someone else must release it",
            Decision::Void => "you handed this record in: someone else must void it",
        }));
    }
    let mut still_failing = Vec::new();
    let (status, event) = match decision {
        Decision::Release => {
            still_failing = rejudge(&tx, tenant.org(), &record, &content_hash)?;
            let payload =
                parse_payload(record.kind, &record.payload).map_err(AdminError::Invalid)?;
            if let super::push::Payload::Sale(sale) = &payload {
                let exists: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM sales WHERE org_id = ?1 AND id = ?2)
                         OR EXISTS (SELECT 1 FROM sales WHERE org_id = ?1 AND receipt_no = ?3)",
                    (
                        tenant.org().to_string(),
                        sale.sale_id.to_string(),
                        &sale.receipt_no,
                    ),
                    |r| r.get(0),
                )?;
                if exists {
                    return Err(AdminError::Conflict(
                        "a sale with this id or receipt number is already recorded; void this copy instead".into(),
                    ));
                }
            }
            // What the books refuse (a clash with a row held, a value out of range) is the
            // record's, not the database's: retrying would never help, so it is a conflict
            // to void, not a 503 (the transaction is dropped: nothing of it stays applied).
            // Written at once, not held: a refusal must be this record's, seen here.
            tx.set_holding(false);
            let mut books = BatchBooks::read(&tx, tenant.org(), &[&record])?;
            apply(
                &tx,
                &mut books,
                tenant.org(),
                &id.to_string(),
                &record,
                &payload,
                admin.now(),
            )
            .and_then(|()| books.write(&tx, admin.now()))
            .map_err(|err| {
                if refused_by_the_books(&err) {
                    tracing::warn!(record = %id, error = %err, "a released record cannot be applied");
                    AdminError::Conflict(
                        "it cannot be applied to the server's books: a value in it is out of range or clashes with one held; void this copy instead".into(),
                    )
                } else {
                    err.into()
                }
            })?;
            ("released", AuditEvent::QuarantineReleased)
        }
        Decision::Void => ("voided", AuditEvent::QuarantineVoided),
    };
    tx.execute(
        "UPDATE sync_records SET status = ?1, resolved_at = ?2, resolved_by = ?3
          WHERE org_id = ?4 AND id = ?5",
        (
            status,
            time_text(admin.now()),
            tenant.actor().to_string(),
            tenant.org().to_string(),
            id.to_string(),
        ),
    )?;
    let device = held.device_id.parse().ok();
    let mut detail = json!({"record": held.record_id, "seq": held.seq, "kind": held.kind, "reason": held.reason});
    if decision == Decision::Release {
        detail["still_failing"] = json!(still_failing);
    }
    admin.audit(&tx, event, device, detail)?;
    let record = find(&tx, tenant, id)?;
    tx.commit()?;
    Ok(SettledRecord {
        record,
        still_failing,
    })
}

/// The stored copy `id` as the record the till sent, with the hash its contents compute to
/// and who handed it in (unknown for records stored before the server kept it).
fn journal_record(
    conn: &Connection,
    tenant: &Tenant,
    id: Uuid,
) -> Result<(JournalRecord, String, Option<String>), AdminError> {
    let bad = || AdminError::Invalid("the stored record cannot be read".into());
    let row = conn.query_row(
        "SELECT record_id, kind, org_id, creator_id, device_id, seq, created_at, grant_jti,
                prev_hash, hash, payload, content_hash, pushed_by
           FROM sync_records WHERE org_id = ?1 AND id = ?2",
        (tenant.org().to_string(), id.to_string()),
        |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                ),
                (
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, String>(10)?,
                ),
                (r.get::<_, String>(11)?, r.get::<_, Option<String>>(12)?),
            ))
        },
    )?;
    let (
        (record_id, kind, org, creator, device, seq),
        (created_at, grant_jti, prev, hash, payload),
        (content_hash, pushed_by),
    ) = row;
    let record = JournalRecord {
        id: record_id.parse().map_err(|_| bad())?,
        kind: RecordKind::parse(&kind).ok_or_else(bad)?,
        org_id: org.parse().map_err(|_| bad())?,
        creator_id: creator.parse().map_err(|_| bad())?,
        device_id: device.parse().map_err(|_| bad())?,
        seq: seq as u64,
        created_at,
        grant_jti,
        prev_hash: prev,
        hash,
        payload,
    };
    Ok((record, content_hash, pushed_by))
}
