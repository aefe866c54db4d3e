//! Getting receipt bytes to a printer: a network printer's raw port (`tcp://host:9100`) or a
//! device file (`/dev/usb/lp0`, or a plain file standing in for one). The only I/O in the crate.
//!
//! Sending blocks (the caller runs it on a blocking thread) and never waits longer than the
//! timeout it is given: a printer that is off, unplugged or out of paper must not freeze the
//! till. Errors say what the cashier can do about it, in words, not error codes.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// The raw printing port of network receipt printers (JetDirect / AppSocket).
pub const DEFAULT_PORT: u16 = 9100;

/// Where receipts go, as set in the till's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterTarget {
    Network {
        host: String,
        port: u16,
    },
    /// A device such as `/dev/usb/lp0`, or any file the bytes should be appended to.
    Device(PathBuf),
}

/// Why a printer setting was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("no printer is set: enter tcp://address:9100 for a network printer or a device such as /dev/usb/lp0")]
    Empty,
    #[error("{0:?} is not a printer: enter tcp://address:9100 for a network printer or a full device path such as /dev/usb/lp0")]
    Unrecognised(String),
    #[error("{0:?} has no printer address after tcp://: enter it like tcp://192.168.1.50:9100")]
    MissingHost(String),
    #[error(
        "{0:?} is not a port: a network printer's port is a number from 1 to 65535, usually 9100"
    )]
    BadPort(String),
    #[error("{0:?} has more than an address and a port: enter it like tcp://192.168.1.50:9100")]
    ExtraParts(String),
}

/// Why a receipt did not print.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("cannot find the printer {host}: {} — check the printer's address in the settings", plain_reason(.source))]
    UnknownHost {
        host: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot reach the printer at {address}: {} — check it is on and on the network", plain_reason(.source))]
    Unreachable {
        address: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot open the printer at {path}: {} — check it is plugged in and switched on", plain_reason(.source))]
    CannotOpen {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("the printer at {target} stopped taking the receipt: {} — check it has paper and its cover is closed, then print again", plain_reason(.source))]
    Interrupted {
        target: String,
        #[source]
        source: io::Error,
    },
    #[error("the printer at {target} did not take the receipt within {} seconds — check it is on, has paper and its cover is closed, then print again", .timeout.as_secs_f32())]
    TimedOut { target: String, timeout: Duration },
}

impl PrinterTarget {
    /// `tcp://host[:port]` (the port defaults to 9100; an IPv6 address goes in brackets) or
    /// an absolute path.
    pub fn parse(text: &str) -> Result<Self, TargetError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TargetError::Empty);
        }
        if let Some(address) = text.strip_prefix("tcp://") {
            return parse_network(text, address.strip_suffix('/').unwrap_or(address));
        }
        if Path::new(text).is_absolute() {
            return Ok(Self::Device(PathBuf::from(text)));
        }
        Err(TargetError::Unrecognised(text.to_owned()))
    }

    /// Sends `bytes` and returns once they are handed over, or fails within about `timeout`.
    pub fn send(&self, bytes: &[u8], timeout: Duration) -> Result<(), PrintError> {
        match self {
            Self::Network { host, port } => send_to_network(host, *port, bytes, timeout),
            Self::Device(path) => send_to_device(path, bytes, timeout),
        }
    }
}

impl fmt::Display for PrinterTarget {
    /// The setting as [`PrinterTarget::parse`] reads it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network { host, port } => write!(f, "tcp://{}", host_and_port(host, *port)),
            Self::Device(path) => write!(f, "{}", path.display()),
        }
    }
}

fn parse_network(text: &str, address: &str) -> Result<PrinterTarget, TargetError> {
    if address.contains(['/', '?', '#', '@']) || address.contains(char::is_whitespace) {
        return Err(TargetError::ExtraParts(text.to_owned()));
    }
    let (host, port) = if let Some(bracketed) = address.strip_prefix('[') {
        let (host, rest) = bracketed
            .split_once(']')
            .ok_or_else(|| TargetError::Unrecognised(text.to_owned()))?;
        match rest {
            "" => (host, None),
            rest => match rest.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(TargetError::ExtraParts(text.to_owned())),
            },
        }
    } else {
        match address.split_once(':') {
            Some((_, port)) if port.contains(':') => {
                // An IPv6 address without brackets: its last group would pass for a port.
                return Err(TargetError::Unrecognised(text.to_owned()));
            }
            Some((host, port)) => (host, Some(port)),
            None => (address, None),
        }
    };
    if host.is_empty() {
        return Err(TargetError::MissingHost(text.to_owned()));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|port| *port != 0)
            .ok_or_else(|| TargetError::BadPort(port.to_owned()))?,
    };
    Ok(PrinterTarget::Network {
        host: host.to_owned(),
        port,
    })
}

