//! A push batch as the server's ingest meets it: JSON from a till, decoded into a
//! `PushRequest` (bounds checked as it is read), then the whole of
//! `tillpoint_server::sync::push::push` — the batch checks (organisation, device, key, the
//! chain, the signature), judging every record (payload, sale checks, grants, the chain's
//! continuity) and applying the accepted ones — on a real server database. The pure checks
//! of a sale's payload (`tillpoint_protocol::sale_checks`) also run on every record first.
//!
//! The input is one mode byte, then the request's JSON. The mode says what a till would have
//! done to the bytes the fuzzer made before sending them:
//! - bit 0: chain the records again (consecutive `seq` from the first, each `prev_hash` the
//!   hash before, each `hash` its own), as a till writes what it made;
//! - bit 1: sign the batch with the device's real key, as a till that made these records
//!   would (a compromised till, or a buggy one, signs whatever it holds).
//!
//! With neither bit the batch arrives exactly as the bytes say: the refusals are what is
//! exercised. With both, judging sees records the device vouches for. Placeholder ids in the
//! input ([`ORG`], [`CASHIER`], [`MANAGER`]) stand for the database's organisation and users,
//! which are made fresh in each process.
//!
//! What must hold, whatever arrives:
//! - nothing panics, and the ingest never fails with a database error (a retryable 5xx for a
//!   bad batch would wedge the till's sync for ever);
//! - an answered batch gets one answer per record, in order, for that record's id and seq;
//! - a refused batch stores no record;
//! - sending the same batch again answers every record it stored as a duplicate, and
//!   changes nothing in the books: the promise that makes a till's resends harmless.

use std::path::PathBuf;
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer as _, SigningKey};
use rusqlite::Connection;
use serde_json::json;
use tillpoint_protocol::auth::{AccessClaims, OfflineGrantClaims};
use tillpoint_protocol::journal::JournalRecord;
use tillpoint_protocol::sale_checks;
use tillpoint_protocol::sales::SalePayload;
use tillpoint_protocol::sync::{Outcome, PushRequest, PushResponse};
use tillpoint_protocol::{CurrencyCode, DeviceId, OrgId, UserId};
use tillpoint_server::identity::organisations::{create_organisation, NewOrganisation};
use tillpoint_server::identity::users::{create_user, NewUser};
use tillpoint_server::store::{Database, DbError};
use tillpoint_server::sync::push::{push, PushError, Pusher};

/// Stands for the organisation in an input.
pub const ORG: &str = "00000000-0000-7000-8000-0000000000a1";
/// Stands for the cashier (no permission beyond selling).
pub const CASHIER: &str = "00000000-0000-7000-8000-0000000000a2";
/// Stands for the manager (an Administrator).
pub const MANAGER: &str = "00000000-0000-7000-8000-0000000000a3";
/// The till: the same in every process, so receipt numbers in the corpus carry its prefix.
pub const DEVICE: &str = "0190f000-0000-7000-8000-00000000d001";
/// The jti of the cashier's offline grant on [`DEVICE`], valid 2026-11-27 09:00 to +24 h.
pub const GRANT_JTI: &str = "0190f000-0000-7000-8000-0000000006a1";
/// When the server judges: the day the corpus's records were made.
pub const NOW: &str = "2026-11-27T12:00:00Z";
/// The device's signing key (its public half is bound to [`DEVICE`] in the database).
pub fn device_key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

/// A server database with one organisation, its cashier and manager, the keyed device and
/// the cashier's offline grant, made once per process; each input starts from a copy of it.
struct Template {
    _dir: tempfile::TempDir,
    bytes: Vec<u8>,
    dir: PathBuf,
    org: OrgId,
    cashier: UserId,
    manager: UserId,
}

