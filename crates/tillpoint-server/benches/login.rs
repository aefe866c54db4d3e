//! Sign-in cost on this machine: one password hash, and HTTP logins against a real server on
//! loopback, one at a time and 16 at once (the hash semaphore bounds memory; this shows what
//! it does to latency). `cargo bench -p tillpoint-server --bench login`; figures in
//! docs/benchmarks.md.

use std::time::{Duration, Instant};

use tillpoint_protocol::auth::LoginRequest;
use tillpoint_protocol::DeviceId;
use tillpoint_server::demo::{self, DemoOptions};
use tillpoint_server::identity::password::hash_password;
use tillpoint_server::{Application, ServerConfig};

fn percentile(samples: &mut [Duration], q: f64) -> f64 {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let mut hashes: Vec<Duration> = (0..20)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(hash_password("correct horse battery staple"));
            t.elapsed()
        })
        .collect();
    println!(
        "argon2id (m=19 MiB, t=2, p=1) hash: p50 {:.1} ms",
        percentile(&mut hashes, 0.5)
    );

    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig::for_tests(dir.path());
    let app = Application::build(&config).await.unwrap();
    let password = "bench-password".to_owned();
    demo::seed(
        app.database(),
        &DemoOptions {
            products: 10,
            password: Some(password.clone()),
        },
    )
    .unwrap();
    let url = format!("http://{}/api/v1/auth/login", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();
    // Different usernames, so the per-account throttle never trips.
    let users = [
        "superadmin",
        "admin",
        "stockmanager",
        "accountant",
        "cashier",
    ];

    let login = |i: usize| {
        let client = client.clone();
        let url = url.clone();
        let password = password.clone();
        async move {
            let t = Instant::now();
            let response = client
                .post(&url)
                .json(&LoginRequest {
                    username: users[i % users.len()].into(),
                    password,
                    device_id: DeviceId::from_uuid(uuid::Uuid::now_v7()),
                })
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            t.elapsed()
        }
    };

    let n = 100;
    let start = Instant::now();
    let mut sequential = Vec::with_capacity(n);
    for i in 0..n {
        sequential.push(login(i).await);
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "HTTP login, one at a time, {n} logins: {rate:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
        percentile(&mut sequential, 0.5),
        percentile(&mut sequential, 0.99)
    );

    let start = Instant::now();
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(login(i))).collect();
    let mut concurrent = Vec::with_capacity(n);
    for task in tasks {
        concurrent.push(task.await.unwrap());
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "HTTP login, {n} at once (4 hashes at a time): {rate:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
        percentile(&mut concurrent, 0.5),
        percentile(&mut concurrent, 0.99)
    );
}
