//! One seeded run of each kind, and the life they share.
//!
//! A [`Life`] is a server (the real binary, with the demo organisation) and one till's data
//! folder. Its runs take turns:
//! - a **till run** starts the headless till (`crash-till work`), lets it sign in, pull,
//!   sell, refund and push for a seeded random time, kills it with SIGKILL, and checks the
//!   store as the till finds it on its next start ([`crate::checks::check_till`]);
//! - a **server run** has the till sell a backlog offline-style (not pushed), starts a push
//!   (`crash-till settle`), kills the server at a seeded random moment, checks the server's
//!   database, starts the server again, lets the push finish and checks that every sale
//!   arrived exactly once;
//! - a **migration run** (its own folders) builds a till store as an older Tillpoint left
//!   it, full of products, and kills the till while it migrates.
//!
//! [`Life::settle`] ends a life: the till pushes everything, and the server must hold each of
//! its sales exactly once.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tempfile::TempDir;

use crate::checks::{check_delivered, check_server, check_till};
use crate::server_process::{sibling_binary, ServerProcess, DEMO_PASSWORD};

/// The demo user the headless till signs in as: an Administrator sells and refunds.
const USER: &str = "admin";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RunKind {
    Till,
    Server,
    Migration,
}

impl RunKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Till => "till",
            Self::Server => "server",
            Self::Migration => "migration",
        }
    }
}

/// What a run did and found.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub kind: RunKind,
    pub seed: u64,
    /// The operation in flight when the kill came (`between` if none).
    pub killed_during: String,
    /// What the checks read (counts), or why they failed.
    pub detail: String,
    pub ok: bool,
}

/// How long a run lets its victim work before the kill, at most.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub till_max: Duration,
    pub server_max: Duration,
    pub migration_max: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            till_max: Duration::from_millis(1500),
            server_max: Duration::from_millis(400),
            migration_max: Duration::from_millis(400),
        }
    }
}

pub struct Life {
    server: ServerProcess,
    till_dir: PathBuf,
    promised: BTreeSet<String>,
    timing: Timing,
    _dirs: (TempDir, TempDir),
}

impl Life {
    /// A new server with the demo organisation and `products` products, and a new till folder.
    pub fn begin(products: usize, timing: Timing) -> anyhow::Result<Self> {
        let server_dir = tempfile::tempdir()?;
        let till_dir = tempfile::tempdir()?;
        let server = ServerProcess::start_demo(server_dir.path(), products)?;
        Ok(Self {
            server,
            till_dir: till_dir.path().to_path_buf(),
            promised: BTreeSet::new(),
            timing,
            _dirs: (server_dir, till_dir),
        })
    }

    /// How many sales and refunds the till has promised so far.
    pub fn promised(&self) -> usize {
        self.promised.len()
    }

    fn till_command(&self) -> anyhow::Result<Command> {
        let mut command = Command::new(sibling_binary("crash-till", "TILLPOINT_CRASH_TILL_BIN")?);
        command
            .arg("--data-dir")
            .arg(&self.till_dir)
            .args(["--server", &self.server.url, "--user", USER])
            .env("TILLPOINT_CRASH_PASSWORD", DEMO_PASSWORD)
            .stdin(Stdio::null());
        Ok(command)
    }

    /// Kills the till at a seeded random moment of its work, then checks its store.
    pub fn till_run(&mut self, seed: u64) -> RunOutcome {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let from_start = rng.random_bool(0.15);
        let delay = random_delay(&mut rng, self.timing.till_max);
        let result = (|| -> anyhow::Result<(String, String)> {
            let mut victim = Victim::spawn(
                self.till_command()?
                    .args(["work", "--seed", &seed.to_string()]),
                &self.till_dir,
            )?;
            // Most kills fall in the selling; some from the very start (opening the store,
            // signing in).
            if from_start {
                victim.wait_for("its first line", |_| true)?;
            } else {
                victim.wait_for("sign-in", |l| l.starts_with("done sign-in"))?;
            }
            std::thread::sleep(delay);
            let lines = victim.kill()?;
            let during = in_flight(&lines);
            self.promised.extend(promises(&lines));
            let facts = check_till(&self.till_dir, &self.promised)?;
            Ok((
                during,
                format!(
                    "after {delay:?}: journal {}, sales {}, pending {}",
                    facts.journal_records, facts.sales, facts.pending
                ),
            ))
        })();
        outcome(RunKind::Till, seed, result)
    }

