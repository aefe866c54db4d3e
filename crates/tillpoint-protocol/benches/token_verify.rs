//! How many access tokens one core verifies per second (EdDSA, every check on).
//! `cargo bench -p tillpoint-protocol --bench token_verify`; figures in docs/benchmarks.md.

use std::time::Instant;

use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::Rng;
use tillpoint_protocol::auth::{AccessClaims, ACCESS_AUDIENCE, ACCESS_TOKEN_TYP, ISSUER};
use tillpoint_protocol::token::{verify_access_token, PublicKeys};
use tillpoint_protocol::{DeviceId, OrgId, Permission, UserId};

fn main() {
    let seed: [u8; 32] = rand::rng().random();
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let kid = "0192f7a0-0000-7000-8000-000000000001".to_owned();
    let mut keys = PublicKeys::default();
    keys.insert(kid.clone(), &key.verifying_key().to_bytes());
    let now = 1_800_000_000;
    let claims = AccessClaims {
        iss: ISSUER.into(),
        aud: ACCESS_AUDIENCE.into(),
        sub: UserId::from_uuid(uuid::Uuid::nil()),
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
        org: OrgId::from_uuid(uuid::Uuid::max()),
        dev: DeviceId::from_uuid(uuid::Uuid::nil()),
        iat: now,
        iat_ms: now * 1000,
        nbf: now,
        exp: now + 3600,
        jti: "0192f7a0-0000-7000-8000-000000000002".into(),
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(ACCESS_TOKEN_TYP.into());
    header.kid = Some(kid);
    let encoding = EncodingKey::from_ed_der(key.to_pkcs8_der().unwrap().as_bytes());
    let token = jsonwebtoken::encode(&header, &claims, &encoding).unwrap();

    for _ in 0..1_000 {
        verify_access_token(&token, &keys, now).unwrap();
    }
    let n = 20_000;
    let mut samples = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        std::hint::black_box(
            verify_access_token(std::hint::black_box(&token), &keys, now).unwrap(),
        );
        samples.push(t.elapsed());
    }
    let total = start.elapsed();
    samples.sort();
    let p = |q: f64| samples[((n as f64 - 1.0) * q) as usize].as_secs_f64() * 1e6;
    println!("access-token verification (EdDSA, all checks), 1 thread, {n} tokens");
    println!(
        "  throughput: {:.0} verifications/s",
        n as f64 / total.as_secs_f64()
    );
    println!("  latency: p50 {:.1} µs, p99 {:.1} µs", p(0.50), p(0.99));
}