/// `192.168.1.50:9100`, or `[fe80::1]:9100` for an IPv6 address.
fn host_and_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn send_to_network(
    host: &str,
    port: u16,
    bytes: &[u8],
    timeout: Duration,
) -> Result<(), PrintError> {
    let address = host_and_port(host, port);
    // Name lookup has no timeout of its own; printers are nearly always set by IP address.
    let candidates: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|source| PrintError::UnknownHost {
            host: host.to_owned(),
            source,
        })?
        .collect();
    let mut last_error = io::Error::new(io::ErrorKind::NotFound, "no address");
    let mut connected = None;
    for candidate in candidates {
        match TcpStream::connect_timeout(&candidate, timeout) {
            Ok(stream) => {
                connected = Some(stream);
                break;
            }
            Err(error) => last_error = error,
        }
    }
    let mut stream = match connected {
        Some(stream) => stream,
        None if is_timeout(&last_error) => {
            return Err(PrintError::TimedOut {
                target: address,
                timeout,
            })
        }
        None => {
            return Err(PrintError::Unreachable {
                address,
                source: last_error,
            })
        }
    };
    let written = stream
        .set_write_timeout(Some(timeout))
        .and_then(|()| stream.write_all(bytes))
        .and_then(|()| stream.flush())
        // The printer sees the end of the job, and a fake printer in a test its end of file.
        .and_then(|()| stream.shutdown(Shutdown::Write));
    written.map_err(|source| {
        if is_timeout(&source) {
            PrintError::TimedOut {
                target: address,
                timeout,
            }
        } else {
            PrintError::Interrupted {
                target: address,
                source,
            }
        }
    })
}

/// Writing to a device file cannot be given a timeout, and a printer that is off or out of
/// paper can block the write (or even the open) indefinitely. So it happens on its own thread
/// and is given up on after `timeout`: that thread ends when the device finally answers.
fn send_to_device(path: &Path, bytes: &[u8], timeout: Duration) -> Result<(), PrintError> {
    let target = path.display().to_string();
    let (done, outcome) = mpsc::channel();
    let (path, bytes) = (path.to_owned(), bytes.to_vec());
    thread::Builder::new()
        .name("receipt printer".to_owned())
        .spawn(move || {
            // Never created: a missing printer must not turn into a file named like it.
            let result = match OpenOptions::new().append(true).open(&path) {
                Ok(mut device) => device
                    .write_all(&bytes)
                    .and_then(|()| device.flush())
                    .map_err(Failure::Write),
                Err(error) => Err(Failure::Open(error)),
            };
            let _ = done.send(result);
        })
        .map_err(|source| PrintError::Interrupted {
            target: target.clone(),
            source,
        })?;
    match outcome.recv_timeout(timeout) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(Failure::Open(source))) => Err(PrintError::CannotOpen {
            path: target,
            source,
        }),
        Ok(Err(Failure::Write(source))) => Err(PrintError::Interrupted { target, source }),
        Err(_) => Err(PrintError::TimedOut { target, timeout }),
    }
}

