//! The headless till the crash runs kill: `crash-till --data-dir D --server URL --user U
//! <work|sell|settle|migrate>`, the password in `TILLPOINT_CRASH_PASSWORD`. What each command
//! does is in `tillpoint_crash::headless_till`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tillpoint_crash::headless_till::{self, TillArgs};

#[derive(Parser)]
struct Cli {
    #[arg(long)]
    data_dir: PathBuf,
    #[arg(long)]
    server: String,
    #[arg(long)]
    user: String,
    #[arg(long, env = "TILLPOINT_CRASH_PASSWORD", hide_env_values = true)]
    password: String,
    #[command(subcommand)]
    command: Job,
}

#[derive(Subcommand)]
enum Job {
    /// Sell, refund, push and pull in a seeded order until killed (or `--ops` operations).
    Work {
        #[arg(long)]
        seed: u64,
        #[arg(long)]
        ops: Option<u32>,
    },
    /// Sell `--count` sales without pushing them.
    Sell {
        #[arg(long)]
        seed: u64,
        #[arg(long)]
        count: u32,
    },
    /// Push until nothing is pending, waiting out a server that is down for up to 90 s.
    Settle,
    /// Open the store, migrating it.
    Migrate,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let args = TillArgs {
        data_dir: cli.data_dir,
        server_url: cli.server,
        username: cli.user,
        password: cli.password,
    };
    let result = match cli.command {
        Job::Work { seed, ops } => headless_till::work(&args, seed, ops).await,
        Job::Sell { seed, count } => headless_till::sell(&args, seed, count).await,
        Job::Settle => headless_till::settle(&args, Duration::from_secs(90)).await,
        Job::Migrate => headless_till::migrate(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("crash-till: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
