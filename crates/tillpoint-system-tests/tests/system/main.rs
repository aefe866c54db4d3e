//! A real server and real tills together, over HTTP on loopback: what neither crate's own
//! tests can show alone. One test binary with a module per behaviour, so the suite links once;
//! the fixtures are this package's library.

mod architecture;
mod attacks;
mod harness;
mod import;
mod pull;
mod pull_more;
mod push;
mod sales;
mod sign_in;
mod sync_faults;
