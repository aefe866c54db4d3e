//! The till's configuration: which server, which data folder, how much to log.
//!
//! Sources, later ones winning: built-in defaults, the config file (TOML), then environment
//! variables. A missing config file at the default place is normal (defaults apply); a file
//! that exists but cannot be read or parsed is an error that names the file and the fix,
//! never a silent fallback.
//!
//! | key          | environment              | default                         |
//! |--------------|--------------------------|---------------------------------|
//! | `server_url` | `TILLPOINT_SERVER_URL`   | `http://127.0.0.1:8787`         |
//! | `data_dir`   | `TILLPOINT_DATA_DIR`     | the OS app-data folder          |
//! | `log_level`  | `TILLPOINT_LOG_LEVEL`    | `info`                          |
//! | `printer`    | `TILLPOINT_PRINTER`      | none: receipts show on screen   |
//! | `printer_width` | `TILLPOINT_PRINTER_WIDTH` | `80` (mm; or `58`)          |
//! | `cash_drawer` | `TILLPOINT_CASH_DRAWER` | `true`: open it on cash sales   |
//!
//! `printer` is `tcp://address[:port]` for a network receipt printer (port 9100 by default)
//! or a device path such as `/dev/usb/lp0`.
//!
//! The file is `TILLPOINT_CONFIG` if set (then it must exist), else `config.toml` in the OS
//! config folder for Tillpoint.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

use crate::server_url::ServerUrl;

pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:8787";
pub const ENV_CONFIG: &str = "TILLPOINT_CONFIG";
pub const ENV_SERVER_URL: &str = "TILLPOINT_SERVER_URL";
pub const ENV_DATA_DIR: &str = "TILLPOINT_DATA_DIR";
pub const ENV_LOG_LEVEL: &str = "TILLPOINT_LOG_LEVEL";
pub const ENV_PRINTER: &str = "TILLPOINT_PRINTER";
pub const ENV_PRINTER_WIDTH: &str = "TILLPOINT_PRINTER_WIDTH";
pub const ENV_CASH_DRAWER: &str = "TILLPOINT_CASH_DRAWER";

/// The receipt printer, when one is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterSettings {
    pub target: tillpoint_receipt::PrinterTarget,
    pub width: tillpoint_receipt::PaperWidth,
    /// Whether a cash sale opens the drawer wired to the printer.
    pub cash_drawer: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillConfig {
    pub server_url: ServerUrl,
    pub data_dir: PathBuf,
    pub log_level: LogLevel,
    /// The file the settings were read from, if any (shown in Settings).
    pub source_file: Option<PathBuf>,
    pub printer: Option<PrinterSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
            Self::Trace => "trace",
        }
    }
}

impl FromStr for LogLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "error" => Ok(Self::Error),
            "warn" | "warning" => Ok(Self::Warn),
            "info" => Ok(Self::Info),
            "debug" => Ok(Self::Debug),
            "trace" => Ok(Self::Trace),
            _ => Err(format!(
                "log level {s:?} is not one of error, warn, info, debug, trace"
            )),
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where configuration may come from. The desktop shell fills it from the process and the
/// OS folders; tests fill it by hand.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    pub env: HashMap<String, String>,
    /// `config.toml` in the OS config folder, read if it exists.
    pub default_file: Option<PathBuf>,
    /// The OS app-data folder, used when nothing names a data folder.
    pub default_data_dir: PathBuf,
}

impl ConfigSources {
    /// The process environment's `TILLPOINT_*` variables.
    pub fn from_process_env(default_file: Option<PathBuf>, default_data_dir: PathBuf) -> Self {
        Self {
            env: std::env::vars()
                .filter(|(k, _)| k.starts_with("TILLPOINT_"))
                .collect(),
            default_file,
            default_data_dir,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}. Fix its permissions, or unset {ENV_CONFIG} to use the defaults")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {message}. Keys allowed: server_url, data_dir, log_level, printer, printer_width, cash_drawer")]
    Invalid { path: PathBuf, message: String },
    #[error("{origin}: {message}")]
    BadValue { origin: String, message: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    server_url: Option<String>,
    data_dir: Option<PathBuf>,
    log_level: Option<String>,
    printer: Option<String>,
    printer_width: Option<u32>,
    cash_drawer: Option<bool>,
}

