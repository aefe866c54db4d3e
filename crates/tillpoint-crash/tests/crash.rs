//! The short crash campaign CI runs (scripts/crash.sh runs the long one): the till, the
//! server and a migration killed at seeded random moments, every check after every restart,
//! and the life settled with every sale on the server once.

use tillpoint_crash::campaign::{run_campaign, CampaignConfig};
use tillpoint_crash::runs::{RunKind, Timing};

#[test]
fn a_short_campaign_of_kills_loses_no_sale_and_breaks_no_store() {
    // The headless till cargo built for this test; the server is found beside it.
    std::env::set_var("TILLPOINT_CRASH_TILL_BIN", env!("CARGO_BIN_EXE_crash-till"));
    let config = CampaignConfig {
        runs: 20,
        seed: 20_261_204,
        runs_per_life: 20,
        products: 300,
        store_products: 5_000,
        timing: Timing::default(),
    };
    let tally = run_campaign(&config, |run, o| {
        eprintln!(
            "run {run} {} seed {} ok={} during {}: {}",
            o.kind.name(),
            o.seed,
            o.ok,
            o.killed_during,
            o.detail
        )
    });
    let failures: Vec<_> = tally
        .failures()
        .map(|o| format!("{} seed {}: {}", o.kind.name(), o.seed, o.detail))
        .collect();
    assert!(failures.is_empty(), "runs failed: {failures:#?}");
    let kinds: Vec<RunKind> = tally.matrix().keys().map(|(kind, _)| *kind).collect();
    for kind in [RunKind::Till, RunKind::Server, RunKind::Migration] {
        assert!(kinds.contains(&kind), "no {kind:?} run passed: {kinds:?}");
    }
    assert_eq!(tally.lives.len(), 1);
    let delivered = tally.lives[0].as_ref().expect("the life settles");
    assert!(*delivered > 0, "the till sold nothing in the whole life");
}
