//! Importing the records of a till that died with sales on it (issue 7, docs/decisions/
//! sync-push.md "Import").
//!
//! A manager exports the till's unsynced records to a file (`Till::export_pending`: a
//! `PushRequest` holding one unbroken stretch of its chain, signed with the device's key over
//! the last record's hash), carries it to any machine and hands it to the server. The file
//! goes through exactly the push ingest ([`super::push::ingest`]): the token's organisation
//! must be every record's, the device the organisation's, the signature its bound key's;
//! each record is judged on its chain, creator and grant, and answered `accepted`,
//! `duplicate`, `quarantined` or `rejected`. What a push already delivered comes back
//! `duplicate`, importing a file twice changes nothing, and the till pushing later (if it
//! comes back) gets `duplicate` for everything the file carried.
//!
//! Two differences from a push: the person importing is a manager (`sync:quarantine:manage`),
//! signed in anywhere — the device's signature, not the session, proves where the records
//! came from; and a **revoked** device's file is taken (a dead till is often revoked once it
//! is written off), its records made before the revocation judged as usual and those made at
//! or after it quarantined. Every import is audited as `records_imported`, naming the manager
//! and the device, in the ingest's transaction.

use crate::store::{Connection, Transaction};
use chrono::{DateTime, Utc};
use serde_json::json;
use tillpoint_protocol::sync::{Outcome, PushRequest, PushResponse};

use super::push::{ingest, Channel, PushError, Pusher};
use crate::identity::audit::{self, AuditContext, AuditEvent};
use crate::identity::time_text;

/// The most records one imported file may hold. An export covers everything from a till's
/// oldest unsynced record on, so it is not bounded by a push batch; the whole file is judged
/// in one transaction.
pub const MAX_IMPORT_RECORDS: usize = 20_000;

/// Judges and stores the records of an exported file as the push ingest does, and audits the
/// import. `importer` is the manager (their organisation, address and the server's time).
pub fn import(
    conn: &mut Connection,
    importer: &Pusher,
    request: &PushRequest,
) -> Result<PushResponse, PushError> {
    if request.records.len() > MAX_IMPORT_RECORDS {
        return Err(PushError::TooLarge {
            max: MAX_IMPORT_RECORDS,
        });
    }
    ingest(
        conn,
        importer,
        request,
        Channel::Import,
        |tx, response, revoked_at| audit_import(tx, importer, request, response, revoked_at),
    )
}

fn audit_import(
    tx: &Transaction<'_>,
    importer: &Pusher,
    request: &PushRequest,
    response: &PushResponse,
    revoked_at: Option<DateTime<Utc>>,
) -> rusqlite::Result<()> {
    let count = |outcome: Outcome| {
        response
            .results
            .iter()
            .filter(|r| r.outcome == outcome)
            .count()
    };
    let context = AuditContext {
        org: Some(importer.tenant.org()),
        actor: Some(importer.tenant.actor()),
        device: Some(request.device_id),
        client_ip: importer.client_ip.clone(),
    };
    let detail = json!({
        "device": request.device_id,
        "records": request.records.len(),
        "first_seq": request.records.first().map(|r| r.seq),
        "last_seq": request.records.last().map(|r| r.seq),
        "accepted": count(Outcome::Accepted),
        "duplicate": count(Outcome::Duplicate),
        "quarantined": count(Outcome::Quarantined),
        "rejected": count(Outcome::Rejected),
        "device_revoked_at": revoked_at.map(time_text),
    });
    audit::record(
        tx,
        &context,
        AuditEvent::RecordsImported,
        detail,
        importer.now,
    )
}
