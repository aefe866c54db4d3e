#!/usr/bin/env bash
# Tests the server's HTTP API against its own OpenAPI document with schemathesis: the real
# `tillpoint-server` binary, the demo organisation, a real access token for each demo role,
# and for each role time-boxed schemathesis passes whose every answer must be no 5xx, a
# status the document lists for that operation, with the documented content type, body
# schema and headers. Exits non-zero on any failure, after schemathesis's report. See
# docs/reliability.md, "API contract".
#
#   scripts/contract.sh [SECONDS]   fuzzing time across all roles (default 180)
#
#   TILLPOINT_SERVER_BIN   the server binary to test (default: built with cargo)
#   CONTRACT_SEED          schemathesis's random seed, to replay a run (default: random)
#   CONTRACT_KEEP=1        keep the server's data folder, log and the reports afterwards
#
# schemathesis comes from .venv-contract/, which scripts/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."

budget="${1:-180}"
# At least 12 s per role: with less, a pass ends before it has tested every operation it
# selected (seen at 4 s), which counts as red.
[[ "$budget" =~ ^[0-9]+$ ]] && [ "$budget" -ge 60 ] ||
  { echo "contract: SECONDS must be a whole number of at least 60, got '$budget'" >&2; exit 2; }

venv="$PWD/.venv-contract"
[ -x "$venv/bin/schemathesis" ] ||
  { echo "contract: .venv-contract/bin/schemathesis is missing; run scripts/setup.sh" >&2; exit 1; }

# Least privileged first: a role's run may change what a later one could reach (create users
# and roles, disable or re-role people it may manage), never what an earlier one already did.
roles=(cashier accountant stockmanager admin superadmin)
per_role=$((budget / ${#roles[@]}))
# Fixed, so the script can sign in; the server exists only for this run.
export TILLPOINT_DEMO_PASSWORD="contract-run-password"

if [ -n "${TILLPOINT_SERVER_BIN:-}" ]; then
  server_bin="$TILLPOINT_SERVER_BIN"
else
  cargo build --locked --quiet -p tillpoint-server
  server_bin="${CARGO_TARGET_DIR:-target}/debug/tillpoint-server"
fi

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  if [ "${CONTRACT_KEEP:-0}" = 1 ]; then
    echo "contract: the server's data, its log and the reports are in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# Nothing from an operator's environment. A command, not a function: started in the
# background, `$!` is then the server itself (env execs it), which the cleanup stops.
server_cmd=(env -u TILLPOINT_SERVER_CONFIG -u TILLPOINT_SERVER_LISTEN -u TILLPOINT_SERVER_MASTER_KEY
  -u TILLPOINT_SERVER_MASTER_KEY_FILE -u TILLPOINT_SERVER_TRUSTED_PROXIES
  "$server_bin" --data-dir "$work/server" --log-level warn)

"${server_cmd[@]}" demo --seed-only --products 200 >/dev/null
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
"${server_cmd[@]}" --listen "127.0.0.1:$port" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 150); do
  curl -fsS "$url/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; echo "contract: the server did not start" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "$url/healthz" >/dev/null || { echo "contract: the server did not answer /healthz" >&2; exit 1; }

seed_args=()
[ -n "${CONTRACT_SEED:-}" ] && seed_args=(--seed "$CONTRACT_SEED")

failed=()

# contract_pass LABEL TOKEN SECONDS [FILTERS...]: one schemathesis run. Green only if it
# tested every operation it selected and found nothing: an empty run exits 0 too.
contract_pass() {
  local label="$1" token="$2" seconds="$3"
  shift 3
  local report="$work/report-$((++passes)).json"
  printf '\n\033[1m==> API contract as %s (%ss)\033[0m\n' "$label" "$seconds"
  # One worker: CPython 3.11's ast.parse, which hypothesis calls to describe strategies, is
  # not safe across threads (a SystemError seen with two). Run from the scratch folder, where
  # schemathesis leaves its cache.
  (cd "$work" && "$venv/bin/schemathesis" run "$url/api/v1/openapi.json" \
    --url "$url" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --max-time "$seconds" \
    --workers 1 \
    --generation-database none \
    --report json --report-json-path "$report" \
    --no-color \
    "${seed_args[@]}" "$@") || true
  if ! "$venv/bin/python" - "$report" "$label" <<'PY'
import json, sys
path, label = sys.argv[1], sys.argv[2]
try:
    report = json.load(open(path))
except (OSError, ValueError) as err:
    sys.exit(f"contract: {label}: no schemathesis report ({err})")
ops, cases = report["operations"], report["test_cases"]
print(f"contract: {label}: {ops['tested']}/{ops['selected']} operations, "
      f"{cases['generated']} test cases, {cases['with_failures']} failing, "
      f"{len(report['errors'])} errors, exit code {report['exit_code']}")
if report["exit_code"] != 0 or report["failures"] or report["errors"] \
        or cases["with_failures"] or not cases["generated"] \
        or ops["tested"] != ops["selected"] or ops["selected"] == 0:
    sys.exit(1)
PY
  then
    failed+=("$label")
  fi
}
passes=0

for role in "${roles[@]}"; do
  # Signed in just before its run, on a new device: an earlier run cannot have ended it.
  token="$("$venv/bin/python" scripts/contract_sign_in.py "$url" "$role")"
  status="$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/api/v1/me")"
  if [ "$status" != 200 ]; then
    echo "contract: $role's fresh token is refused by /api/v1/me ($status)" >&2
    failed+=("$role")
    continue
  fi
  # Two passes: every operation but the two that can end the caller's own token, then
  # those two, after which the token may well be refused (and 401 is checked like any answer).
  contract_pass "$role" "$token" $((per_role - per_role / 4)) \
    --exclude-path-regex '^/api/v1/admin/(devices/\{id\}/revoke|roles/\{id\}/permissions)$'
  # A run that ended its own token tested nothing after that: say so, it needs an exclusion.
  status="$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/api/v1/me")"
  if [ "$status" != 200 ]; then
    echo "contract: $role's token was ended during its run (/api/v1/me answers $status)" >&2
    failed+=("$role (token ended)")
  fi
  contract_pass "$role, ending its token" "$token" $((per_role / 4)) \
    --include-path-regex '^/api/v1/admin/(devices|roles)(/\{id\}/(revoke|permissions))?$'
done

if ! kill -0 "$server" 2>/dev/null; then
  echo "contract: the server died during the run" >&2
  failed+=("server exited")
fi
if grep -q "panicked" "$work/server.log"; then
  echo "contract: the server panicked:" >&2
  grep -A5 "panicked" "$work/server.log" >&2
  failed+=("server panicked")
fi
# An answer can conform and still hide a fault the server logged (a database failure).
if grep -q "ERROR" "$work/server.log"; then
  echo "contract: the server logged errors:" >&2
  grep "ERROR" "$work/server.log" | head -20 >&2
  failed+=("server logged errors")
fi

if [ "${#failed[@]}" -gt 0 ]; then
  echo "contract: FAILED for: ${failed[*]}" >&2
  exit 1
fi
echo "contract: every answer matched the API document for ${roles[*]}"
