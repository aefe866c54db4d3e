//! The desktop app logs to stderr and, once it knows its data folder, to a daily file in
//! `<data_dir>/logs/`. `RUST_LOG` may refine the configured level per module.

use std::path::Path;
use std::sync::OnceLock;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer};

/// Kept for the life of the process so buffered lines reach the file.
static FILE_GUARD: OnceLock<WorkerGuard> = OnceLock::new();

pub fn init(data_dir: Option<&Path>, level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let file_layer = data_dir.and_then(|dir| {
        let logs = dir.join("logs");
        // Logs name the people who sign in: private like the rest of the data folder.
        if let Err(err) = tillpoint_core::private_files::create_private_dir(&logs) {
            eprintln!("tillpoint: cannot write logs to {}: {err}", logs.display());
            return None;
        }
        let (writer, guard) =
            tracing_appender::non_blocking(tracing_appender::rolling::daily(logs, "till.log"));
        let _ = FILE_GUARD.set(guard);
        Some(fmt::layer().with_ansi(false).with_writer(writer).boxed())
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_writer(std::io::stderr))
        .with(file_layer)
        .try_init();
}