enum Failure {
    Open(io::Error),
    Write(io::Error),
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// An I/O error in words for a cashier, without the operating system's error number.
fn plain_reason(error: &io::Error) -> String {
    use io::ErrorKind::*;
    let reason = match error.kind() {
        ConnectionRefused => "connection refused",
        ConnectionReset | ConnectionAborted | BrokenPipe => "the connection was dropped",
        HostUnreachable | NetworkUnreachable => "no route to it",
        NetworkDown => "this till is not on a network",
        AddrNotAvailable => "that address is not available",
        NotFound => "not found",
        PermissionDenied => "permission denied",
        IsADirectory => "that is a folder",
        ResourceBusy => "it is busy",
        TimedOut | WouldBlock => "no answer",
        _ => return error.to_string(),
    };
    reason.to_owned()
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpListener;

    use super::*;
    use crate::escpos::{render, EscPosOptions, PaperWidth};
    use crate::sample_receipts::cash_sale;

    const TIMEOUT: Duration = Duration::from_secs(5);

    fn network(host: &str, port: u16) -> PrinterTarget {
        PrinterTarget::Network {
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn network_printers_are_tcp_addresses_with_9100_by_default() {
        let cases = [
            ("tcp://192.168.1.50:9100", network("192.168.1.50", 9100)),
            ("  tcp://192.168.1.50  ", network("192.168.1.50", 9100)),
            ("tcp://printer.local:9101/", network("printer.local", 9101)),
            ("tcp://[fe80::1]:9100", network("fe80::1", 9100)),
            ("tcp://[::1]", network("::1", 9100)),
        ];
        for (text, target) in cases {
            assert_eq!(PrinterTarget::parse(text), Ok(target.clone()), "{text}");
            assert_eq!(PrinterTarget::parse(&target.to_string()), Ok(target));
        }
    }

    #[test]
    fn devices_are_absolute_paths() {
        assert_eq!(
            PrinterTarget::parse("/dev/usb/lp0"),
            Ok(PrinterTarget::Device("/dev/usb/lp0".into()))
        );
        assert_eq!(
            PrinterTarget::parse("/dev/usb/lp0").unwrap().to_string(),
            "/dev/usb/lp0"
        );
    }

    #[test]
    fn anything_else_is_refused_with_what_to_type_instead() {
        let refused = [
            ("", TargetError::Empty),
            ("lp0", TargetError::Unrecognised("lp0".into())),
            (
                "192.168.1.50:9100",
                TargetError::Unrecognised("192.168.1.50:9100".into()),
            ),
            (
                "http://192.168.1.50",
                TargetError::Unrecognised("http://192.168.1.50".into()),
            ),
            ("tcp://", TargetError::MissingHost("tcp://".into())),
            (
                "tcp://:9100",
                TargetError::MissingHost("tcp://:9100".into()),
            ),
            ("tcp://printer:0", TargetError::BadPort("0".into())),
            ("tcp://printer:99999", TargetError::BadPort("99999".into())),
            ("tcp://printer:abc", TargetError::BadPort("abc".into())),
            (
                "tcp://fe80::1",
                TargetError::Unrecognised("tcp://fe80::1".into()),
            ),
            (
                "tcp://printer:9100/queue",
                TargetError::ExtraParts("tcp://printer:9100/queue".into()),
            ),
        ];
        for (text, error) in refused {
            assert_eq!(PrinterTarget::parse(text), Err(error), "{text:?}");
        }
        assert_eq!(
            PrinterTarget::parse("usb").unwrap_err().to_string(),
            "\"usb\" is not a printer: enter tcp://address:9100 for a network printer or a full \
             device path such as /dev/usb/lp0"
        );
    }

    #[test]
    fn a_network_printer_receives_exactly_the_rendered_receipt() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let fake_printer = thread::spawn(move || {
            let (mut connection, _) = listener.accept().unwrap();
            let mut received = Vec::new();
            connection.read_to_end(&mut received).unwrap();
            received
        });
        let options = EscPosOptions {
            width: PaperWidth::Mm80,
            kick_drawer: true,
        };
        let bytes = render(&cash_sale(), &options);
        let target = PrinterTarget::parse(&format!("tcp://127.0.0.1:{port}")).unwrap();
        target.send(&bytes, TIMEOUT).unwrap();
        assert_eq!(fake_printer.join().unwrap(), bytes);
    }

    #[test]
    fn a_printer_that_refuses_the_connection_says_what_to_check() {
        // A port that was just free: nothing listens on it.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let error = network("127.0.0.1", port)
            .send(b"x\n", TIMEOUT)
            .unwrap_err();
        assert!(matches!(error, PrintError::Unreachable { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            format!(
                "cannot reach the printer at 127.0.0.1:{port}: connection refused — check it is \
                 on and on the network"
            )
        );
    }

    #[test]
    fn a_file_target_receives_the_bytes_receipt_after_receipt() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let target = PrinterTarget::parse(file.path().to_str().unwrap()).unwrap();
        let bytes = render(
            &cash_sale(),
            &EscPosOptions {
                width: PaperWidth::Mm58,
                kick_drawer: false,
            },
        );
        target.send(&bytes, TIMEOUT).unwrap();
        assert_eq!(std::fs::read(file.path()).unwrap(), bytes);
        target.send(&bytes, TIMEOUT).unwrap();
        assert_eq!(
            std::fs::read(file.path()).unwrap(),
            [bytes.clone(), bytes].concat()
        );
    }

    #[test]
    fn a_missing_device_is_not_created_and_says_what_to_check() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("lp0");
        let error = PrinterTarget::Device(path.clone())
            .send(b"x\n", TIMEOUT)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "cannot open the printer at {}: not found — check it is plugged in and switched on",
                path.display()
            )
        );
        assert!(!path.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_device_that_never_takes_the_bytes_times_out() {
        // A named pipe nobody reads: opening it for writing blocks, like a stalled printer.
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("stalled");
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        if !made.is_ok_and(|status| status.success()) {
            eprintln!("mkfifo is not available: skipped");
            return;
        }
        let started = std::time::Instant::now();
        let timeout = Duration::from_millis(300);
        let error = PrinterTarget::Device(path.clone())
            .send(b"x\n", timeout)
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(
            error.to_string(),
            format!(
                "the printer at {} did not take the receipt within 0.3 seconds — check it is on, \
                 has paper and its cover is closed, then print again",
                path.display()
            )
        );
        // Let the abandoned writer finish, so the thread does not outlive the test.
        let _ = std::fs::read(&path);
    }
}
