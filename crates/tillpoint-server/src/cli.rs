//! The `tillpoint-server` command line. Every failure ends with one line naming the problem
//! and the fix, and a non-zero exit code: never a panic, never a silent default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, ServerConfig};
use crate::demo::{self, DemoCredentials, DemoOptions};
use crate::identity::audit;
use crate::identity::keys::{self, KeyError};
use crate::identity::master_key::{MasterKey, MasterKeySource, ENV_MASTER_KEY};
use crate::startup::{open_database, Application};
use crate::sync::chain_rebase::{self, RebaseChain, Rebaser};
use tillpoint_protocol::{DeviceId, OrgId};

#[derive(Debug, Parser)]
#[command(name = "tillpoint-server", version, about = "The Tillpoint server")]
pub struct Cli {
    /// Folder for the database and logs [default: <OS data folder>/tillpoint-server]
    #[arg(
        long,
        global = true,
        env = "TILLPOINT_SERVER_DATA_DIR",
        value_name = "DIR"
    )]
    data_dir: Option<PathBuf>,
    /// Address to listen on; loopback unless you name another [default: 127.0.0.1:8787]
    #[arg(
        long,
        global = true,
        env = "TILLPOINT_SERVER_LISTEN",
        value_name = "ADDR"
    )]
    listen: Option<SocketAddr>,
    /// error, warn, info, debug or trace [default: info]
    #[arg(
        long,
        global = true,
        env = "TILLPOINT_SERVER_LOG_LEVEL",
        value_name = "LEVEL"
    )]
    log_level: Option<String>,
    /// A TOML file with data_dir, listen and log_level
    #[arg(
        long,
        global = true,
        env = "TILLPOINT_SERVER_CONFIG",
        value_name = "FILE"
    )]
    config: Option<PathBuf>,
    /// A reverse proxy whose X-Forwarded-For names the client (repeat, or comma-separate)
    #[arg(
        long = "trusted-proxy",
        global = true,
        env = "TILLPOINT_SERVER_TRUSTED_PROXIES",
        value_name = "IP",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// File holding the master key that encrypts signing keys [default: <data dir>/master.key]
    #[arg(
        long,
        global = true,
        env = "TILLPOINT_SERVER_MASTER_KEY_FILE",
        value_name = "FILE"
    )]
    master_key_file: Option<PathBuf>,
    /// sqlite:PATH or postgres://user:password@host:port/database [default: sqlite:<data dir>/server.db]
    #[arg(
        long,
        global = true,
        env = "TILLPOINT_SERVER_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Connections this instance may hold to PostgreSQL [default: 16]
    #[arg(
        long,
        global = true,
        env = "TILLPOINT_SERVER_DATABASE_POOL_SIZE",
        value_name = "N"
    )]
    database_pool_size: Option<u32>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default)
    Serve,
    /// Apply pending database migrations, then exit (serving applies them too)
    Migrate,
    /// Seed a demo organisation, print its credentials, then serve
    Demo {
        /// How many products the generated catalog holds
        #[arg(long, default_value_t = demo::DEFAULT_PRODUCTS)]
        products: usize,
        /// Seed and print the credentials, but do not serve
        #[arg(long)]
        seed_only: bool,
    },
    /// Manage the keys that sign tokens
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Recover a device whose chain on the server was damaged
    Chain {
        #[command(subcommand)]
        action: ChainAction,
    },
}

#[derive(Debug, Subcommand)]
enum ChainAction {
    /// Make a stored record of a device the end of the server's copy of its chain, after
    /// review (docs/decisions/sync-push.md, "Recovering a damaged chain"); audited
    Rebase {
        /// The organisation's id
        #[arg(long)]
        org: OrgId,
        /// The device's id
        #[arg(long)]
        device: DeviceId,
        /// The server's id of a stored record of that device (as the quarantine list shows it)
        #[arg(long)]
        record: uuid::Uuid,
        /// Why: what was reviewed (kept in the audit log), 1 to 500 characters
        #[arg(long)]
        note: String,
    },
}

