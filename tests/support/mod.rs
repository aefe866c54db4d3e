//! What the desktop end-to-end tests stand on: the real window driven over WebDriver
//! (`desktop`) and the real server binary run as a child process (`server`). The desktop
//! package does not link the server: it starts it the way an operator does.

pub mod desktop;
// The same fault-injecting proxy the system tests use, compiled here from its one source
// file: the desktop package must not depend on the system-tests package (it links the server).
#[path = "../../crates/tillpoint-system-tests/src/proxy.rs"]
#[allow(dead_code)] // the desktop tests use only its slow link
pub mod proxy;
pub mod server;

/// A loopback port that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
