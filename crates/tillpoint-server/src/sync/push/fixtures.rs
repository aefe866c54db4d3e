//! One organisation with a cashier, a manager and a keyed device, and the batches its till
//! would push: shared by the tests of the ingest, of judging and of applying, which all
//! speak to [`super::push`] as a till would.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::Utc;
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::json;
use tillpoint_protocol::auth::AccessClaims;
use tillpoint_protocol::journal::{JournalRecord, RecordKind, GENESIS_HASH};
use tillpoint_protocol::receipt_number::receipt_prefix;
use tillpoint_protocol::sync::{Outcome, PushRequest};
use tillpoint_protocol::{CurrencyCode, DeviceId, UserId};

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

/// Re-links and re-hashes `records` from `prev`, as the till chains what it writes.
pub(super) fn relink(records: &mut [JournalRecord], prev: &str) {
    let mut prev = prev.to_owned();
    for record in records {
        record.prev_hash = prev;
        record.hash = record.expected_hash();
        prev = record.hash.clone();
    }
}