#[derive(Debug, Subcommand)]
enum KeysAction {
    /// Make a new signing key current; the old one verifies until its tokens expire
    Rotate,
    /// Emergency: delete a signing key that may have leaked; nothing it signed verifies any
    /// more, and a new key becomes current if it was
    Revoke {
        /// The key's id (`kid`), as listed in /.well-known/jwks.json
        kid: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tillpoint-server: error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let master_key = match std::env::var(ENV_MASTER_KEY) {
        Ok(value) => Some(MasterKeySource::Base64(value)),
        Err(_) => cli.master_key_file.map(MasterKeySource::File),
    };
    let config = config::resolve(
        config::Overrides {
            data_dir: cli.data_dir,
            listen: cli.listen,
            log_level: cli.log_level,
            master_key,
            trusted_proxies: cli.trusted_proxies,
            database_url: cli.database_url,
            database_pool_size: cli.database_pool_size,
        },
        cli.config.as_deref(),
    )?;
    let _log_guard = crate::logging::init(&config.data_dir, &config.log_level).map_err(|e| {
        anyhow::anyhow!(
            "cannot write logs under {}: {e}. Pass --data-dir with a writable folder",
            config.data_dir.display()
        )
    })?;
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(serve(config)),
        Command::Migrate => {
            let db = open_database(&config)?;
            let version = db.call_blocking(|conn| -> Result<u32, crate::store::DbError> {
                Ok(conn.schema_version()?)
            })?;
            println!("{} is at schema version {version}.", db.describe());
            Ok(())
        }
        Command::Demo {
            products,
            seed_only,
        } => {
            let password = std::env::var(demo::ENV_DEMO_PASSWORD).ok();
            let db = open_database(&config)?;
            let credentials = demo::seed(&db, &DemoOptions { products, password })?;
            drop(db);
            print_credentials(&credentials, &config);
            if seed_only {
                Ok(())
            } else {
                runtime.block_on(serve(config))
            }
        }
        Command::Keys {
            action: KeysAction::Rotate,
        } => {
            let db = open_database(&config)?;
            let master = MasterKey::load(&config.master_key)?;
            let now = chrono::Utc::now();
            let kid = db.call_blocking(|conn| -> Result<String, KeyError> {
                // The new key and its audit entry commit together, or not at all.
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                keys::ensure_current_key_in(&tx, &master, now)?;
                let kid = keys::rotate(&tx, &master, now)?;
                audit::record(
                    &tx,
                    &audit::AuditContext::default(),
                    audit::AuditEvent::KeyRotated,
                    serde_json::json!({"kid": kid}),
                    now,
                )?;
                tx.commit()?;
                Ok(kid)
            })?;
            println!("New signing key {kid} is current. Running servers pick it up within {} s; the previous key keeps verifying until its tokens expire.", keys::RELOAD_EVERY.as_secs());
            Ok(())
        }
        Command::Chain {
            action:
                ChainAction::Rebase {
                    org,
                    device,
                    record,
                    note,
                },
        } => {
            let db = open_database(&config)?;
            let by = Rebaser::Operator {
                org,
                now: chrono::Utc::now(),
            };
            let to = RebaseChain { record, note };
            let end = db
                .call_blocking(|conn| chain_rebase::rebase(conn, by, device, &to))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "The server's copy of device {device}'s chain now ends at its record {} ({}). Its next record must follow it; release what was quarantined meanwhile one by one.",
                end.last_seq, end.last_hash
            );
            Ok(())
        }
        Command::Keys {
            action: KeysAction::Revoke { kid },
        } => {
            let db = open_database(&config)?;
            let master = MasterKey::load(&config.master_key)?;
            let now = chrono::Utc::now();
            let revoked = db.call_blocking(|conn| -> Result<keys::Revoked, KeyError> {
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let revoked = keys::revoke(&tx, &master, &kid, now)?;
                audit::record(
                    &tx,
                    &audit::AuditContext::default(),
                    audit::AuditEvent::KeyRevoked,
                    serde_json::json!(revoked),
                    now,
                )?;
                tx.commit()?;
                Ok(revoked)
            })?;
            println!(
                "Signing key {} is revoked: nothing it signed verifies any more. Running servers drop it within {} s; tills drop it at their next sync, and people signed in with its tokens sign in again.",
                revoked.kid,
                keys::RELOAD_EVERY.as_secs()
            );
            if let Some(current) = revoked.new_current {
                println!("New signing key {current} is current.");
            }
            Ok(())
        }
    }
}

async fn serve(config: ServerConfig) -> anyhow::Result<()> {
    let app = Application::build(&config).await?;
    let addr = app.local_addr();
    tracing::info!(%addr, database = %app.database().describe(), "tillpoint-server listening");
    println!(
        "tillpoint-server listening on http://{addr} (data in {})",
        config.data_dir.display()
    );
    app.run_until(shutdown_signal()).await?;
    tracing::info!("tillpoint-server stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler installs");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn print_credentials(credentials: &DemoCredentials, config: &ServerConfig) {
    let what = if credentials.created {
        "created"
    } else {
        "already there; password reset"
    };
    println!(
        "Demo organisation \"{}\" ({what}; {} products)",
        credentials.organisation, credentials.products
    );
    println!("Server: http://{}", config.listen);
    println!("Users (all with the password below):");
    for (username, name, role) in demo::DEMO_USERS {
        println!("  {username:<14} {role:<20} {name}");
    }
    println!("Password: {}", credentials.password);
}
