//! The bodies of Tillpoint's fuzz targets, one function per target, each taking the
//! fuzzer's bytes and asserting what must hold for any input: a panic is a finding.
//!
//! They live in a library, not in `fuzz/`, so that two things run the same code: `fuzz/`
//! (cargo-fuzz, nightly) calls each function from a one-line libFuzzer target, and this
//! crate's own test (`tests/corpus.rs`) replays every file of `fuzz/corpus/<target>/` — the
//! seeds and every reproducer of a finding since fixed — on stable with the rest of the
//! workspace's tests. `scripts/fuzz.sh` runs the fuzzer; docs/reliability.md says what was
//! run and found.
//!
//! The targets are what arrives from outside a process: a till's push batch at the server
//! ([`push_batch`]), access tokens and offline grants ([`tokens`]), what a barcode scanner
//! types ([`barcodes`]), the money and VAT arithmetic both sides must agree on
//! ([`money_tax`]) and the names a receipt prints ([`receipt_names`]). `seeds` makes the
//! committed seeds from real encoded values.

pub mod barcodes;
pub mod money_tax;
pub mod push_batch;
pub mod receipt_names;
pub mod seeds;
pub mod tokens;

pub use barcodes::barcodes;
pub use money_tax::money_tax;
pub use push_batch::push_batch;
pub use receipt_names::receipt_names;
pub use tokens::tokens;

/// A target's body: the fuzzer's bytes in, a panic out when a property fails.
pub type Target = fn(&[u8]);

/// Every target by its name (the name of its `fuzz/fuzz_targets/<name>.rs` and its corpus
/// folder).
pub const TARGETS: &[(&str, Target)] = &[
    ("push_batch", push_batch),
    ("tokens", tokens),
    ("barcodes", barcodes),
    ("money_tax", money_tax),
    ("receipt_names", receipt_names),
];
