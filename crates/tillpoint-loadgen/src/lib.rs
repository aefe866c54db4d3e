//! `tillpoint-loadgen`: N simulated tills, each the real till core with its own store and
//! device key, against one or more server instances. Each phase starts for every till at
//! once:
//!
//! 1. sign in online and pull the catalog (the "many tills pull a large catalog" figure);
//! 2. open the drawer, go offline under the grant and sell (no network);
//! 3. come back online and push the backlog in batches (ingest rate, batch latencies): each
//!    till sends its next batch the moment the last is answered, or, with a push rate, the
//!    tills between them offer that many records a second, each on its own schedule;
//! 4. pull what changed.
//!
//! Then a reconciliation read from the server's own database: sales made = sales on the
//! server, money and stock equal, nothing quarantined, nothing left unsent. Results and how
//! they were run: docs/benchmarks.md.

pub mod latencies;
pub mod org_setup;
pub mod server_books;
pub mod simulated_till;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};

use latencies::Latencies;
use org_setup::AdminSession;
use server_books::{Books, ServerBooks};
use simulated_till::SimulatedTill;
use tillpoint_server::store::DatabaseUrl;

pub struct Options {
    /// The instances; till `i` talks to `servers[i % len]`.
    pub servers: Vec<String>,
    /// The server's database, read for the reconciliation.
    pub database: DatabaseUrl,
    pub tills: usize,
    pub sales_per_till: u64,
    pub batch: usize,
    /// Records a second the tills offer between them when pushing (`None`: each sends its
    /// next batch as soon as the last is answered).
    pub push_rate: Option<f64>,
    /// Who the tills sign in as when there is no administrator to give each its own cashier.
    pub username: String,
    pub password: String,
    /// An administrator of the same organisation: raises its offline limits first and creates
    /// a cashier for each till (named after the run, with `password`).
    pub admin: Option<(String, String)>,
    /// Where the tills' data folders go (each run in a fresh one).
    pub work_dir: PathBuf,
}

#[derive(Debug)]
pub struct Report {
    pub tills: usize,
    pub instances: usize,
    pub catalog_pull: Latencies,
    pub catalog_pull_wall: Duration,
    pub checkout: Latencies,
    pub selling_wall: Duration,
    pub push_batches: Latencies,
    pub push_wall: Duration,
    /// The rate the push was offered at and how often each till's batch was due, if it was
    /// paced.
    pub push_pace: Option<(f64, Duration)>,
    pub pushed_records: u64,
    /// Pushes tried again after no answer or a 5xx (the till's sync loop does the same).
    pub push_retries: u64,
    pub pull: Latencies,
    /// Sign-ins tried again after 'wait', 'busy' or no answer in time.
    pub sign_in_retries: u64,
    pub made_sales: u64,
    pub made_total_minor: i64,
    pub server: Books,
    pub unsent: u64,
}

impl Report {
    /// Whether the books reconcile: everything sold is on the server exactly once.
    pub fn reconciles(&self) -> bool {
        self.server.sales == self.made_sales as i64
            && self.server.sales_total_minor == self.made_total_minor
            && self.server.stock_moved_milli == -(self.made_sales as i64) * 1000
            && self.server.on_hand_milli == self.server.stock_moved_milli
            && self.server.quarantined == 0
            && self.unsent == 0
    }

    pub fn ingest_per_sec(&self) -> f64 {
        self.pushed_records as f64 / self.push_wall.as_secs_f64().max(1e-9)
    }

    pub fn print(&self) {
        let secs = |d: Duration| d.as_secs_f64();
        println!(
            "tills {} on {} instance(s), {} sales each",
            self.tills,
            self.instances,
            self.made_sales / self.tills.max(1) as u64
        );
        println!(
            "sign-ins tried again (throttled: one client address for every till; busy; no answer in 5 s): {}",
            self.sign_in_retries
        );
        println!(
            "catalog pull, all at once: wall {:.2} s; per till {}",
            secs(self.catalog_pull_wall),
            self.catalog_pull.summary()
        );
        println!(
            "offline selling: {} sales in {:.2} s ({:.0} sales/s over all tills); checkout {}",
            self.made_sales,
            secs(self.selling_wall),
            self.made_sales as f64 / secs(self.selling_wall).max(1e-9),
            self.checkout.summary()
        );
        let offered = match self.push_pace {
            Some((rate, every)) => format!(
                "offered at {rate:.0} records/s, each till one batch every {:.2} s, times from when each was due",
                secs(every)
            ),
            None => "each till sending again as soon as answered".to_owned(),
        };
        println!(
            "push ({offered}): {} records in {:.2} s = {:.0} records/s; per batch {}; {} pushes tried again after no answer or a 5xx",
            self.pushed_records,
            secs(self.push_wall),
            self.ingest_per_sec(),
            self.push_batches.summary(),
            self.push_retries
        );
        println!("pull after push: {}", self.pull.summary());
        println!(
            "reconciliation: made {} sales / {} minor; server +{} sales / +{} minor, stock moved {} milli, levels moved {} milli, {} records, {} quarantined; {} unsent on tills: {}",
            self.made_sales,
            self.made_total_minor,
            self.server.sales,
            self.server.sales_total_minor,
            self.server.stock_moved_milli,
            self.server.on_hand_milli,
            self.server.records,
            self.server.quarantined,
            self.unsent,
            if self.reconciles() { "OK" } else { "MISMATCH" }
        );
    }
}

