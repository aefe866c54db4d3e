//! Crash safety, shown by killing: a headless till (the real `tillpoint-core`, no window) and
//! the real `tillpoint-server` binary are killed with SIGKILL at seeded random moments while
//! they sell, refund, pull, push, ingest and migrate; after every restart the stores must
//! hold every sale the till reported committed exactly once, the journal must verify, the
//! outbox must hold every unsynced record, and `PRAGMA integrity_check` must say ok.
//!
//! `runs` holds the kinds of run and the life they share, `checks` what must hold,
//! `headless_till` what the killed till does, `server_process` the server binary as a child.
//! `scripts/crash.sh` runs a thousand and more seeded runs through the `crash` binary; the
//! package's test runs a short set in CI. The results are in docs/reliability.md.

pub mod campaign;
pub mod checks;
pub mod headless_till;
pub mod runs;
pub mod server_process;
