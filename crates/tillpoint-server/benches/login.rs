//! Sign-in cost on this machine: one password hash, and HTTP logins against a real server on
//! loopback, one at a time and 16 at once (the hash semaphore bounds memory; this shows what
//! it does to latency). Each login is a distinct account, as at a shop opening. `cargo bench -p tillpoint-server --bench login`; figures in
//! docs/benchmarks.md.

use std::time::{Duration, Instant};

use tillpoint_protocol::auth::LoginRequest;
use tillpoint_protocol::DeviceId;
use tillpoint_server::demo::{self, DemoOptions};
use tillpoint_server::identity::password::hash_password;
use tillpoint_server::identity::users::{create_user, NewUser};
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
    // One account per concurrent login: the throttle lets one account run only a few
    // password checks at once, by design.
    let n = 100;
    let users: Vec<String> = (0..n).map(|i| format!("bench{i}")).collect();
    app.database()
        .call_blocking(|conn| -> Result<(), tillpoint_server::store::DbError> {
            let tx = conn.transaction()?;
            let (org, role): (String, String) = tx.query_row(
                "SELECT u.org_id, u.role_id FROM users u WHERE u.username = 'cashier'",
                (),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            for username in &users {
                create_user(
                    &tx,
                    &NewUser {
                        org_id: org.parse().unwrap(),
                        username,
                        name: username,
                        email: "bench@example.com",
                        role_id: role.parse().unwrap(),
                        password: &password,
                    },
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .unwrap();
    let url = format!("http://{}/api/v1/auth/login", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();

    let login = |i: usize| {
        let client = client.clone();
        let url = url.clone();
        let password = password.clone();
        let username = users[i % users.len()].clone();
        async move {
            let t = Instant::now();
            let response = client
                .post(&url)
                .json(&LoginRequest {
                    username,
                    password,
                    device_id: DeviceId::from_uuid(uuid::Uuid::now_v7()),
                    device_key: None,
                    device_time: None,
                    device_proof: None,
                })
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            t.elapsed()
        }
    };

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
    // 16 in flight at a time: one address may run 20 password checks at once (the
    // per-address throttle), and the server hashes 4 at a time.
    let in_flight = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let in_flight = in_flight.clone();
            let attempt = login(i);
            tokio::spawn(async move {
                let _slot = in_flight.acquire_owned().await.unwrap();
                attempt.await
            })
        })
        .collect();
    let mut concurrent = Vec::with_capacity(n);
    for task in tasks {
        concurrent.push(task.await.unwrap());
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "HTTP login, 16 at once (4 hashes at a time), {n} logins: {rate:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
        percentile(&mut concurrent, 0.5),
        percentile(&mut concurrent, 0.99)
    );
}
