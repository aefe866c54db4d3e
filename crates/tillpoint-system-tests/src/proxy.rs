//! A TCP proxy between a till and the server that the test controls, for the network-fault
//! cases of sync (issue 7): it listens on 127.0.0.1:0, forwards every connection to the
//! server, and its [`Mode`] can be switched at any time.
//!
//! The mode is read for every chunk of bytes, not once per connection, so it also governs
//! connections the till's HTTP client keeps open between requests (keep-alive): a request
//! sent on an old connection is dropped, delayed or cut just like one on a new connection.
//! "Request" means bytes from the till to the server, "answer" bytes from the server back.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward everything both ways.
    Pass,
    /// New connections are closed as soon as they are accepted; a request arriving on an
    /// open connection closes it without reaching the server: the server looks gone.
    Drop,
    /// Every chunk, both ways, is held this long before it is forwarded (latency). Bytes
    /// already on their way still arrive after the till gave up, as on a real slow link.
    Delay(Duration),
    /// At most this many bytes a second each way (a slow link): every chunk waits as long as
    /// its size takes at that rate before it is forwarded.
    Throttle(u32),
    /// The request reaches the server, which processes it and answers; as soon as the
    /// answer's first byte comes back, both sides are closed and nothing of it is forwarded:
    /// committed on the server, never read by the till.
    CutAfterAnswer,
    /// Forward the first `n` bytes of the answer (status line and headers included), then
    /// close both sides.
    CutMidResponse(usize),
    /// Forward the answer's status line and headers whole and the first `n` bytes of its
    /// body, then close both sides: the till sees `200 OK` and a body that stops short.
    CutMidBody(usize),
}

/// What the connection tasks share with the test.
struct Shared {
    target: SocketAddr,
    /// The mode, and a number bumped at every change: byte budgets of the cut modes count
    /// from the change, per connection.
    mode: Mutex<(Mode, u64)>,
    /// Connections closed by the proxy on purpose (dropped or cut): a test asserts on it so
    /// a fault that never happened cannot pass unnoticed.
    cuts: AtomicU64,
}

impl Shared {
    fn mode(&self) -> (Mode, u64) {
        *self.mode.lock().unwrap()
    }
}

pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Starts forwarding 127.0.0.1:<free port> to `target`, in [`Mode::Pass`].
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("bound");
        let shared = Arc::new(Shared {
            target,
            mode: Mutex::new((Mode::Pass, 0)),
            cuts: AtomicU64::new(0),
        });
        let accept = tokio::spawn({
            let shared = shared.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    tokio::spawn(connection(client, shared.clone()));
                }
            }
        });
        Proxy {
            addr,
            shared,
            accept,
        }
    }

    /// Starts a proxy in front of the server at `url` (a loopback `http://` URL).
    pub async fn in_front_of(url: &Url) -> Proxy {
        let target = url.socket_addrs(|| None).expect("a loopback address")[0];
        Proxy::start(target).await
    }

    /// The URL a till uses to reach the server through this proxy.
    pub fn url(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr)).expect("a loopback URL")
    }

    pub fn set(&self, mode: Mode) {
        let mut current = self.shared.mode.lock().unwrap();
        *current = (mode, current.1 + 1);
    }

    /// Connections the proxy has dropped or cut so far.
    pub fn cuts(&self) -> u64 {
        self.shared.cuts.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// How one direction of a connection ended.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    /// The sender closed its side (or went away): pass the close on, keep the other way open.
    Ended,
    /// The proxy cuts the connection: both sides close at once.
    Cut,
}

async fn connection(client: TcpStream, shared: Arc<Shared>) {
    if shared.mode().0 == Mode::Drop {
        shared.cuts.fetch_add(1, Ordering::SeqCst);
        return; // dropping the stream closes it
    }
    let Ok(server) = TcpStream::connect(shared.target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = pump(client_read, server_write, false, shared.clone());
    let down = pump(server_read, client_write, true, shared.clone());
    tokio::pin!(up, down);
    let (mut up_done, mut down_done) = (false, false);
    while !(up_done && down_done) {
        let flow = tokio::select! {
            flow = &mut up, if !up_done => { up_done = true; flow }
            flow = &mut down, if !down_done => { down_done = true; flow }
        };
        if flow == Flow::Cut {
            shared.cuts.fetch_add(1, Ordering::SeqCst);
            // Returning drops all four halves: both sockets close, whatever was in flight.
            return;
        }
    }
}

/// Copies `from` to `to` chunk by chunk, applying the mode of the moment to each chunk.
/// `answer` is true for the server-to-till direction.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    answer: bool,
    shared: Arc<Shared>,
) -> Flow {
    let mut buf = vec![0_u8; 16 * 1024];
    // For the cut modes: the mode change counted from, the answer's bytes forwarded since,
    // and its first bytes (to find where the headers end).
    let (mut since, mut forwarded, mut head) = (u64::MAX, 0_usize, Vec::new());
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) => {
                let _ = to.shutdown().await;
                return Flow::Ended;
            }
            Ok(n) => n,
            Err(_) => return Flow::Cut,
        };
        let (mode, generation) = shared.mode();
        if generation != since {
            (since, forwarded) = (generation, 0);
            head.clear();
        }
        let mut chunk = &buf[..n];
        let mut cut_after = false;
        match mode {
            Mode::Pass => {}
            Mode::Drop => return Flow::Cut,
            Mode::Delay(latency) => tokio::time::sleep(latency).await,
            Mode::Throttle(rate) => {
                // In slices of 1 KiB, so a large chunk trickles rather than jumps.
                for slice in chunk.chunks(1024) {
                    let wait = slice.len() as f64 / f64::from(rate.max(1));
                    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                    if to.write_all(slice).await.is_err() {
                        return Flow::Cut;
                    }
                }
                continue;
            }
            Mode::CutAfterAnswer if answer => return Flow::Cut,
            Mode::CutMidResponse(limit) if answer => {
                let allowed = limit.saturating_sub(forwarded).min(chunk.len());
                chunk = &chunk[..allowed];
                cut_after = forwarded + allowed >= limit;
            }
            Mode::CutMidBody(body) if answer => {
                if head.len() < 64 * 1024 {
                    head.extend_from_slice(chunk);
                }
                match head.windows(4).position(|w| w == b"\r\n\r\n") {
                    // Headers not complete yet: forward what came, wait for more.
                    None => {}
                    Some(end) => {
                        let limit = end + 4 + body;
                        let allowed = limit.saturating_sub(forwarded).min(chunk.len());
                        chunk = &chunk[..allowed];
                        cut_after = forwarded + allowed >= limit;
                    }
                }
            }
            Mode::CutAfterAnswer | Mode::CutMidResponse(_) | Mode::CutMidBody(_) => {}
        }
        if to.write_all(chunk).await.is_err() {
            return Flow::Cut;
        }
        forwarded += chunk.len();
        if cut_after {
            let _ = to.flush().await;
            return Flow::Cut;
        }
    }
}
