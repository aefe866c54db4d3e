#!/usr/bin/env bash
# The long crash campaign (docs/reliability.md, "Crash safety"): the headless till and the
# real server killed with SIGKILL at seeded random moments, checked after every restart.
#   scripts/crash.sh                   1000 runs from seed 1
#   scripts/crash.sh --runs 3000 --seed 7
# Any `crash` option passes through (`--products`, `--runs-per-life`, `--till-max-ms`).
# Exits non-zero if any run fails; the failed run's seed is printed. CI runs a short
# campaign as a test (crates/tillpoint-crash/tests/crash.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -q -p tillpoint-server -p tillpoint-crash
exec "${CARGO_TARGET_DIR:-target}/debug/crash" "$@"
