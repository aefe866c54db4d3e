#!/usr/bin/env bash
# Runs Tillpoint on this machine: installs what is missing, builds, starts the server on its
# embedded SQLite with a demo organisation (credentials are printed), and opens the desktop
# app pointed at it. Closing the window stops the server.
#
#   TILLPOINT_DEMO_DIR        where both keep their data   (default: ./.tillpoint-dev)
#   TILLPOINT_DEMO_PORT       the server's loopback port   (default: 8787)
#   TILLPOINT_DEMO_PRODUCTS   size of the demo catalog     (default: 5000)
#   TILLPOINT_DEMO_PASSWORD   the demo users' password     (default: random, printed)
#   TILLPOINT_HEADLESS=1      run the window under Xvfb (no screen needed)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

data="${TILLPOINT_DEMO_DIR:-$PWD/.tillpoint-dev}"
port="${TILLPOINT_DEMO_PORT:-8787}"
products="${TILLPOINT_DEMO_PRODUCTS:-5000}"

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "${TILLPOINT_HEADLESS:-0}" != 1 ]; then
  echo "demo: no display found. Run this from a desktop session, or set TILLPOINT_HEADLESS=1 to run the window under Xvfb." >&2
  exit 1
fi

npm --prefix ui run build
cargo build --locked -p tillpoint-server -p tillpoint

mkdir -p "$data"
target/debug/tillpoint-server demo --products "$products" \
  --data-dir "$data/server" --listen "127.0.0.1:$port" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "demo: the server did not start (see above)" >&2; exit 1; }
  sleep 0.2
done

export TILLPOINT_SERVER_URL="http://127.0.0.1:$port"
export TILLPOINT_DATA_DIR="$data/till"
if [ "${TILLPOINT_HEADLESS:-0}" = 1 ]; then
  # No desktop session: give the app a throw-away unlocked keyring, as the tests do.
  dbus-run-session -- keyctl session - scripts/with-test-keyring.sh \
    xvfb-run -a -s "-screen 0 1280x800x24" target/debug/tillpoint
else
  target/debug/tillpoint
fi
