//! `crash --runs 1000 --seed 1`: a crash campaign (`tillpoint_crash::campaign`), one line per
//! run, then the matrix of kills by kind and operation. Exits 1 if any run or life failed;
//! a failed run's seed and the campaign's are printed, so `--seed` reruns the same campaign.

use std::time::Duration;

use clap::Parser;
use tillpoint_crash::campaign::{run_campaign, CampaignConfig};
use tillpoint_crash::runs::Timing;

#[derive(Parser)]
struct Cli {
    #[arg(long, default_value_t = 1000)]
    runs: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value_t = 50)]
    runs_per_life: u32,
    #[arg(long, default_value_t = 500)]
    products: usize,
    /// Products in the store a migration run migrates.
    #[arg(long, default_value_t = 20_000)]
    store_products: usize,
    /// The longest a till works before the kill, in milliseconds.
    #[arg(long, default_value_t = 1500)]
    till_max_ms: u64,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = CampaignConfig {
        runs: cli.runs,
        seed: cli.seed,
        runs_per_life: cli.runs_per_life,
        products: cli.products,
        store_products: cli.store_products,
        timing: Timing {
            till_max: Duration::from_millis(cli.till_max_ms),
            ..Timing::default()
        },
    };
    println!(
        "crash campaign: {} runs from seed {}, {} runs per life, {} products",
        config.runs, config.seed, config.runs_per_life, config.products
    );
    let tally = run_campaign(&config, |run, o| {
        println!(
            "run {run:>5} {:<9} seed {:<8} {:<5} killed during {:<16} {}",
            o.kind.name(),
            o.seed,
            if o.ok { "ok" } else { "FAIL" },
            o.killed_during,
            o.detail
        );
    });
    println!("\nkills by kind and by the operation in flight:");
    for ((kind, during), count) in tally.matrix() {
        println!("  {:<9} {:<20} {count}", kind.name(), during);
    }
    for (n, life) in tally.lives.iter().enumerate() {
        match life {
            Ok(sales) => println!("life {n}: settled, {sales} sales each on the server once"),
            Err(err) => println!("life {n}: FAILED: {err}"),
        }
    }
    let failures: Vec<_> = tally.failures().collect();
    println!(
        "\n{} runs, {} failed, {} lives, in {:.0?} (campaign seed {})",
        tally.outcomes.len(),
        failures.len(),
        tally.lives.len(),
        tally.elapsed,
        config.seed
    );
    for failure in &failures {
        println!(
            "FAILED {} seed {}: {}",
            failure.kind.name(),
            failure.seed,
            failure.detail
        );
    }
    if tally.passed() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
