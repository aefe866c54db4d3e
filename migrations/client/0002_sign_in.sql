-- Signing in on the till (ARCHITECTURE.md §3). Nothing secret is stored here: the refresh
-- tokens and the device's private key live in the OS keyring; the offline grants are signed
-- public statements, verified on every use; passwords are kept only as argon2id verifiers.

-- This installation: a random id naming its keyring entries, the device id it signs in as
-- and that device's public key, and the organisation it belongs to (set at the first
-- online sign-in; a till never changes organisation without being set up again).
CREATE TABLE till_identity (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    install_id TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    public_key BLOB NOT NULL CHECK (length(public_key) = 32),
    org_id     TEXT,
    created_at TEXT NOT NULL
) STRICT;

-- The highest time this till has seen (Unix seconds), so that winding the clock back cannot
-- extend a grant; locked_at is set when the clock jumped back beyond the tolerance, and
-- cleared by the next online sign-in.
CREATE TABLE till_clock (
    singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
    highest_seen INTEGER NOT NULL,
    locked_at    INTEGER
) STRICT;

-- The server's public keys, as last fetched from its JWKS: the only keys a grant is checked
-- against while offline.
CREATE TABLE server_keys (
    kid        TEXT PRIMARY KEY,
    public_key BLOB NOT NULL CHECK (length(public_key) = 32),
    fetched_at TEXT NOT NULL
) STRICT;

-- People who signed in online on this till, with what lets them unlock it offline.
CREATE TABLE offline_users (
    user_id           TEXT PRIMARY KEY,
    username          TEXT NOT NULL COLLATE NOCASE UNIQUE,
    name              TEXT NOT NULL,
    role              TEXT NOT NULL,
    grant_token       TEXT NOT NULL,
    grant_expires_at  INTEGER NOT NULL,
    password_verifier TEXT NOT NULL,
    failed_unlocks    INTEGER NOT NULL DEFAULT 0,
    locked_until      INTEGER,
    updated_at        TEXT NOT NULL
) STRICT;

-- Every offline unlock attempt, kept for the manager and for sync.
CREATE TABLE unlock_attempts (
    id        INTEGER PRIMARY KEY,
    username  TEXT NOT NULL,
    at        INTEGER NOT NULL,
    succeeded INTEGER NOT NULL CHECK (succeeded IN (0, 1))
) STRICT;
