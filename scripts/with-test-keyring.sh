#!/usr/bin/env bash
# Runs "$@" with a real, unlocked Secret Service (gnome-keyring) in a throw-away folder, so
# keyring tests use the same store a Linux till does. Call it inside a fresh D-Bus session
# and kernel key session:
#   dbus-run-session -- keyctl session - scripts/with-test-keyring.sh cargo nextest run
set -euo pipefail
export XDG_DATA_HOME="${TILLPOINT_TEST_KEYRING_DIR:-$(mktemp -d)}"
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -w "${XDG_RUNTIME_DIR}" ]; then
  XDG_RUNTIME_DIR="$(mktemp -d)"
  export XDG_RUNTIME_DIR
fi
chmod 700 "$XDG_RUNTIME_DIR"
eval "$(printf 'tillpoint-test' | gnome-keyring-daemon --unlock --components=secrets --daemonize)"
export GNOME_KEYRING_CONTROL
# Tells the keyring tests a real Secret Service is there to test against.
export TILLPOINT_TEST_KEYRING=1
exec "$@"
