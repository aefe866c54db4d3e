//! A stand-in for the server's sync endpoints (push, pull, refresh) and a real till signed in
//! against it (with a catalog written in when a test needs one), for the core's own tests of
//! push, the sync status, export, stock, selling and the sync loop. The core's tests cannot
//! start the real server (the core never depends on it), and these behaviours only need a
//! server that answers each record as the test says and counts what it was asked.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use tillpoint_protocol::auth::UserInfo;
use tillpoint_protocol::journal::{JournalRecord, RecordKind};
use tillpoint_protocol::sync::{
    Outcome, PullPage, PushRequest, PushResponse, RecordResult, PULL_PATH, PUSH_PATH,
};
use tillpoint_protocol::{ErrorBody, ErrorCode, OrgId, Permission, UserId};
use uuid::Uuid;

use crate::config::{LogLevel, TillConfig};
use crate::journal::Author;
use crate::server_url::ServerUrl;
use crate::sign_in::identity;
use crate::sign_in::secrets::MemorySecrets;
use crate::till::Till;

/// How the fake server answers one record: `None` leaves it unanswered.
pub(crate) type Answer =
    dyn Fn(&JournalRecord) -> Option<(Outcome, Option<&'static str>)> + Send + Sync;

#[derive(Clone)]
pub(crate) struct Fake {
    /// Every push request received, in order.
    pub(crate) seen: Arc<Mutex<Vec<PushRequest>>>,
    /// What the server answers with: anything but success answers every push with an error.
    pub(crate) status: Arc<Mutex<StatusCode>>,
    answer: Arc<Answer>,
    /// Pull requests received. Each is answered with one empty last page.
    pub(crate) pulls: Arc<AtomicUsize>,
    /// Refresh requests received.
    pub(crate) refreshes: Arc<AtomicUsize>,
    /// How every refresh is refused: 401 (the default) says the server no longer takes the
    /// sign-in; others are failures of the server.
    pub(crate) refresh_status: Arc<Mutex<StatusCode>>,
}

impl Fake {
    pub(crate) fn pulls(&self) -> usize {
        self.pulls.load(Ordering::SeqCst)
    }

    pub(crate) fn refreshes(&self) -> usize {
        self.refreshes.load(Ordering::SeqCst)
    }

    pub(crate) fn pushes(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

async fn pull(State(fake): State<Fake>) -> Json<PullPage> {
    fake.pulls.fetch_add(1, Ordering::SeqCst);
    Json(PullPage {
        next_cursor: "cursor".into(),
        ..PullPage::default()
    })
}

async fn refresh(State(fake): State<Fake>) -> axum::response::Response {
    fake.refreshes.fetch_add(1, Ordering::SeqCst);
    let status = *fake.refresh_status.lock().unwrap();
    let body = ErrorBody::new(ErrorCode::Unauthenticated, "the refresh was refused");
    (status, Json(body)).into_response()
}

async fn push(
    State(fake): State<Fake>,
    Json(request): Json<PushRequest>,
) -> axum::response::Response {
    fake.seen.lock().unwrap().push(request.clone());
    let status = *fake.status.lock().unwrap();
    if !status.is_success() {
        let code = match status.as_u16() {
            401 => ErrorCode::Unauthenticated,
            403 => ErrorCode::Forbidden,
            _ => ErrorCode::Internal,
        };
        return (status, Json(ErrorBody::new(code, "the device was revoked"))).into_response();
    }
    let results = request
        .records
        .iter()
        .filter_map(|r| {
            (fake.answer)(r).map(|(outcome, reason)| RecordResult {
                id: r.id,
                seq: r.seq,
                outcome,
                reason: reason.map(str::to_owned),
            })
        })
        .collect();
    Json(PushResponse { results }).into_response()
}

/// A till signed in online (with `perms`) against a fake server.
pub(crate) struct Setup {
    /// Shared, so a test can run the sync loop on it in a task of its own.
    pub(crate) till: Arc<Till>,
    pub(crate) fake: Fake,
    pub(crate) org: OrgId,
    pub(crate) dir: tempfile::TempDir,
}

pub(crate) async fn setup(
    perms: &[&str],
    answer: impl Fn(&JournalRecord) -> Option<(Outcome, Option<&'static str>)> + Send + Sync + 'static,
) -> Setup {
    let fake = Fake {
        seen: Arc::default(),
        status: Arc::new(Mutex::new(StatusCode::OK)),
        answer: Arc::new(answer),
        pulls: Arc::default(),
        refreshes: Arc::default(),
        refresh_status: Arc::new(Mutex::new(StatusCode::UNAUTHORIZED)),
    };
    let app = axum::Router::new()
        .route(&format!("/{PUSH_PATH}"), axum::routing::post(push))
        .route(&format!("/{PULL_PATH}"), axum::routing::get(pull))
        .route("/api/v1/auth/refresh", axum::routing::post(refresh))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = tempfile::tempdir().unwrap();
    let till = Arc::new(
        Till::open_with_secrets(
            TillConfig {
                server_url: ServerUrl::parse(&format!("http://{addr}")).unwrap(),
                data_dir: dir.path().join("data"),
                log_level: LogLevel::Info,
                source_file: None,
                printer: None,
            },
            Arc::new(MemorySecrets::default()),
        )
        .unwrap(),
    );
    let org = OrgId::from_uuid(Uuid::now_v7());
    till.sign_in_for_tests(
        UserInfo {
            id: UserId::from_uuid(Uuid::now_v7()),
            name: "Mary".into(),
            email: String::new(),
            role: "Cashier".into(),
            permissions: perms
                .iter()
                .map(|p| Permission::parse(p).unwrap())
                .collect(),
            organisation_id: org,
        },
        "access-token",
    );
    Setup {
        till,
        fake,
        org,
        dir,
    }
}

pub(crate) fn accept_all(_: &JournalRecord) -> Option<(Outcome, Option<&'static str>)> {
    Some((Outcome::Accepted, None))
}

impl Setup {
    /// Appends `n` journal entries, as selling would.
    pub(crate) fn record(&self, n: u64) -> Vec<JournalRecord> {
        let device_id = self.till.device_id().unwrap().unwrap();
        let author = Author {
            org_id: self.org,
            user_id: UserId::from_uuid(Uuid::now_v7()),
            user_name: "Mary".into(),
            device_id,
            grant_jti: None,
        };
        let mut conn = self.till.store().conn().unwrap();
        let tx = conn.transaction().unwrap();
        let records = (0..n)
            .map(|i| {
                crate::journal::append(
                    &tx,
                    &author,
                    RecordKind::Sale,
                    Uuid::now_v7(),
                    "2026-11-27T10:00:00.000Z",
                    &serde_json::json!({ "n": i }),
                )
                .unwrap()
            })
            .collect();
        tx.commit().unwrap();
        records
    }

    /// Each outbox row: seq, state, reason, attempts.
    pub(crate) fn states(&self) -> Vec<(u64, String, Option<String>, u32)> {
        let conn = self.till.store().conn().unwrap();
        let mut statement = conn
            .prepare("SELECT journal_seq, state, reason, attempts FROM outbox ORDER BY journal_seq")
            .unwrap();
        let rows = statement
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows
    }

    pub(crate) fn state_names(&self) -> Vec<String> {
        self.states().into_iter().map(|s| s.1).collect()
    }

    /// The seqs of each batch the server received.
    pub(crate) fn seen_seqs(&self) -> Vec<Vec<u64>> {
        let seen = self.fake.seen.lock().unwrap();
        seen.iter()
            .map(|b| b.records.iter().map(|r| r.seq).collect())
            .collect()
    }

    /// Writes what a first catalog pull would: the organisation (in USD), its one shop, and
    /// USD and ZWG with a rate between them. No products: tests that need them add them.
    pub(crate) fn install_catalog(&self) {
        let conn = self.till.store().conn().unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO organisation (singleton, org_id, name, tax_number, base_currency, updated_at)
                 VALUES (1, '{org}', 'Corner Shop', NULL, 'USD', '2026-01-01T00:00:00Z');
             INSERT INTO locations (id, name, kind) VALUES ('{shop}', 'Main Street', 'shop');
             INSERT INTO currencies (code, name, minor_units) VALUES
                 ('USD', 'US Dollar', 2), ('ZWG', 'Zimbabwe Gold', 2);
             INSERT INTO exchange_rates (id, base, quote, rate, effective_at)
                 VALUES ('{rate}', 'USD', 'ZWG', '26.80', '2026-01-01T00:00:00Z');",
            org = self.org,
            shop = Uuid::now_v7(),
            rate = Uuid::now_v7(),
        ))
        .unwrap();
    }

    pub(crate) fn record_hash(&self, seq: u64) -> String {
        let conn = self.till.store().conn().unwrap();
        crate::journal::read(&conn, seq, seq)
            .unwrap()
            .remove(0)
            .hash
    }
}

/// Whether `request` is signed by `till`'s device key over its last record's hash.
pub(crate) fn verifies(till: &Till, request: &PushRequest) -> bool {
    let conn = till.store().conn().unwrap();
    let identity = identity::load(&conn).unwrap().unwrap();
    let key = VerifyingKey::from_bytes(&identity.public_key).unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&request.signature)
        .unwrap();
    let signature = Signature::from_slice(&bytes).unwrap();
    let org = request.records[0].org_id;
    request.device_id == identity.device_id
        && key
            .verify(&request.signing_bytes(org).unwrap(), &signature)
            .is_ok()
}