    /// Kills the server at a seeded random moment of a push, then checks its store, starts it
    /// again and checks that the push completes with every sale once.
    pub fn server_run(&mut self, seed: u64) -> RunOutcome {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let backlog = rng.random_range(20..=80);
        let delay = random_delay(&mut rng, self.timing.server_max);
        let result = (|| -> anyhow::Result<(String, String)> {
            let sold = self
                .till_command()?
                .args(["sell", "--seed", &seed.to_string(), "--count"])
                .arg(backlog.to_string())
                .stderr(Stdio::inherit())
                .output()?;
            ensure!(sold.status.success(), "the till could not sell its backlog");
            let said: Vec<String> = String::from_utf8_lossy(&sold.stdout)
                .lines()
                .map(String::from)
                .collect();
            let backlog_sold = promises(&said).count();
            if backlog_sold == 0 {
                let refusals: BTreeSet<&String> =
                    said.iter().filter(|l| l.starts_with("refused")).collect();
                bail!("the till sold none of its backlog of {backlog}: {refusals:?}");
            }
            self.promised.extend(promises(&said));

            let mut pusher = Victim::spawn(self.till_command()?.arg("settle"), &self.till_dir)?;
            pusher.wait_for("the push", |l| l == "begin push")?;
            std::thread::sleep(delay);
            let during = if pusher.lines().iter().any(|l| l.starts_with("done push")) {
                "after-ingest"
            } else {
                "ingest"
            };
            if let Some(status) = self.server.exited() {
                bail!("the server died by itself: {status}");
            }
            self.server.kill()?;
            let killed = check_server(&self.server.database()).context("after the kill")?;
            self.server.start()?;
            let lines = pusher.wait(Duration::from_secs(120))?;
            self.promised.extend(promises(&lines));
            let settled = check_server(&self.server.database()).context("after the push")?;
            let delivered = check_delivered(&self.till_dir, &self.server.database())?;
            Ok((
                during.into(),
                format!(
                    "backlog {backlog_sold} of {backlog}, after {delay:?}: records {} at the kill, {} after; {delivered} sales delivered once",
                    killed.records, settled.records
                ),
            ))
        })();
        outcome(RunKind::Server, seed, result)
    }

    /// The till pushes everything; the server must then hold each of its sales once.
    pub fn settle(&mut self) -> anyhow::Result<u64> {
        let settle = self
            .till_command()?
            .arg("settle")
            .stderr(Stdio::inherit())
            .output()?;
        ensure!(
            settle.status.success(),
            "the till could not push everything"
        );
        check_server(&self.server.database())?;
        check_till(&self.till_dir, &self.promised)?;
        check_delivered(&self.till_dir, &self.server.database())
    }
}

/// Builds a store as an older Tillpoint left it (a seeded number of the migrations, and
/// `products` products), kills the till while it migrates, and checks the store it reopens.
pub fn migration_run(seed: u64, products: usize, timing: Timing) -> RunOutcome {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let migrations = tillpoint_core::LocalStore::migrations();
    let applied = rng.random_range(1..migrations.len());
    let delay = random_delay(&mut rng, timing.migration_max);
    let result = (|| -> anyhow::Result<(String, String)> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(tillpoint_core::store::STORE_FILE);
        {
            let mut conn = tillpoint_sqlite::open(&path)?;
            tillpoint_sqlite::migrate(&mut conn, &path, &migrations[..applied])?;
            fill_catalog(&mut conn, products)?;
        }
        let mut command = Command::new(sibling_binary("crash-till", "TILLPOINT_CRASH_TILL_BIN")?);
        command
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--server", "http://127.0.0.1:9", "--user", USER, "migrate"])
            .env("TILLPOINT_CRASH_PASSWORD", DEMO_PASSWORD);
        let mut victim = Victim::spawn(&mut command, dir.path())?;
        victim.wait_for("the migration", |l| l == "begin migrate")?;
        std::thread::sleep(delay);
        let lines = victim.kill()?;
        let at_kill = {
            let conn = rusqlite::Connection::open(&path)?;
            tillpoint_sqlite::schema_version(&conn)?
        };
        let during = if lines.iter().any(|l| l == "done migrate") {
            "after-migrate".to_string()
        } else {
            format!("migrate {applied}->{}", migrations.len())
        };
        let store = tillpoint_core::LocalStore::open(dir.path()).context("the store reopens")?;
        ensure!(
            store.schema_version()? == tillpoint_core::LocalStore::known_schema_version(),
            "the reopened store is not at this build's schema"
        );
        let kept = store.product_count()?;
        ensure!(
            kept == products as u64,
            "{kept} of {products} products survived the migration"
        );
        drop(store);
        check_till(dir.path(), &BTreeSet::new())?;
        Ok((
            during,
            format!("from schema {applied}, at the kill {at_kill}, after {delay:?}; {kept} products kept"),
        ))
    })();
    outcome(RunKind::Migration, seed, result)
}

