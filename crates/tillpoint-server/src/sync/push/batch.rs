//! The checks on a batch as a whole, before any of its records is judged: whose batch it is
//! (organisation, device, the device's standing and key) and whether the device's signature
//! vouches for every record in it.
//!
//! The invariant: **only a batch that is one intact stretch of its device's chain, signed by
//! that device over its organisation, device, seq range and last hash, reaches judging**
//! ([`VerifiedBatch`]). A signature covers one hash; the chain makes that hash cover the
//! records before it only when every record hashes to its own `hash` and links to the one
//! before. So a batch with an edited, re-hashed, reordered or missing record inside is refused
//! whole — nothing stored but the audit entry — instead of being judged record by record, and
//! a signed batch cannot be replayed as another organisation's, device's or stretch's.

use crate::store::Connection;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, VerifyingKey};
use rusqlite::OptionalExtension;
use tillpoint_protocol::journal::{verify_stretch, JournalRecord};
use tillpoint_protocol::sync::{push_signing_bytes_v1, PushRequest};
use tillpoint_protocol::{DeviceId, OrgId};

use super::Channel;
use crate::identity::devices;

/// A batch that passed [`check_batch`]: one intact stretch of the device's chain, signed by
/// the device's key over its organisation, device, seq range and last hash. Only such a batch
/// is judged, so every record judging sees (and every chain head it moves to) is one the device
/// signed.
pub(super) struct VerifiedBatch<'a> {
    pub(super) records: &'a [JournalRecord],
    /// When the device was revoked, when `channel` lets a revoked device's records in.
    pub(super) revoked_at: Option<DateTime<Utc>>,
}

