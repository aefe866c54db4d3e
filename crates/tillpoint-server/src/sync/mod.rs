//! Sync: a till's journal arriving at the server, and the master data going back out
//! (ARCHITECTURE.md §4).
//!
//! The two directions share nothing but the organisation they are scoped to, so each has
//! its own module: `push` judges and applies what a till sends (and `import` hands a dead
//! till's exported records to the same ingest, `quarantine` is where a manager settles what
//! push held back, `chain_rebase` where an administrator recovers a device whose chain on the
//! server was damaged); `pull` pages out what changed since a till's cursor.

pub mod chain_rebase;
pub mod import;
pub mod pull;
pub mod push;
pub mod quarantine;