impl TillConfig {
    pub fn load(sources: &ConfigSources) -> Result<Self, ConfigError> {
        let (file, source_file) = match sources.env.get(ENV_CONFIG) {
            Some(path) => {
                let path = PathBuf::from(path);
                (read_file(&path)?, Some(path))
            }
            None => match &sources.default_file {
                Some(path) if path.exists() => (read_file(path)?, Some(path.clone())),
                _ => (FileConfig::default(), None),
            },
        };
        let file_origin = |key: &str| match &source_file {
            Some(path) => format!("{key} in {}", path.display()),
            None => key.to_owned(),
        };

        let (server_url, url_origin) = match sources.env.get(ENV_SERVER_URL) {
            Some(v) => (v.clone(), ENV_SERVER_URL.to_owned()),
            None => match file.server_url {
                Some(v) => (v, file_origin("server_url")),
                None => (DEFAULT_SERVER_URL.to_owned(), "default server_url".into()),
            },
        };
        let server_url = ServerUrl::parse(&server_url).map_err(|e| ConfigError::BadValue {
            origin: url_origin,
            message: e.to_string(),
        })?;

        let (log_level, level_origin) = match sources.env.get(ENV_LOG_LEVEL) {
            Some(v) => (Some(v.clone()), ENV_LOG_LEVEL.to_owned()),
            None => (file.log_level, file_origin("log_level")),
        };
        let log_level = match log_level {
            Some(v) => v.parse().map_err(|message| ConfigError::BadValue {
                origin: level_origin,
                message,
            })?,
            None => LogLevel::default(),
        };

        let data_dir = match sources.env.get(ENV_DATA_DIR) {
            Some(v) if v.trim().is_empty() => {
                return Err(ConfigError::BadValue {
                    origin: ENV_DATA_DIR.into(),
                    message: "is set but empty; give a folder or unset it".into(),
                })
            }
            Some(v) => PathBuf::from(v),
            None => file
                .data_dir
                .unwrap_or_else(|| sources.default_data_dir.clone()),
        };

        let printer = match sources.env.get(ENV_PRINTER) {
            Some(v) => Some((v.clone(), ENV_PRINTER.to_owned())),
            None => file.printer.clone().map(|v| (v, file_origin("printer"))),
        };
        let printer = match printer {
            Some((target, _)) if target.trim().is_empty() => None,
            Some((target, origin)) => {
                let target = tillpoint_receipt::PrinterTarget::parse(&target).map_err(|e| {
                    ConfigError::BadValue {
                        origin,
                        message: e.to_string(),
                    }
                })?;
                let width = match sources.env.get(ENV_PRINTER_WIDTH) {
                    Some(v) => (v.trim().parse().ok(), ENV_PRINTER_WIDTH.to_owned()),
                    None => (
                        file.printer_width.or(Some(80)),
                        file_origin("printer_width"),
                    ),
                };
                let width = match width.0 {
                    Some(80) => tillpoint_receipt::PaperWidth::Mm80,
                    Some(58) => tillpoint_receipt::PaperWidth::Mm58,
                    _ => {
                        return Err(ConfigError::BadValue {
                            origin: width.1,
                            message: "a receipt printer is 58 or 80 (mm) wide".into(),
                        })
                    }
                };
                let cash_drawer = match sources.env.get(ENV_CASH_DRAWER) {
                    Some(v) => match v.trim() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => {
                            return Err(ConfigError::BadValue {
                                origin: ENV_CASH_DRAWER.into(),
                                message: "is true or false".into(),
                            })
                        }
                    },
                    None => file.cash_drawer.unwrap_or(true),
                };
                Some(PrinterSettings {
                    target,
                    width,
                    cash_drawer,
                })
            }
            None => None,
        };

        Ok(Self {
            server_url,
            data_dir,
            log_level,
            source_file,
            printer,
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        message: e.message().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(env: &[(&str, &str)], file: Option<PathBuf>) -> ConfigSources {
        ConfigSources {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            default_file: file,
            default_data_dir: PathBuf::from("/os/app-data/tillpoint"),
        }
    }

    #[test]
    fn defaults_when_nothing_is_configured() {
        let missing = PathBuf::from("/nonexistent/tillpoint/config.toml");
        let config = TillConfig::load(&sources(&[], Some(missing))).unwrap();
        assert_eq!(config.server_url.as_str(), "http://127.0.0.1:8787/");
        assert_eq!(config.data_dir, PathBuf::from("/os/app-data/tillpoint"));
        assert_eq!(config.log_level, LogLevel::Info);
        assert_eq!(config.source_file, None);
    }

    #[test]
    fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "server_url = \"https://pos.example.com\"\ndata_dir = \"/srv/till\"\nlog_level = \"debug\"\n",
        )
        .unwrap();
        let from_file = TillConfig::load(&sources(&[], Some(path.clone()))).unwrap();
        assert_eq!(from_file.server_url.as_str(), "https://pos.example.com/");
        assert_eq!(from_file.data_dir, PathBuf::from("/srv/till"));
        assert_eq!(from_file.log_level, LogLevel::Debug);
        assert_eq!(from_file.source_file, Some(path.clone()));

        let env = [
            (ENV_SERVER_URL, "https://other.example.com"),
            (ENV_LOG_LEVEL, "warn"),
            (ENV_DATA_DIR, "/tmp/till"),
        ];
        let overridden = TillConfig::load(&sources(&env, Some(path))).unwrap();
        assert_eq!(overridden.server_url.as_str(), "https://other.example.com/");
        assert_eq!(overridden.log_level, LogLevel::Warn);
        assert_eq!(overridden.data_dir, PathBuf::from("/tmp/till"));
    }

    #[test]
    fn a_bad_server_url_names_where_it_came_from() {
        let err = TillConfig::load(&sources(&[(ENV_SERVER_URL, "not a url")], None)).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("TILLPOINT_SERVER_URL: "), "{text}");
        assert!(text.contains("is not a URL"), "{text}");
    }

    #[test]
    fn an_unparsable_or_unknown_key_file_is_an_error_not_a_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "server_url = [broken").unwrap();
        let err = TillConfig::load(&sources(&[], Some(path.clone()))).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { .. }), "{err}");

        std::fs::write(&path, "serverurl = \"https://x.example\"").unwrap();
        let err = TillConfig::load(&sources(&[], Some(path))).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn an_explicit_config_path_must_exist() {
        let err = TillConfig::load(&sources(&[(ENV_CONFIG, "/nonexistent/till.toml")], None))
            .unwrap_err();
        assert!(matches!(err, ConfigError::Unreadable { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent/till.toml"));
    }

    #[test]
    fn a_bad_log_level_is_refused() {
        let err = TillConfig::load(&sources(&[(ENV_LOG_LEVEL, "loud")], None)).unwrap_err();
        assert!(
            err.to_string().contains("is not one of error, warn"),
            "{err}"
        );
    }
}
