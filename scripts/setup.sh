#!/usr/bin/env bash
# Installs what Tillpoint needs to build, run and test on Debian or Ubuntu, and nothing that
# is already there. Safe to run again; quick when everything is present.
#   scripts/setup.sh          everything (app + tests)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "run as root or install sudo: system packages are needed"
  SUDO="sudo"
fi

# System libraries for the Tauri window (WebKitGTK), the headless test display, WebDriver,
# and a Secret Service (gnome-keyring) for the keyring tests.
APT_PACKAGES=(
  build-essential pkg-config curl file
  libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev libsoup-3.0-dev libxdo-dev libssl-dev librsvg2-dev
  xvfb xauth webkit2gtk-driver
  gnome-keyring dbus-x11 dbus-user-session libsecret-tools libdbus-1-dev keyutils
  # The server's second engine: its suites run again on a throw-away PostgreSQL 15 cluster,
  # and the schema check compares the two schemas with the command-line tools.
  postgresql-15 postgresql-client-15 sqlite3
)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing system packages: ${missing[*]}"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

command -v cargo >/dev/null || die "Rust is missing: install it with rustup (https://rustup.rs), then run this again"

# Node 20.19+ for Vite 8.
node_ok() { node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; }
if ! node_ok; then
  say "installing Node.js from the system packages"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm || true
  node_ok || die "Node.js 20.19 or newer is needed for the UI build (found: $(node --version 2>/dev/null || echo none))"
fi

# The UI's packages, exactly as locked.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  say "installing the UI's npm packages"
  npm --prefix ui ci --no-audit --no-fund
fi

# tauri-driver bridges WebDriver to the desktop window in the end-to-end tests (major 2 only:
# crates.io also carries 3.0 alphas).
if ! command -v tauri-driver >/dev/null && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]; then
  say "installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked
fi

# schemathesis, for scripts/contract.sh (the API against its own OpenAPI document), and
# cryptography for its sign-in helper: pinned, in a virtualenv of the repository's own.
CONTRACT_TOOLS="schemathesis==4.32.5 cryptography==50.0.2"
if [ "$(cat .venv-contract/installed 2>/dev/null)" != "$CONTRACT_TOOLS" ]; then
  say "installing $CONTRACT_TOOLS into .venv-contract"
  python3 -m venv .venv-contract || die "python3 with its venv module is needed for the API contract test"
  # shellcheck disable=SC2086 # one argument per package
  .venv-contract/bin/pip install --quiet --disable-pip-version-check $CONTRACT_TOOLS
  echo "$CONTRACT_TOOLS" >.venv-contract/installed
fi

# The fuzz targets run under libFuzzer on nightly Rust through cargo-fuzz (scripts/fuzz.sh).
if command -v rustup >/dev/null && ! cargo +nightly --version >/dev/null 2>&1; then
  say "installing nightly Rust for the fuzz targets"
  rustup toolchain install nightly --profile minimal || true
fi
if cargo +nightly --version >/dev/null 2>&1 && ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
say "setup complete"
