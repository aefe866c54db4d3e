#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this). Installs what is missing
# first. Fails on the first red step.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Rust formatting"
cargo fmt --all -- --check

step "UI: type check, lint, unit tests, build"
npm --prefix ui run typecheck
npm --prefix ui run lint
npm --prefix ui test
# The desktop binary embeds ui/dist, so the UI is built before any cargo build.
npm --prefix ui run build

step "Rust lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust tests: every crate's, the system tests and the desktop end to end (under Xvfb, with a test keyring)"
xvfb-run -a -s "-screen 0 1280x800x24" \
  dbus-run-session -- keyctl session - scripts/with-test-keyring.sh \
  cargo nextest run --workspace --locked --no-fail-fast

step "PostgreSQL: the PostgreSQL schema against SQLite's, then the server's and the system suites again on a throw-away cluster"
scripts/pg-schema-check.sh
source scripts/lib/pg-cluster.sh
PG_TEST_DIR=$(mktemp -d /tmp/tillpoint-pg-tests.XXXXXX)
trap 'pg_cluster_stop "$PG_TEST_DIR"; rm -rf "$PG_TEST_DIR"' EXIT
pg_cluster_start "$PG_TEST_DIR" "${PG_TEST_PORT:-55432}"
# The same tests, each server on a fresh database of its own there (crates/tillpoint-server/
# src/testing.rs); the ones that start the binary on a data folder stay on SQLite.
# Filtered from the whole workspace, so the build above is reused as it is.
TILLPOINT_TEST_POSTGRES="$PG_CLUSTER_URL" \
  cargo nextest run --workspace --locked --no-fail-fast \
  -E 'package(tillpoint-server) | package(tillpoint-system-tests) | package(tillpoint-loadgen)'
pg_cluster_stop "$PG_TEST_DIR"

step "API contract: the real server against its own OpenAPI document, as every demo role (schemathesis)"
# The server binary the tests above just built: building it alone would rebuild the crate
# without the test features.
TILLPOINT_SERVER_BIN="${CARGO_TARGET_DIR:-target}/debug/tillpoint-server" scripts/contract.sh

step "Fuzzing: every target 30 s under libFuzzer (their corpus was replayed with the Rust tests)"
scripts/fuzz.sh --ci