/// Runs every till through every phase, each phase at once for all tills.
pub async fn run(options: &Options) -> anyhow::Result<Report> {
    ensure!(!options.servers.is_empty(), "name at least one server");
    ensure!(options.tills >= 1, "at least one till");
    ensure!(
        options
            .push_rate
            .is_none_or(|rate| rate.is_finite() && rate > 0.0),
        "a push rate is a number of records a second above zero"
    );
    let cashiers = match &options.admin {
        Some((admin, password)) => {
            let session = AdminSession::sign_in(&options.servers[0], admin, password).await?;
            session.raise_offline_limits(100_000_000_000).await?;
            let prefix = format!("load-{}", uuid::Uuid::now_v7().simple());
            session
                .create_cashiers(&prefix, options.tills, &options.password)
                .await?
        }
        None => vec![options.username.clone(); options.tills],
    };
    let books = {
        let (url, user) = (options.database.clone(), cashiers[0].clone());
        tokio::task::spawn_blocking(move || ServerBooks::open(&url, &user)).await??
    };
    let books = std::sync::Arc::new(books);
    let before = read_books(&books).await?;
    std::fs::create_dir_all(&options.work_dir).context("the work folder")?;

    // 1. Sign in and pull, all at once.
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (i, user) in cashiers.iter().enumerate() {
        let dir = options.work_dir.join(format!("till-{i:03}"));
        let server = options.servers[i % options.servers.len()].clone();
        let (user, password) = (user.clone(), options.password.clone());
        set.spawn(async move {
            let prepared = SimulatedTill::prepare(dir, &server, &user, &password).await;
            (i, prepared)
        });
    }
    let mut tills: Vec<Option<SimulatedTill>> = (0..options.tills).map(|_| None).collect();
    let mut catalog_pull = Latencies::default();
    while let Some(joined) = set.join_next().await {
        let (i, prepared) = joined?;
        let (till, pulled) = prepared.with_context(|| format!("till {i}"))?;
        catalog_pull.push(pulled);
        tills[i] = Some(till);
    }
    let catalog_pull_wall = started.elapsed();
    let mut tills: Vec<SimulatedTill> = tills.into_iter().map(|t| t.expect("prepared")).collect();

    // 2. Offline selling, all at once.
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (i, mut till) in tills.drain(..).enumerate() {
        let count = options.sales_per_till;
        set.spawn(async move {
            let sold = till.sell(count, i as u64 * 1_000_003).await;
            (i, till, sold)
        });
    }
    let (mut back, mut checkout) = (Vec::new(), Latencies::default());
    while let Some(joined) = set.join_next().await {
        let (i, till, sold) = joined?;
        checkout.extend(sold.with_context(|| format!("till {i} selling"))?);
        back.push((i, till));
    }
    let selling_wall = started.elapsed();
    back.sort_by_key(|(i, _)| *i);

    // 3. Back online: sign in (not timed: the sign-in figures are cargo bench's), then push,
    //    all at once.
    let mut set = tokio::task::JoinSet::new();
    for (i, mut till) in back {
        set.spawn(async move {
            let signed_in = till.sign_back_in().await;
            (i, till, signed_in)
        });
    }
    let mut back = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (i, till, signed_in) = joined?;
        signed_in.with_context(|| format!("till {i}"))?;
        back.push((i, till));
    }
    back.sort_by_key(|(i, _)| *i);
    let tills: Vec<std::sync::Arc<SimulatedTill>> = back
        .into_iter()
        .map(|(_, t)| std::sync::Arc::new(t))
        .collect();
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    // Paced: till i's batches are due every `every`, the tills' schedules spread evenly
    // over it, so the offered rate is steady rather than a hundred batches at each tick.
    let every = options
        .push_rate
        .map(|rate| Duration::from_secs_f64(options.tills as f64 * options.batch as f64 / rate));
    let start = tokio::time::Instant::now();
    for (i, till) in tills.iter().enumerate() {
        let (till, batch) = (till.clone(), options.batch);
        match every {
            Some(every) => {
                let first = start + every.mul_f64(i as f64 / options.tills as f64);
                set.spawn(async move { (i, till.push_on_schedule(batch, first, every).await) });
            }
            None => {
                set.spawn(async move { (i, till.push(batch).await) });
            }
        }
    }
    let (mut push_batches, mut pushed_records, mut push_retries) = (Latencies::default(), 0, 0);
    while let Some(joined) = set.join_next().await {
        let (i, pushed) = joined?;
        let (latencies, answered, retries) = pushed.with_context(|| format!("till {i} pushing"))?;
        push_batches.extend(latencies);
        pushed_records += answered;
        push_retries += retries;
    }
    let push_wall = started.elapsed();

    // 4. Pull, all at once.
    let mut set = tokio::task::JoinSet::new();
    for (i, till) in tills.iter().enumerate() {
        let till = till.clone();
        set.spawn(async move { (i, till.pull().await) });
    }
    let mut pull = Latencies::default();
    while let Some(joined) = set.join_next().await {
        let (i, pulled) = joined?;
        pull.push(pulled.with_context(|| format!("till {i} pulling"))?);
    }

    let after = read_books(&books).await?;
    let mut unsent = 0;
    for till in &tills {
        unsent += till.unsynced()?;
    }
    Ok(Report {
        tills: options.tills,
        push_pace: options.push_rate.zip(every),
        instances: options.servers.len(),
        catalog_pull,
        catalog_pull_wall,
        checkout,
        selling_wall,
        push_batches,
        push_wall,
        pushed_records,
        pull,
        push_retries,
        sign_in_retries: tills.iter().map(|t| t.sign_in_retries).sum(),
        made_sales: tills.iter().map(|t| t.sales).sum(),
        made_total_minor: tills.iter().map(|t| t.sales_total_minor).sum(),
        server: after - before,
        unsent,
    })
}

async fn read_books(books: &std::sync::Arc<ServerBooks>) -> anyhow::Result<Books> {
    let books = books.clone();
    tokio::task::spawn_blocking(move || books.read()).await?
}