/// The checks on the batch as a whole; the reason is sent to the till and written to the
/// audit log. A batch that fails any of them is refused whole: a signature over one hash
/// vouches for the records before it only through their chain, so a batch whose chain does not
/// hold together proves nothing about any of its records.
pub(super) fn check_batch<'a>(
    conn: &Connection,
    org: OrgId,
    request: &'a PushRequest,
    channel: Channel,
) -> Result<VerifiedBatch<'a>, String> {
    let refuse = |reason: &str| Err(reason.to_owned());
    if request.records.iter().any(|r| r.org_id != org) {
        return refuse("a record of this batch belongs to another organisation");
    }
    if request
        .records
        .iter()
        .any(|r| r.device_id != request.device_id)
    {
        return refuse("a record of this batch was made on another device");
    }
    // A till's journal never holds one id twice (`journal.id` is unique), so a batch that
    // does was not written by a till; judging it record by record would answer the copies
    // differently on a resend (one rejected, then the other stored as its conflict).
    let mut ids = std::collections::HashSet::with_capacity(request.records.len());
    if !request.records.iter().all(|r| ids.insert(r.id)) {
        return refuse(
            "the batch carries one record id twice, which no till writes; nothing was stored",
        );
    }
    let revoked_at = match device_revoked_at(conn, org, request.device_id) {
        Ok(Some(None)) => None,
        Ok(Some(Some(_))) if channel == Channel::Push => {
            return refuse("this device has been revoked")
        }
        Ok(Some(Some(at))) => Some(at),
        Ok(None) => return refuse("this device is not known to the organisation"),
        Err(_) => return refuse("the device could not be checked"),
    };
    let Some(key) = devices::public_key(conn, org, request.device_id)
        .ok()
        .flatten()
    else {
        return refuse("this device has no key; sign in on it again with a current till");
    };
    let key = VerifyingKey::from_bytes(&key).map_err(|_| "the device's key is not valid")?;
    let (Some(first), Some(last)) = (request.records.first(), request.records.last()) else {
        return refuse("a batch carries at least one record");
    };
    if first.seq == 0 || last.seq > i64::MAX as u64 {
        return refuse("a record's seq is outside 1 to 2^63 - 1");
    }
    if let Err(broken) = verify_stretch(&request.records) {
        return Err(format!(
            "the batch is not one intact chain ({broken}), so its signature vouches for none of its records; nothing was stored"
        ));
    }
    let signature = STANDARD
        .decode(&request.signature)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or("the batch's signature is malformed")?;
    let signed = |bytes: &[u8]| key.verify_strict(bytes, &signature).is_ok();
    if !request
        .signing_bytes(org)
        .is_some_and(|bytes| signed(&bytes))
    {
        if !signed(&push_signing_bytes_v1(request.device_id, &last.hash)) {
            return refuse("the batch's signature does not verify with this device's key for this organisation, device and records");
        }
        // The older signature covers the device and the last hash only; the intact chain
        // checked above makes that hash cover every record (and their organisation, device
        // and seqs). A file a dead till exported cannot be signed again, so an import takes
        // it; a till pushing can update.
        if channel == Channel::Push {
            return refuse("this till signs its batches the old way (tillpoint-push-v1); update it, then sync again");
        }
    }
    Ok(VerifiedBatch {
        records: &request.records,
        revoked_at,
    })
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

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use ed25519_dalek::Signer as _;
    use serde_json::json;
    use tillpoint_protocol::journal::{JournalRecord, GENESIS_HASH};
    use tillpoint_protocol::sync::{
        push_signing_bytes, push_signing_bytes_v1, Outcome, PushRequest,
    };
    use tillpoint_protocol::{DeviceId, OrgId};

    use super::super::fixtures::{relink, sales, send, setup, signed, Setup};
    use super::super::{push, PushError};
    use crate::store::DbError;
    use crate::sync::import::import;

    /// Pushes `request` as the cashier: the refusal's reason, if refused.
    fn refusal(s: &Setup, request: &PushRequest) -> Option<String> {
        let pusher = s.pusher.clone();
        match s.db.call_blocking(|conn| push(conn, &pusher, request)) {
            Ok(_) => None,
            Err(PushError::Refused(reason)) => Some(reason),
            Err(other) => panic!("{other}"),
        }
    }

    /// (records stored, sales applied, batches refused in the audit log)
    fn books(s: &Setup) -> (i64, i64, i64) {
        s.db.call_blocking(|conn| -> Result<_, DbError> {
            Ok(conn.query_row(
                "SELECT (SELECT COUNT(*) FROM sync_records), (SELECT COUNT(*) FROM sales),
                        (SELECT COUNT(*) FROM audit_log WHERE event = 'push_refused')",
                (),
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        })
        .unwrap()
    }

    fn total_to_one_cent(record: &mut JournalRecord) {
        let mut payload: serde_json::Value = serde_json::from_str(&record.payload).unwrap();
        payload["total_minor"] = json!(1);
        record.payload = payload.to_string();
    }

    #[test]
    fn a_forged_record_inside_a_signed_batch_refuses_the_whole_batch() {
        let s = setup();
        let genuine = signed(&s, sales(&s, (0, GENESIS_HASH.to_owned()), 4));

        // Record 2 edited and re-hashed, the device's signature kept: record 3 no longer
        // links to it.
        let mut forged = genuine.clone();
        total_to_one_cent(&mut forged.records[1]);
        forged.records[1].hash = forged.records[1].expected_hash();
        let reason = refusal(&s, &forged).expect("refused");
        assert!(reason.contains("not one intact chain"), "{reason}");
        assert!(reason.contains("record 3 does not link"), "{reason}");

        // Re-linked all the way to the end: the last hash is no longer the signed one.
        relink(&mut forged.records[1..], &genuine.records[0].hash);
        let reason = refusal(&s, &forged).expect("refused");
        assert!(reason.contains("signature does not verify"), "{reason}");

        // Edited in place, hash left as it was.
        let mut edited = genuine.clone();
        total_to_one_cent(&mut edited.records[2]);
        let reason = refusal(&s, &edited).expect("refused");
        assert!(reason.contains("record 3 was edited"), "{reason}");

        // Reordered, or with a record taken out: the seqs do not follow.
        let mut reordered = genuine.clone();
        reordered.records.swap(1, 2);
        assert!(refusal(&s, &reordered)
            .unwrap()
            .contains("not one intact chain"));
        let mut holed = genuine.clone();
        holed.records.remove(1);
        assert!(refusal(&s, &holed)
            .unwrap()
            .contains("not one intact chain"));

        // Nothing of any of them was stored or applied; each is in the audit log.
        assert_eq!(books(&s), (0, 0, 5));
        // The genuine batch is then taken whole.
        let pusher = s.pusher.clone();
        let answer =
            s.db.call_blocking(|conn| push(conn, &pusher, &genuine))
                .unwrap();
        assert!(answer
            .results
            .iter()
            .all(|r| r.outcome == Outcome::Accepted));
    }

    #[test]
    fn a_batch_carrying_one_record_id_twice_is_refused_whole_every_time() {
        let s = setup();
        let mut records = sales(&s, (0, GENESIS_HASH.to_owned()), 3);
        records[2].id = records[0].id;
        let before = records[1].hash.clone();
        relink(&mut records[2..], &before);
        let twice = signed(&s, records);
        for _ in 0..2 {
            let reason = refusal(&s, &twice).expect("refused");
            assert!(reason.contains("one record id twice"), "{reason}");
        }
        assert_eq!(
            books(&s),
            (0, 0, 2),
            "nothing stored, both refusals audited"
        );
    }

    #[test]
    fn a_forged_record_in_an_imported_file_refuses_the_whole_file() {
        let s = setup();
        let mut file = signed(&s, sales(&s, (0, GENESIS_HASH.to_owned()), 3));
        total_to_one_cent(&mut file.records[1]);
        file.records[1].hash = file.records[1].expected_hash();
        let importer = s.pusher.clone();
        let refused = s.db.call_blocking(|conn| import(conn, &importer, &file));
        assert!(
            matches!(&refused, Err(PushError::Refused(r)) if r.contains("not one intact chain")),
            "{refused:?}"
        );
        assert_eq!(books(&s), (0, 0, 1));
    }

    #[test]
    fn a_signature_binds_the_organisation_the_device_and_the_seq_range() {
        let s = setup();
        let records = sales(&s, (0, GENESIS_HASH.to_owned()), 3);
        let last = &records[2].hash;
        let org = s.pusher.tenant.org();
        let other_org = OrgId::from_uuid(uuid::Uuid::now_v7());
        let other_device = DeviceId::from_uuid(uuid::Uuid::now_v7());
        for bytes in [
            push_signing_bytes(other_org, s.device, 1, 3, last),
            push_signing_bytes(org, other_device, 1, 3, last),
            push_signing_bytes(org, s.device, 2, 3, last),
            push_signing_bytes(org, s.device, 1, 4, last),
        ] {
            let request = PushRequest {
                device_id: s.device,
                signature: STANDARD.encode(s.key.sign(&bytes).to_bytes()),
                records: records.clone(),
            };
            let reason = refusal(&s, &request).expect("refused");
            assert!(reason.contains("signature does not verify"), "{reason}");
        }
        // A signature of the device's first two records does not carry the third.
        let first_two = signed(&s, records[..2].to_vec());
        let stretched = PushRequest {
            records: records.clone(),
            ..first_two
        };
        assert!(refusal(&s, &stretched).is_some());
        assert_eq!(books(&s).0, 0);
    }

    #[test]
    fn a_huge_seq_cannot_be_slipped_in_nor_move_the_chain() {
        let s = setup();
        let genuine = signed(&s, sales(&s, (0, GENESIS_HASH.to_owned()), 3));
        // A middle record's seq raised and re-hashed under the kept signature: it used to be
        // taken as a gap and move the chain's end there, making every later genuine record
        // of the till a fork.
        let mut forged = genuine.clone();
        forged.records[1].seq = i64::MAX as u64;
        forged.records[1].hash = forged.records[1].expected_hash();
        assert!(refusal(&s, &forged)
            .unwrap()
            .contains("not one intact chain"));
        // The last record's, likewise.
        let mut forged = genuine.clone();
        forged.records[2].seq = i64::MAX as u64;
        forged.records[2].hash = forged.records[2].expected_hash();
        assert!(refusal(&s, &forged).is_some());
        // Even signed by the device, a seq the server cannot hold is refused whole.
        let mut huge = sales(&s, (0, GENESIS_HASH.to_owned()), 1);
        huge[0].seq = u64::MAX;
        relink(&mut huge, GENESIS_HASH);
        let reason = refusal(&s, &signed(&s, huge)).expect("refused");
        assert!(reason.contains("seq is outside"), "{reason}");
        // The chain never moved: the genuine records are taken as they come.
        let answer = send(&s, genuine.records);
        assert!(
            answer.iter().all(|a| a.0 == Outcome::Accepted),
            "{answer:?}"
        );
    }

    #[test]
    fn an_older_tills_signature_is_read_on_import_but_a_push_is_told_to_update() {
        let s = setup();
        let records = sales(&s, (0, GENESIS_HASH.to_owned()), 2);
        let v1 = PushRequest {
            device_id: s.device,
            signature: STANDARD.encode(
                s.key
                    .sign(&push_signing_bytes_v1(s.device, &records[1].hash))
                    .to_bytes(),
            ),
            records,
        };
        let reason = refusal(&s, &v1).expect("a v1 push is refused");
        assert!(reason.contains("tillpoint-push-v1"), "{reason}");
        let importer = s.pusher.clone();
        let answer =
            s.db.call_blocking(|conn| import(conn, &importer, &v1))
                .unwrap();
        assert!(answer
            .results
            .iter()
            .all(|r| r.outcome == Outcome::Accepted));
        // And a v1 file with a forged record inside is refused like any other.
        let mut forged = v1.clone();
        total_to_one_cent(&mut forged.records[0]);
        forged.records[0].hash = forged.records[0].expected_hash();
        let refused = s.db.call_blocking(|conn| import(conn, &importer, &forged));
        assert!(matches!(refused, Err(PushError::Refused(_))));
    }
}