/// `products` products (and their tax class) into a store at schema 1 or later.
fn fill_catalog(conn: &mut rusqlite::Connection, products: usize) -> anyhow::Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO tax_classes (id, code, name, rate_bp) VALUES ('vat', 'standard', 'VAT 15%', 1500)",
        (),
    )?;
    {
        let mut product = tx.prepare(
            "INSERT INTO products (id, sku, name, unit, tax_class_id, price_minor, currency, updated_at)
             VALUES (?1, ?2, ?3, 'each', 'vat', ?4, 'USD', '2026-01-01T00:00:00Z')",
        )?;
        let mut barcode =
            tx.prepare("INSERT INTO barcodes (barcode, product_id) VALUES (?1, ?2)")?;
        for n in 0..products {
            let id = format!("p{n:07}");
            product.execute(rusqlite::params![
                id,
                format!("SKU{n}"),
                format!("Product number {n}"),
                100 + n as i64
            ])?;
            barcode.execute(rusqlite::params![format!("2{n:011}"), id])?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn random_delay(rng: &mut ChaCha8Rng, max: Duration) -> Duration {
    Duration::from_micros(rng.random_range(0..=max.as_micros() as u64))
}

fn outcome(kind: RunKind, seed: u64, result: anyhow::Result<(String, String)>) -> RunOutcome {
    match result {
        Ok((killed_during, detail)) => RunOutcome {
            kind,
            seed,
            killed_during,
            detail,
            ok: true,
        },
        Err(err) => RunOutcome {
            kind,
            seed,
            killed_during: "-".into(),
            detail: format!("{err:#}"),
            ok: false,
        },
    }
}

/// The ids of the sales and refunds the till reported committed.
fn promises(lines: &[String]) -> impl Iterator<Item = String> + '_ {
    lines.iter().filter_map(|line| {
        line.strip_prefix("done sale ")
            .or_else(|| line.strip_prefix("done refund "))
            .map(str::to_owned)
    })
}

/// The operation begun and not ended when the lines stop.
fn in_flight(lines: &[String]) -> String {
    let mut open: Option<&str> = None;
    for line in lines {
        let mut words = line.split(' ');
        match (words.next(), words.next()) {
            (Some("begin"), Some(op)) => open = Some(op),
            (Some("done" | "refused"), Some(op)) if open == Some(op) => open = None,
            // `done sale`/`done refund` end a checkout/refund.
            (Some("done"), Some("sale")) if open == Some("checkout") => open = None,
            _ => {}
        }
    }
    open.unwrap_or("between").to_string()
}

/// A child process whose stdout lines are collected as they come, so it never blocks on a
/// full pipe and the driver can read what it promised after killing it.
struct Victim {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    log: PathBuf,
}

impl Victim {
    fn spawn(command: &mut Command, dir: &Path) -> anyhow::Result<Self> {
        let log = dir.join("crash-till.log");
        let stderr = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&log)?;
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .context("starting crash-till")?;
        let stdout = child.stdout.take().expect("piped");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        // Only whole lines count: one cut by the kill is no promise.
        let reader = std::thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            let mut line = String::new();
            while matches!(stdout.read_line(&mut line), Ok(n) if n > 0) {
                if let Some(whole) = line.strip_suffix('\n') {
                    sink.lock().expect("lines").push(whole.to_owned());
                }
                line.clear();
            }
        });
        Ok(Self {
            child,
            lines,
            reader: Some(reader),
            log,
        })
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    /// Waits until it has written a line `wanted` accepts (60 s at most).
    fn wait_for(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.lines.lock().expect("lines").iter().any(|l| wanted(l)) {
            self.died_by_itself()?;
            ensure!(
                self.child.try_wait()?.is_none(),
                "crash-till ended before {what}"
            );
            ensure!(
                Instant::now() < deadline,
                "crash-till did not reach {what} in 60 s"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    fn died_by_itself(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            if !status.success() {
                bail!(
                    "crash-till failed by itself ({status}): {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
        }
        Ok(())
    }

    /// SIGKILL, then every complete line it wrote.
    fn kill(mut self) -> anyhow::Result<Vec<String>> {
        self.died_by_itself()?;
        self.child.kill()?;
        self.child.wait()?;
        self.finish()
    }

    /// Waits for it to end by itself (successfully) within `limit`.
    fn wait(mut self, limit: Duration) -> anyhow::Result<Vec<String>> {
        let deadline = Instant::now() + limit;
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                self.child.kill()?;
                bail!("crash-till did not finish in {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.died_by_itself()?;
        self.finish()
    }

    fn finish(mut self) -> anyhow::Result<Vec<String>> {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        Ok(self.lines())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn the_operation_cut_is_the_last_one_begun_and_not_ended() {
        assert_eq!(in_flight(&lines("begin open-store")), "open-store");
        assert_eq!(
            in_flight(&lines("begin checkout\ndone sale s1\nbegin push")),
            "push"
        );
        assert_eq!(in_flight(&lines("begin checkout\ndone sale s1")), "between");
        assert_eq!(
            in_flight(&lines("begin refund\nrefused refund not_refundable")),
            "between"
        );
    }

    #[test]
    fn only_committed_sales_and_refunds_are_promises() {
        let said = lines("begin checkout\ndone sale s1\nbegin refund\ndone refund r1\ndone push 1 0 0 0\nbegin checkout");
        assert_eq!(promises(&said).collect::<Vec<_>>(), ["s1", "r1"]);
    }
}
