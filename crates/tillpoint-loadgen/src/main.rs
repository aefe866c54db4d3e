//! The load generator's command line. `scripts/loadgen.sh` starts the servers it drives.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "tillpoint-loadgen",
    about = "Simulated tills (the real till core) against one or more Tillpoint servers"
)]
struct Cli {
    /// A server instance's URL; repeat for several (tills are spread over them in turn)
    #[arg(long = "server", required = true)]
    servers: Vec<String>,
    /// The servers' database (sqlite:PATH or postgres://…), read for the reconciliation
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value_t = 10)]
    tills: usize,
    #[arg(long, default_value_t = 100)]
    sales_per_till: u64,
    /// Records per push request
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Records a second the tills offer between them when pushing, each till one batch at a
    /// time on its own schedule (default: each sends again as soon as it is answered)
    #[arg(long)]
    push_rate: Option<f64>,
    /// The cashier every till signs in as (one device each)
    #[arg(long, default_value = "cashier")]
    username: String,
    #[arg(long, env = "TILLPOINT_LOADGEN_PASSWORD", hide_env_values = true)]
    password: String,
    /// An administrator of the same organisation, who raises its offline limits first
    #[arg(long)]
    admin: Option<String>,
    /// The tills' data folders go under here (it must not exist yet)
    #[arg(long)]
    work_dir: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.work_dir.exists() {
        eprintln!(
            "tillpoint-loadgen: {} exists; name a new folder for the tills",
            cli.work_dir.display()
        );
        return ExitCode::from(2);
    }
    let database = match tillpoint_server::store::DatabaseUrl::parse(&cli.database_url) {
        Ok(url) => url,
        Err(err) => {
            eprintln!("tillpoint-loadgen: --database-url: {err}");
            return ExitCode::from(2);
        }
    };
    let options = tillpoint_loadgen::Options {
        servers: cli.servers,
        database,
        tills: cli.tills,
        sales_per_till: cli.sales_per_till,
        batch: cli.batch,
        push_rate: cli.push_rate,
        admin: cli.admin.map(|admin| (admin, cli.password.clone())),
        username: cli.username,
        password: cli.password,
        work_dir: cli.work_dir,
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(tillpoint_loadgen::run(&options)) {
        Ok(report) => {
            report.print();
            if report.reconciles() {
                ExitCode::SUCCESS
            } else {
                eprintln!("tillpoint-loadgen: the books do not reconcile");
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            eprintln!("tillpoint-loadgen: {err:#}");
            ExitCode::FAILURE
        }
    }
}
