//! Replays every target over its committed corpus, `fuzz/corpus/<target>/`: the seeds and
//! the reproducer of every finding since fixed. This is how the normal test run exercises the
//! fuzz targets on stable, and how a fixed finding stays fixed.

use std::path::{Path, PathBuf};

use tillpoint_fuzz_targets::{seeds, TARGETS};

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

fn files(target: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus(target))
        .unwrap_or_else(|e| panic!("{}: {e}", corpus(target).display()))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_holds_over_its_corpus() {
    for (target, run) in TARGETS {
        let files = files(target);
        assert!(!files.is_empty(), "{target} has no corpus");
        for file in files {
            let bytes = std::fs::read(&file).expect("corpus file");
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            assert!(outcome.is_ok(), "{target} fails on {}", file.display());
        }
    }
}

#[test]
fn the_committed_corpus_holds_every_seed_as_made_now() {
    for seed in seeds::all() {
        let path = corpus(seed.target).join(format!("seed-{}", seed.name));
        let committed = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run `cargo run -p tillpoint-fuzz-targets --example write_seeds`",
                path.display()
            )
        });
        assert!(
            committed == seed.bytes,
            "{} is stale; run `cargo run -p tillpoint-fuzz-targets --example write_seeds`",
            path.display()
        );
    }
}

/// The push seeds reach what they are named for: the fuzzer starts from batches the server
/// accepts, not only from ones it refuses at the door.
#[test]
fn the_push_seeds_are_answered_as_a_server_answers_them() {
    use tillpoint_fuzz_targets::push_batch::answers;
    use tillpoint_protocol::sync::Outcome;
    let answered = |name: &str| {
        let bytes = seeds::all()
            .into_iter()
            .find(|s| s.target == "push_batch" && s.name == name)
            .expect("seed")
            .bytes;
        answers(&bytes).map(|all| all.into_iter().map(|(o, _)| o).collect::<Vec<_>>())
    };
    let accepted = |n| Some(vec![Outcome::Accepted; n]);
    assert_eq!(answered("online-sales-resigned"), accepted(2));
    assert_eq!(answered("offline-sale-under-grant"), accepted(1));
    assert_eq!(answered("session-with-sale-and-refund"), accepted(4));
    assert_eq!(
        answered("online-sales-as-sent"),
        None,
        "signed for another organisation"
    );
    assert_eq!(answered("record-of-another-device"), None);
    assert_eq!(
        answered("chain-starting-late"),
        Some(vec![Outcome::Quarantined, Outcome::Accepted])
    );
}

/// The token seeds reach what they are named for: genuinely signed tokens are accepted, so
/// the fuzzer starts inside the verifier's accepting path too.
#[test]
fn the_token_seeds_are_judged_as_named() {
    use tillpoint_fuzz_targets::tokens::verdicts;
    let judged = |name: &str| {
        let seed = seeds::all()
            .into_iter()
            .find(|s| s.target == "tokens" && s.name == name)
            .expect("seed");
        verdicts(&seed.bytes).expect("a token")
    };
    // [access token accepted, grant accepted by the server's verifier, by the till]
    assert_eq!(judged("access-signed"), [true, false, false]);
    assert_eq!(judged("access-expired"), [false, false, false]);
    assert_eq!(judged("grant-signed"), [false, true, true]);
    assert_eq!(judged("grant-other-device"), [false, true, false]);
    for refused in [
        "access-signed-as-grant",
        "foreign-key",
        "alg-none",
        "hmac-with-jku",
    ] {
        assert_eq!(judged(refused), [false, false, false], "{refused}");
    }
}
