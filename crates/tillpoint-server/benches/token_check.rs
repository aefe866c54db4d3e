//! What the server's check of an access token costs per request, one thread: the signature
//! and claims (`tillpoint_protocol::token`), then the token cutoffs
//! (`identity::token_cutoffs`) — from memory as the server does it, and, for comparison, as
//! a database read per request would. 100,000 cutoffs are known, none of them the token's
//! (the common case: every lookup misses). `cargo bench -p tillpoint-server --bench
//! token_check`; figures in docs/benchmarks.md.

use std::time::{Duration, Instant};

use chrono::Utc;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::Rng;
use tillpoint_protocol::auth::{AccessClaims, ACCESS_AUDIENCE, ACCESS_TOKEN_TYP, ISSUER};
use tillpoint_protocol::token::{verify_access_token, PublicKeys};
use tillpoint_protocol::{DeviceId, OrgId, Permission, UserId};
use tillpoint_server::identity::token_cutoffs::{cut, Subject, TokenCutoffs};
use tillpoint_server::store::{Database, DbError};

const KNOWN_CUTOFFS: usize = 100_000;
const TOKENS: usize = 20_000;

fn id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

fn report(what: &str, total: Duration, samples: &mut [Duration]) {
    samples.sort();
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e6;
    println!(
        "{what}: {:.0} verifications/s, p50 {:.1} µs, p99 {:.1} µs",
        samples.len() as f64 / total.as_secs_f64(),
        p(0.50),
        p(0.99)
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let seed: [u8; 32] = rand::rng().random();
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let kid = id().to_string();
    let mut keys = PublicKeys::default();
    keys.insert(kid.clone(), &key.verifying_key().to_bytes());
    let now = Utc::now();
    let claims = AccessClaims {
        iss: ISSUER.into(),
        aud: ACCESS_AUDIENCE.into(),
        sub: UserId::from_uuid(id()),
        name: "Tatenda Sibanda".into(),
        email: "cashier@demo.tillpoint.example".into(),
        role: "Cashier".into(),
        perms: [
            "pos:sales:create",
            "pos:sales:view",
            "pos:sessions:manage",
            "stock:inventory:view",
        ]
        .iter()
        .map(|p| Permission::parse(p).unwrap())
        .collect(),
        org: OrgId::from_uuid(id()),
        dev: DeviceId::from_uuid(id()),
        iat: now.timestamp(),
        iat_ms: now.timestamp_millis(),
        nbf: now.timestamp(),
        exp: now.timestamp() + 3600,
        jti: id().to_string(),
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(ACCESS_TOKEN_TYP.into());
    header.kid = Some(kid);
    let encoding = EncodingKey::from_ed_der(key.to_pkcs8_der().unwrap().as_bytes());
    let token = jsonwebtoken::encode(&header, &claims, &encoding).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("bench.sqlite3")).unwrap();
    db.call(|conn| -> Result<(), DbError> {
        let tx = conn.transaction()?;
        for i in 0..KNOWN_CUTOFFS {
            let subject = match i % 3 {
                0 => Subject::User(UserId::from_uuid(id())),
                1 => Subject::Device(OrgId::from_uuid(id()), DeviceId::from_uuid(id())),
                _ => Subject::Session(UserId::from_uuid(id()), DeviceId::from_uuid(id())),
            };
            cut(&tx, subject, Utc::now())?;
        }
        tx.commit()?;
        Ok(())
    })
    .await
    .unwrap();
    let cutoffs = TokenCutoffs::default();
    cutoffs.refresh(&db, Utc::now()).await.unwrap();
    let at = now.timestamp();

    println!(
        "access-token check, 1 thread, {TOKENS} tokens, {KNOWN_CUTOFFS} cutoffs known (none the token's)"
    );
    for _ in 0..1_000 {
        verify_access_token(&token, &keys, at).unwrap();
    }

    // The floor under every figure: the Ed25519 verification alone, its key already parsed.
    let (message, signature) = token.rsplit_once('.').unwrap();
    let signature = ed25519_dalek::Signature::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
            .unwrap(),
    )
    .unwrap();
    let verifying = key.verifying_key();
    let mut samples = Vec::with_capacity(TOKENS);
    let start = Instant::now();
    for _ in 0..TOKENS {
        let t = Instant::now();
        verifying
            .verify_strict(std::hint::black_box(message.as_bytes()), &signature)
            .unwrap();
        samples.push(t.elapsed());
    }
    report(
        "  Ed25519 signature alone (the floor)",
        start.elapsed(),
        &mut samples,
    );

    let mut samples = Vec::with_capacity(TOKENS);
    let start = Instant::now();
    for _ in 0..TOKENS {
        let t = Instant::now();
        std::hint::black_box(verify_access_token(std::hint::black_box(&token), &keys, at).unwrap());
        samples.push(t.elapsed());
    }
    report("  signature + claims only", start.elapsed(), &mut samples);

    // As the extractor does it: verify, re-read changes when a second old, look up.
    let mut samples = Vec::with_capacity(TOKENS);
    let start = Instant::now();
    for _ in 0..TOKENS {
        let t = Instant::now();
        let verified = verify_access_token(std::hint::black_box(&token), &keys, at).unwrap();
        cutoffs.refresh_if_stale(&db, Utc::now()).await.unwrap();
        assert!(cutoffs.allows(&verified));
        samples.push(t.elapsed());
    }
    report(
        "  whole check, cutoffs in memory (the server's)",
        start.elapsed(),
        &mut samples,
    );

    // The alternative not taken: the three subjects read from the database per request.
    let keys_of = |c: &AccessClaims| {
        [
            format!("user:{}", c.sub),
            format!("device:{}:{}", c.org, c.dev),
            format!("session:{}:{}", c.sub, c.dev),
        ]
    };
    let mut samples = Vec::with_capacity(TOKENS);
    let start = Instant::now();
    for _ in 0..TOKENS {
        let t = Instant::now();
        let verified = verify_access_token(std::hint::black_box(&token), &keys, at).unwrap();
        let [a, b, c] = keys_of(&verified);
        let newest: Option<i64> = db
            .call(move |conn| -> Result<_, DbError> {
                Ok(conn
                    .prepare_cached(
                        "SELECT max(cutoff_ms) FROM token_cutoffs WHERE subject IN (?1, ?2, ?3)",
                    )?
                    .query_row((a.clone(), b.clone(), c.clone()), |r| r.get(0))?)
            })
            .await
            .unwrap();
        assert!(newest.is_none_or(|n| verified.iat_ms > n));
        samples.push(t.elapsed());
    }
    report(
        "  whole check, a database read per request (not used)",
        start.elapsed(),
        &mut samples,
    );
}
