#!/usr/bin/env bash
# Runs every fuzz target under libFuzzer (cargo-fuzz, nightly Rust) for a bounded time, then
# prints what each did. The targets' bodies are crates/tillpoint-fuzz-targets; the stable test
# suite replays fuzz/corpus/ without this script (docs/reliability.md, "Fuzzing").
#
#   scripts/fuzz.sh                 every target, 300 s each
#   scripts/fuzz.sh 600             every target, 600 s each
#   scripts/fuzz.sh --ci            every target, 30 s each, built unoptimised (quick to build)
#   FUZZ_TARGETS="tokens barcodes" scripts/fuzz.sh 60    only these
#
# New inputs go to a scratch corpus, fuzz/.work/<target>/ (ignored by git), so the committed
# corpus keeps only the seeds and the reproducers of fixed findings. A crash leaves its
# reproducer in fuzz/artifacts/<target>/ and makes this script exit 1; replay it with
# `cargo +nightly fuzz run <target> <file>`, fix, and copy it into fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=300
# cargo-fuzz's default: optimised, with debug assertions and overflow checks.
build=()
if [ "${1:-}" = "--ci" ]; then
  seconds=30
  # Unoptimised: the build is most of a short run's cost on two cores.
  build=(--dev)
elif [ -n "${1:-}" ]; then
  seconds="$1"
fi
targets=(${FUZZ_TARGETS:-push_batch tokens barcodes money_tax receipt_names})

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: nightly Rust is not installed, so the libFuzzer runs are SKIPPED (rustup toolchain install nightly)."
  echo "fuzz: the corpus is still replayed on stable by the tillpoint-fuzz-targets tests."
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is not installed, so the libFuzzer runs are SKIPPED (cargo install cargo-fuzz --locked)."
  echo "fuzz: the corpus is still replayed on stable by the tillpoint-fuzz-targets tests."
  exit 0
fi

# Beside the rest of the build output when a target folder is set; else fuzz/target.
target_dir="${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR/fuzz}"
target_dir="${target_dir:-$PWD/fuzz/target}"
# No sanitizer: the code under test is safe Rust, so AddressSanitizer would find nothing the
# Rust checks do not, at twice the build and run time. Overflow checks stay on.
fuzz=(cargo +nightly fuzz)
opts=(--fuzz-dir fuzz -s none --target-dir "$target_dir" ${build[@]+"${build[@]}"})

start=$(date +%s)
# One build for every target; each run below then finds it fresh.
"${fuzz[@]}" build "${opts[@]}"
echo "fuzz: built in $(( $(date +%s) - start )) s"
profile=release
[ "${build[*]-}" = "--dev" ] && profile=debug
bin_dir="$target_dir/$(rustc +nightly -vV | sed -n 's/^host: //p')/$profile"

failed=()
summary=()
for target in "${targets[@]}"; do
  scratch="fuzz/.work/$target"
  log="fuzz/.work/$target.log"
  mkdir -p "$scratch" "fuzz/artifacts/$target"
  echo "fuzz: $target for $seconds s"
  status=0
  # The binary built above, run as `cargo fuzz run` would but without building again.
  "$bin_dir/$target" -artifact_prefix="fuzz/artifacts/$target/" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "$scratch" "fuzz/corpus/$target" >"$log" 2>&1 || status=$?
  # A run that ended early may lack these lines: an empty figure, not the end of the script.
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  corp=$(grep -o 'corp: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  if [ "$status" -ne 0 ]; then
    reproducer=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -1 | sed 's/Test unit written to //' || true)
    failed+=("$target")
    summary+=("$(printf '%-14s FAILED  reproducer: %s  (log: %s)' "$target" "${reproducer:-none, see the log}" "$log")")
    grep -E 'panicked at|assertion|ERROR:' "$log" | head -5 || true
  else
    summary+=("$(printf '%-14s ok  %10s execs  cov %-6s ft %-6s corpus %s' "$target" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")")
  fi
done

echo
echo "fuzz: $seconds s a target, $(( $(date +%s) - start )) s in all"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
