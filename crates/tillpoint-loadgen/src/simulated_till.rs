//! One simulated till: the real `tillpoint-core` till (what the desktop app runs, without a
//! window), with its own data folder, store and device key, doing what a till at a busy
//! counter does: sign in, pull the catalog, open the drawer, go offline under the grant, sell,
//! then come back online to push and pull.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tillpoint_core::sales::till_session::CountInput;
use tillpoint_core::sales::{CheckoutInput, PaymentRequest};
use tillpoint_core::sign_in::session::SignInError;
use tillpoint_core::sync::{PushOptions, SyncError};
use tillpoint_core::Till;
use tillpoint_protocol::sales::TenderMethod;

use crate::latencies::Latencies;

pub struct SimulatedTill {
    till: Till,
    username: String,
    password: String,
    /// Products it sells from: active, in USD, sold by the unit.
    products: Vec<String>,
    /// Sign-ins tried again (see `sign_in_patiently`).
    pub sign_in_retries: u64,
    pub sales: u64,
    pub sales_total_minor: i64,
}

impl SimulatedTill {
    /// Signs in online, pulls the catalog (returning how long that took), opens the drawer
    /// and unlocks offline under the grant it was given.
    pub async fn prepare(
        data_dir: PathBuf,
        server_url: &str,
        username: &str,
        password: &str,
    ) -> anyhow::Result<(Self, Duration)> {
        let till = tillpoint_headless::open_till(&data_dir, server_url)?;
        let mut sign_in_retries = 0;
        sign_in_patiently(&till, username, password, &mut sign_in_retries)
            .await
            .context("online sign-in")?;
        let started = Instant::now();
        till.pull_catalog(|_| {}).await.context("catalog pull")?;
        let pulled = started.elapsed();
        till.open_till(&[CountInput {
            currency: "USD".into(),
            tender: TenderMethod::Cash,
            amount: "100.00".into(),
        }])
        .context("opening the drawer")?;
        till.unlock_offline(username, password)
            .await
            .context("unlocking offline under the grant")?;
        let products: Vec<String> = till.store().with_conn(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id FROM products WHERE active = 1 AND currency = 'USD' AND unit = 'each'
                 ORDER BY id LIMIT 1000",
            )?;
            let ids = stmt.query_map((), |r| r.get(0))?;
            ids.collect::<rusqlite::Result<Vec<String>>>()
        })??;
        if products.is_empty() {
            bail!("the catalog has no USD products sold by the unit");
        }
        Ok((
            Self {
                till,
                username: username.to_owned(),
                password: password.to_owned(),
                products,
                sign_in_retries,
                sales: 0,
                sales_total_minor: 0,
            },
            pulled,
        ))
    }

    /// `count` sales of one unit each, paid exactly in cash; the time each checkout took.
    pub async fn sell(&mut self, count: u64, seed: u64) -> anyhow::Result<Latencies> {
        let mut latencies = Latencies::default();
        for i in 0..count {
            let product = &self.products[((seed + i) as usize * 7919) % self.products.len()];
            let started = Instant::now();
            self.till
                .cart_add(product, Some("1"))
                .context("ringing up")?;
            let total = self.till.pos_state()?.cart.total_minor;
            let input = CheckoutInput {
                payments: vec![PaymentRequest {
                    method: TenderMethod::Cash,
                    currency: "USD".into(),
                    amount: format!("{}.{:02}", total / 100, total % 100),
                    reference: None,
                }],
                change_currency: "USD".into(),
            };
            self.till.checkout(&input).await.context("checkout")?;
            latencies.push(started.elapsed());
            self.sales += 1;
            self.sales_total_minor += total;
        }
        Ok(latencies)
    }

    /// Back online: signs in, as the cashier does before the backlog can go up.
    pub async fn sign_back_in(&mut self) -> anyhow::Result<()> {
        sign_in_patiently(
            &self.till,
            &self.username,
            &self.password,
            &mut self.sign_in_retries,
        )
        .await
        .context("online sign-in to push")
    }

    /// Pushes everything pending in batches of `batch` records, each sent as soon as the last
    /// is answered: the time between one answered batch and the next (each batch's round
    /// trip, the server's ingest included), the records the server answered for, and how
    /// many times it tried again.
    pub async fn push(&self, batch: usize) -> anyhow::Result<(Latencies, u64, u64)> {
        let mut latencies = Latencies::default();
        let mut retries = 0;
        let options = PushOptions {
            batch_size: batch,
            ..PushOptions::default()
        };
        let answered = self
            .push_patiently(options, &mut retries, |took| latencies.push(took))
            .await?;
        Ok((latencies, answered, retries))
    }

    /// Pushes one batch of `batch` records at `first`, then one every `every`, until nothing
    /// is pending: an open-loop load, as tills that sell and sync on their own clocks bring
    /// it, rather than each sending again the moment it is answered. A batch's time runs
    /// from when it was due, not from when it could be sent, so a till that fell behind
    /// schedule counts the wait. Answers as [`SimulatedTill::push`].
    pub async fn push_on_schedule(
        &self,
        batch: usize,
        first: tokio::time::Instant,
        every: Duration,
    ) -> anyhow::Result<(Latencies, u64, u64)> {
        let mut latencies = Latencies::default();
        let (mut answered, mut retries) = (0, 0);
        let options = PushOptions {
            batch_size: batch,
            most_batches: Some(1),
            ..PushOptions::default()
        };
        let mut due = first;
        loop {
            tokio::time::sleep_until(due).await;
            let mut batches = 0;
            answered += self
                .push_patiently(options, &mut retries, |_| batches += 1)
                .await?;
            if batches == 0 {
                return Ok((latencies, answered, retries));
            }
            latencies.push(due.elapsed());
            due += every;
        }
    }

    /// Pushes what is pending with `options`, trying again after a second when the server is
    /// unreachable or answers 5xx, as the till's sync loop does (the records stay pending
    /// meanwhile; `retries` counts the tries again). `answered_batch` hears of each answered
    /// batch, with the time since the try began or the last batch was answered. Answers the
    /// records the server answered for.
    async fn push_patiently(
        &self,
        options: PushOptions,
        retries: &mut u64,
        mut answered_batch: impl FnMut(Duration),
    ) -> anyhow::Result<u64> {
        const MOST_RETRIES: u64 = 120;
        let mut answered = 0;
        loop {
            let mut last = Instant::now();
            let mut answered_now = 0;
            let pushed = self
                .till
                .push_outbox_with(options, |progress| {
                    answered_batch(last.elapsed());
                    last = Instant::now();
                    answered_now = progress.answered;
                })
                .await;
            answered += answered_now;
            match pushed {
                Ok(_) => return Ok(answered),
                Err(SyncError::ServerUnreachable | SyncError::Server(_))
                    if *retries < MOST_RETRIES =>
                {
                    *retries += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(err) => return Err(anyhow::Error::from(err).context("push")),
            }
        }
    }

    /// Pulls what changed since its last pull; how long that took.
    pub async fn pull(&self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        self.till.pull_catalog(|_| {}).await.context("pull")?;
        Ok(started.elapsed())
    }

    pub fn unsynced(&self) -> anyhow::Result<u64> {
        Ok(self.till.unsynced_count()?)
    }
}

/// Signs in online; when the server says to wait (its sign-in throttle counts attempts per
/// client address, and every simulated till shares one; or it is busy hashing) or does not
/// answer in time (a hundred tills on two cores), waits and tries again, as a cashier would.
/// Counts the retries in `retries`.
async fn sign_in_patiently(
    till: &Till,
    username: &str,
    password: &str,
    retries: &mut u64,
) -> anyhow::Result<()> {
    const MOST_RETRIES: u64 = 120;
    loop {
        let wait_secs = match till.sign_in(username, password).await {
            Ok(_) => return Ok(()),
            Err(
                SignInError::RateLimited { retry_after_secs }
                | SignInError::Unavailable { retry_after_secs },
            ) => retry_after_secs,
            Err(SignInError::ServerUnreachable) => 1,
            Err(err) => return Err(err.into()),
        };
        *retries += 1;
        if *retries > MOST_RETRIES {
            bail!("still refused after {MOST_RETRIES} tries");
        }
        // Spread the retries so a crowd does not come back at the same instant.
        let spread = u64::from(uuid::Uuid::now_v7().as_fields().1) % 500;
        tokio::time::sleep(Duration::from_millis(wait_secs * 1000 + spread)).await;
    }
}
