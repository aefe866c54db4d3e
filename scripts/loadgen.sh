#!/usr/bin/env bash
# Load on the server, for docs/benchmarks.md: starts the server(s) on a fresh database seeded
# with the demo organisation, then runs tillpoint-loadgen against them.
#
#   scripts/loadgen.sh postgres INSTANCES TILLS SALES_PER_TILL [PRODUCTS] [BATCH]
#   scripts/loadgen.sh sqlite 1 TILLS SALES_PER_TILL [PRODUCTS] [BATCH]
#
# LOADGEN_PUSH_RATE=R paces the push: the tills offer R records a second between them, each
# one batch at a time on its own schedule, instead of each sending again once answered.
#
# PostgreSQL runs as a throw-away cluster (scripts/lib/pg-cluster.sh) with durability on,
# as SQLite keeps synchronous=FULL. Release builds. Exits non-zero when the books do not
# reconcile.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

engine=${1:?postgres or sqlite}
instances=${2:?instances}
tills=${3:?tills}
sales=${4:?sales per till}
products=${5:-100000}
batch=${6:-100}
[ "$engine" = sqlite ] && [ "$instances" != 1 ] && { echo "loadgen: SQLite serves one instance" >&2; exit 2; }

# LOADGEN_PROFILE=debug for a quick check of the script itself; figures come from release.
profile=${LOADGEN_PROFILE:-release}
if [ "$profile" = release ]; then
  cargo build --release --locked -q -p tillpoint-server -p tillpoint-loadgen
else
  cargo build --locked -q -p tillpoint-server -p tillpoint-loadgen
fi
target="${CARGO_TARGET_DIR:-target}/$profile"

work=$(mktemp -d /tmp/tillpoint-loadgen.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "$engine" = postgres ] && pg_cluster_stop "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT

export TILLPOINT_DEMO_PASSWORD="load-test-password"
export TILLPOINT_SERVER_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
if [ "$engine" = postgres ]; then
  source "$ROOT/scripts/lib/pg-cluster.sh"
  # Autovacuum as installed: batch lookups are planned for their own values (store/postgres),
  # so a young database's missing statistics do not make them scan whole tables.
  PG_CLUSTER_DURABLE=1 pg_cluster_start "$work/pg" "${PG_LOADGEN_PORT:-55433}"
  psql "$PG_CLUSTER_URL" -X -q -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE tillpoint LOGIN" \
    -c "CREATE DATABASE tillpoint OWNER tillpoint LOCALE 'C.UTF-8' TEMPLATE template0"
  url="postgres://tillpoint@127.0.0.1:${PG_LOADGEN_PORT:-55433}/tillpoint"
else
  url="sqlite:$work/server-0/server.db"
fi

seed_start=$(date +%s)
"$target/tillpoint-server" --data-dir "$work/server-0" --database-url "$url" \
  demo --seed-only --products "$products" >/dev/null
echo "loadgen: $engine seeded with $products products in $(( $(date +%s) - seed_start )) s"

servers=()
for i in $(seq 0 $((instances - 1))); do
  port=$((18800 + i))
  "$target/tillpoint-server" --data-dir "$work/server-$i" --database-url "$url" \
    --listen "127.0.0.1:$port" --log-level warn >"$work/server-$i.log" 2>&1 &
  pids+=($!)
  servers+=(--server "http://127.0.0.1:$port")
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.2
  done
done

TILLPOINT_LOADGEN_PASSWORD="$TILLPOINT_DEMO_PASSWORD" "$target/tillpoint-loadgen" \
  "${servers[@]}" --database-url "$url" --tills "$tills" --sales-per-till "$sales" \
  --batch "$batch" ${LOADGEN_PUSH_RATE:+--push-rate "$LOADGEN_PUSH_RATE"} \
  --admin admin --work-dir "$work/tills"