fn template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("template.db");
        let db = Database::open(&path).expect("server database");
        let device: DeviceId = DEVICE.parse().expect("device id");
        let public = device_key().verifying_key().to_bytes();
        let (org, cashier, manager) = db
            .call_blocking(|conn| -> Result<_, DbError> {
                let tx = conn.transaction()?;
                let created = create_organisation(
                    &tx,
                    &NewOrganisation {
                        name: "Shop",
                        tax_number: None,
                        base_currency: CurrencyCode::parse("USD").expect("USD"),
                        base_currency_name: "US Dollar",
                    },
                )?;
                let user = |role: &str, username: &str| {
                    create_user(
                        &tx,
                        &NewUser {
                            org_id: created.id,
                            username,
                            name: username,
                            email: &format!("{username}@example.com"),
                            role_id: created.role(role),
                            password: &format!("{username}-password-1"),
                        },
                    )
                };
                let cashier = user("Cashier", "cashier")?;
                let manager = user("Administrator", "manager")?;
                tx.execute(
                    "INSERT INTO devices (org_id, id, first_seen, last_seen, public_key)
                     VALUES (?1, ?2, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', ?3)",
                    (created.id.to_string(), DEVICE, public.as_slice()),
                )?;
                tx.commit()?;
                Ok((created.id, cashier, manager))
            })
            .expect("organisation");
        let signed_in = at("2026-11-27T09:00:00Z");
        let grant: OfflineGrantClaims = serde_json::from_value(json!({
            "iss": "tillpoint-server", "aud": "tillpoint-till", "sub": cashier, "name": "cashier",
            "role": "Cashier", "org": org, "device": device, "perms": ["pos:sales:create"],
            "limits": {"USD": {"max_sale": 100_000, "max_offline_total": 1_000_000, "max_discount": 1_000}},
            "iat": signed_in.timestamp(), "nbf": signed_in.timestamp(),
            "exp": signed_in.timestamp() + 86_400, "jti": GRANT_JTI,
        }))
        .expect("grant claims");
        db.call_blocking(|conn| -> Result<_, DbError> {
            for user in [cashier, manager] {
                tillpoint_server::identity::refresh::start_family(
                    conn, org, user, device, signed_in,
                )?;
            }
            tillpoint_server::identity::grants::record(conn, &grant, "fuzz", signed_in)?;
            Ok(())
        })
        .expect("sign-ins");
        drop(db);
        let bytes = std::fs::read(&path).expect("template bytes");
        Template {
            dir: dir.path().to_path_buf(),
            _dir: dir,
            bytes,
            org,
            cashier,
            manager,
        }
    })
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("time")
        .with_timezone(&Utc)
}

/// A connection to a fresh copy of the template, configured as the server configures its own.
/// One copy per thread: the corpus test replays on several at once.
fn fresh_copy(t: &Template) -> Connection {
    let work = t
        .dir
        .join(format!("work-{:?}.db", std::thread::current().id()));
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", work.display()));
    }
    std::fs::write(&work, &t.bytes).expect("database copy");
    let conn = Connection::open(&work).expect("open copy");
    tillpoint_sqlite::configure(&conn).expect("configure copy");
    conn
}

fn pusher(t: &Template) -> Pusher {
    let claims: AccessClaims = serde_json::from_value(json!({
        "iss": "tillpoint-server", "aud": "tillpoint-api", "sub": t.cashier, "name": "cashier",
        "email": "cashier@example.com", "role": "Cashier", "perms": [], "org": t.org,
        "dev": DEVICE, "iat": 0, "nbf": 0, "exp": 0, "jti": "fuzz",
    }))
    .expect("access claims");
    Pusher {
        tenant: tillpoint_server::testing::tenant_of(&claims),
        client_ip: None,
        now: at(NOW),
    }
}

/// (records stored, sales, stock movements, payments, refused batches in the audit log)
fn books(conn: &Connection) -> [i64; 5] {
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM sync_records), (SELECT COUNT(*) FROM sales),
                (SELECT COUNT(*) FROM stock_movements), (SELECT COUNT(*) FROM sale_payments),
                (SELECT COUNT(*) FROM audit_log WHERE event = 'push_refused')",
        (),
        |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?]),
    )
    .expect("books")
}

