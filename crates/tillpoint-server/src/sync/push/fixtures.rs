//! One organisation with a cashier, a manager and a keyed device, and the batches its till
//! would push: shared by the tests of the ingest, of judging and of applying, which all
//! speak to [`super::push`] as a till would.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::Utc;
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::json;
use tillpoint_protocol::auth::{AccessClaims, OfflineGrantClaims};
use tillpoint_protocol::journal::{JournalRecord, RecordKind, GENESIS_HASH};
use tillpoint_protocol::receipt_number::receipt_prefix;
use tillpoint_protocol::sync::{Outcome, PushRequest};
use tillpoint_protocol::{CurrencyCode, DeviceId, OrgId, UserId};

use super::{push, Pusher};
use crate::identity::organisations::{create_organisation, NewOrganisation};
use crate::identity::users::{create_user, NewUser};
use crate::store::{Database, DbError};
use crate::tenancy::Tenant;

pub(super) struct Setup {
    pub(super) _dir: tempfile::TempDir,
    pub(super) db: Database,
    pub(super) pusher: Pusher,
    pub(super) device: DeviceId,
    pub(super) key: SigningKey,
    pub(super) cashier: UserId,
    /// An Administrator (holds `pos:*:*`).
    pub(super) manager: UserId,
}

/// An organisation with a cashier, a manager and a keyed device, straight in the
/// database.
pub(super) fn setup() -> Setup {
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
            let user = |role: &str, username: &str, name: &str, email: &str| {
                let role_id = created.roles.iter().find(|(n, _)| *n == role).unwrap().1;
                let password = format!("{username}-password-1");
                create_user(
                    &tx,
                    &NewUser {
                        org_id: created.id,
                        username,
                        name,
                        email,
                        role_id,
                        password: &password,
                    },
                )
            };
            let cashier = user("Cashier", "cashier", "Cashier", "c@example.com")?;
            let manager = user("Administrator", "manager", "Manager", "m@example.com")?;
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
    sign_in_at(&db, org, cashier, device, SIGNED_IN_AT);
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

/// When the setup's cashier signed in on its device: the records here are made an hour
/// later.
pub(super) const SIGNED_IN_AT: &str = "2026-11-27T09:00:00.000Z";

/// Signs `user` in on `device` at `at` (a refresh family), as a sign-in on the till would.
pub(super) fn sign_in_at(db: &Database, org: OrgId, user: UserId, device: DeviceId, at: &str) {
    let at = chrono::DateTime::parse_from_rfc3339(at)
        .unwrap()
        .with_timezone(&Utc);
    db.call_blocking(move |conn| -> Result<_, DbError> {
        Ok(crate::identity::refresh::start_family(
            conn, org, user, device, at,
        )?)
    })
    .unwrap();
}

/// Issues `user` an offline grant for the setup's device holding `perms`, valid from an
/// hour before the records here to a day after them; returns its jti.
pub(super) fn grant(s: &Setup, user: UserId, perms: &[&str]) -> String {
    let jti = uuid::Uuid::now_v7().to_string();
    let nbf = chrono::DateTime::parse_from_rfc3339(SIGNED_IN_AT)
        .unwrap()
        .timestamp();
    let claims: OfflineGrantClaims = serde_json::from_value(json!({
        "iss": "test", "aud": "tillpoint-offline", "sub": user, "name": "n", "role": "r",
        "org": s.pusher.tenant.org(), "device": s.device, "perms": perms,
        "limits": {"USD": {"max_sale": 100_000, "max_offline_total": 1_000_000, "max_discount": 1_000}},
        "iat": nbf, "nbf": nbf, "exp": nbf + 86_400, "jti": jti,
    }))
    .unwrap();
    let at = chrono::DateTime::from_timestamp(nbf, 0).unwrap();
    s.db.call_blocking(move |conn| -> Result<_, DbError> {
        Ok(crate::identity::grants::record(
            conn, &claims, "family", at,
        )?)
    })
    .unwrap();
    jti
}

/// `n` till openings made online by the cashier, chained from genesis.
pub(super) fn openings(s: &Setup, n: u64) -> Vec<JournalRecord> {
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

/// `records` as the device signs them: over the organisation, device, seq range and last hash.
pub(super) fn signed(s: &Setup, records: Vec<JournalRecord>) -> PushRequest {
    let mut request = PushRequest {
        device_id: s.device,
        signature: String::new(),
        records,
    };
    let bytes = request.signing_bytes(s.pusher.tenant.org()).unwrap();
    request.signature = STANDARD.encode(s.key.sign(&bytes).to_bytes());
    request
}

/// Pushes `records`, signed by the device, as the cashier; the answer per record.
pub(super) fn send(s: &Setup, records: Vec<JournalRecord>) -> Vec<(Outcome, Option<String>)> {
    let request = signed(s, records);
    let pusher = s.pusher.clone();
    s.db.call_blocking(|conn| push(conn, &pusher, &request))
        .unwrap()
        .results
        .into_iter()
        .map(|r| (r.outcome, r.reason))
        .collect()
}

/// `n` online sales of one loaf each by the cashier, chained after `after`.
pub(super) fn sales(s: &Setup, after: (u64, String), n: u64) -> Vec<JournalRecord> {
    let (mut seq, mut prev) = after;
    let product = uuid::Uuid::from_u128(7);
    (0..n)
        .map(|_| {
            seq += 1;
            let payload = json!({
                "sale_id": uuid::Uuid::now_v7(), "receipt_no": format!("{}-{seq:06}", receipt_prefix(s.device)),
                "till_session_id": uuid::Uuid::from_u128(1), "currency": "USD",
                "lines": [{
                    "line_no": 1, "product_id": product, "sku": "BREAD", "name": "Bread",
                    "unit": "each", "quantity": 1000, "unit_price_minor": 125,
                    "list_price_minor": 125, "line_discount_minor": 0,
                    "cart_discount_minor": 0, "total_minor": 125,
                    "tax": {"code": "standard", "rate_bp": 1500}, "vat_minor": 16,
                }],
                "subtotal_minor": 125, "discount_minor": 0, "total_minor": 125,
                "vat": [{"rate": {"code": "standard", "rate_bp": 1500},
                         "grossMinor": 125, "vatMinor": 16, "netMinor": 109}],
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

/// Re-links and re-hashes `records` from `prev`, as the till chains what it writes.
pub(super) fn relink(records: &mut [JournalRecord], prev: &str) {
    if let Some(first) = records.first() {
        let after = (first.seq - 1, prev.to_owned());
        rechain(records, after);
    }
}

/// Links `records` into a chain after `after` again, rehashing each: what a till would have
/// written had it made them as they now are.
pub(super) fn rechain(records: &mut [JournalRecord], after: (u64, String)) {
    let (mut seq, mut prev) = after;
    for record in records {
        seq += 1;
        record.seq = seq;
        record.prev_hash = prev;
        record.hash = record.expected_hash();
        prev = record.hash.clone();
    }
}

/// Edits `record`'s payload as JSON (the caller rechains).
pub(super) fn edit_payload(record: &mut JournalRecord, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut payload: serde_json::Value = serde_json::from_str(&record.payload).unwrap();
    edit(&mut payload);
    record.payload = payload.to_string();
}

/// Turns `record` (one of [`sales`]) into the refund of the one loaf `sold` sold, as a till
/// works it out (the caller rechains).
pub(super) fn make_refund_of(record: &mut JournalRecord, sold: &JournalRecord) {
    let sold: serde_json::Value = serde_json::from_str(&sold.payload).unwrap();
    record.kind = RecordKind::Refund;
    edit_payload(record, |p| {
        p["refund_of"] = sold["sale_id"].clone();
        p["reason"] = json!("stale");
        let line = &mut p["lines"][0];
        line["quantity"] = json!(-1000);
        line["total_minor"] = json!(-125);
        line["vat_minor"] = json!(-16);
        line["refund_of_line"] = json!(1);
        line["restock"] = json!(true);
        p["subtotal_minor"] = json!(-125);
        p["total_minor"] = json!(-125);
        p["vat"][0]["grossMinor"] = json!(-125);
        p["vat"][0]["vatMinor"] = json!(-16);
        p["vat"][0]["netMinor"] = json!(-109);
        p["payments"] = json!([{"method": "cash", "currency": "USD", "amount_minor": -125,
                                "rate": "1", "rate_base": "USD", "value_minor": -125}]);
        p["change_minor"] = json!(0);
    });
}
