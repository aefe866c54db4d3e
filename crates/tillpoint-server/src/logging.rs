//! Logs go to stderr and to a daily file in `<data_dir>/logs/`, at the configured level
//! (`RUST_LOG` may refine it per module).

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

/// Installs the global subscriber. Keep the guard alive for the life of the process, or the
/// last lines never reach the file.
pub fn init(data_dir: &Path, level: &str) -> std::io::Result<WorkerGuard> {
    let logs = data_dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let (file_writer, guard) =
        tracing_appender::non_blocking(tracing_appender::rolling::daily(logs, "server.log"));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    // A second init (tests building several servers in one process) keeps the first.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_writer(std::io::stderr))
        .with(fmt::layer().with_ansi(false).with_writer(file_writer))
        .try_init();
    Ok(guard)
}