/// Chains `records` again from the first one's `seq` and `prev_hash`, each hash its own.
pub fn rechain(records: &mut [JournalRecord]) {
    let Some(first) = records.first() else { return };
    let (mut seq, mut prev) = (first.seq, first.prev_hash.clone());
    for record in records {
        record.seq = seq;
        record.prev_hash = prev;
        record.hash = record.expected_hash();
        prev = record.hash.clone();
        seq = seq.saturating_add(1);
    }
}

/// Signs `request` with the device's key for `org`, as the till does.
pub fn sign(request: &mut PushRequest, org: OrgId) {
    if let Some(bytes) = request.signing_bytes(org) {
        request.signature = STANDARD.encode(device_key().sign(&bytes).to_bytes());
    }
}

fn ingest(conn: &mut Connection, pusher: &Pusher, request: &PushRequest) -> Option<PushResponse> {
    match push(
        &mut tillpoint_server::store::Connection::sqlite(conn),
        pusher,
        request,
    ) {
        Ok(response) => Some(response),
        Err(PushError::Refused(_) | PushError::Empty | PushError::TooLarge { .. }) => None,
        Err(PushError::Db(e)) => panic!("a bad batch must be answered, not fail: {e}"),
    }
}

/// What the ingest answered each record the first time, `None` when the input is not a
/// batch or the batch was refused; asserting the properties on the way (see the module).
pub fn answers(data: &[u8]) -> Option<Vec<(Outcome, Option<String>)>> {
    let (&mode, json) = data.split_first()?;
    let text = std::str::from_utf8(json).ok()?;
    let t = template();
    let text = text
        .replace(ORG, &t.org.to_string())
        .replace(CASHIER, &t.cashier.to_string())
        .replace(MANAGER, &t.manager.to_string());
    let mut request = serde_json::from_str::<PushRequest>(&text).ok()?;
    // The pure checks judging runs on a sale's payload, on every record whatever the batch's
    // fate, so they meet the fuzzer's payloads even when the batch is refused at the door.
    for record in &request.records {
        if let Ok(sale) = serde_json::from_str::<SalePayload>(&record.payload) {
            let _ = sale_checks::check(record.kind, &sale);
        }
    }
    if mode & 1 != 0 {
        rechain(&mut request.records);
    }
    if mode & 2 != 0 {
        sign(&mut request, t.org);
    }

    let mut conn = fresh_copy(t);
    let pusher = pusher(t);
    let before = books(&conn);
    let Some(first) = ingest(&mut conn, &pusher, &request) else {
        let after = books(&conn);
        assert_eq!(after[..4], before[..4], "a refused batch stored something");
        return None;
    };
    assert_eq!(
        first.results.len(),
        request.records.len(),
        "one answer a record"
    );
    for (result, record) in first.results.iter().zip(&request.records) {
        assert_eq!(
            (result.id, result.seq),
            (record.id, record.seq),
            "answers in order"
        );
    }

    let after_first = books(&conn);
    let again = ingest(&mut conn, &pusher, &request)
        .expect("the same batch, answered once, is answered again");
    assert_eq!(
        books(&conn),
        after_first,
        "a resent batch changed the books"
    );
    for (first, again) in first.results.iter().zip(&again.results) {
        if matches!(first.outcome, Outcome::Accepted | Outcome::Quarantined) {
            assert_eq!(
                again.outcome,
                Outcome::Duplicate,
                "record {} stored as {:?} the first time: {:?}",
                first.seq,
                first.outcome,
                again.reason
            );
        }
    }
    Some(
        first
            .results
            .into_iter()
            .map(|r| (r.outcome, r.reason))
            .collect(),
    )
}

pub fn push_batch(data: &[u8]) {
    answers(data);
}
