//! Many seeded runs in a row, and their tally: what `scripts/crash.sh` and the CI test run.
//!
//! Run `i` of a campaign with seed `S` has seed `S + i`; its kind follows `i`: seven in ten
//! kill the till, two the server, one a migration. A life (one server, one till) lasts
//! `runs_per_life` till and server runs and ends settled: the till pushes everything and the
//! server must hold each of its sales once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::runs::{migration_run, Life, RunKind, RunOutcome, Timing};

#[derive(Debug, Clone)]
pub struct CampaignConfig {
    pub runs: u32,
    pub seed: u64,
    pub runs_per_life: u32,
    /// Products in the demo catalog (the till pulls them).
    pub products: usize,
    /// Products in the store a migration run migrates: enough to make the migration last.
    pub store_products: usize,
    pub timing: Timing,
}

#[derive(Debug, Default)]
pub struct Tally {
    pub outcomes: Vec<RunOutcome>,
    /// Per life settled: the sales it delivered, each found once on the server; or why not.
    pub lives: Vec<Result<u64, String>>,
    pub elapsed: Duration,
}

impl Tally {
    pub fn failures(&self) -> impl Iterator<Item = &RunOutcome> {
        self.outcomes.iter().filter(|o| !o.ok)
    }

    pub fn passed(&self) -> bool {
        self.failures().next().is_none() && self.lives.iter().all(Result::is_ok)
    }

    /// Runs by kind and by the operation the kill cut.
    pub fn matrix(&self) -> BTreeMap<(RunKind, String), u32> {
        let mut matrix = BTreeMap::new();
        for outcome in self.outcomes.iter().filter(|o| o.ok) {
            *matrix
                .entry((outcome.kind, outcome.killed_during.clone()))
                .or_insert(0) += 1;
        }
        matrix
    }
}

pub fn kind_of(run: u32) -> RunKind {
    match run % 10 {
        0..=6 => RunKind::Till,
        7 | 8 => RunKind::Server,
        _ => RunKind::Migration,
    }
}

/// Runs the campaign, reporting each outcome to `report` as it comes.
pub fn run_campaign(config: &CampaignConfig, mut report: impl FnMut(u32, &RunOutcome)) -> Tally {
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut life: Option<Life> = None;
    let mut life_runs = 0;
    for run in 0..config.runs {
        let seed = config.seed.wrapping_add(u64::from(run));
        let kind = kind_of(run);
        let outcome = if kind == RunKind::Migration {
            migration_run(seed, config.store_products, config.timing)
        } else {
            if life.is_none() {
                match Life::begin(config.products, config.timing) {
                    Ok(new) => life = Some(new),
                    Err(err) => {
                        tally
                            .lives
                            .push(Err(format!("the life did not begin: {err:#}")));
                        break;
                    }
                }
            }
            let current = life.as_mut().expect("a life");
            life_runs += 1;
            match kind {
                RunKind::Till => current.till_run(seed),
                _ => current.server_run(seed),
            }
        };
        report(run, &outcome);
        tally.outcomes.push(outcome);
        if life_runs >= config.runs_per_life {
            if let Some(mut ended) = life.take() {
                tally
                    .lives
                    .push(ended.settle().map_err(|e| format!("{e:#}")));
            }
            life_runs = 0;
        }
    }
    if let Some(mut ended) = life.take() {
        tally
            .lives
            .push(ended.settle().map_err(|e| format!("{e:#}")));
    }
    tally.elapsed = started.elapsed();
    tally
}
