-- Identity: per-organisation settings, signing keys, devices, refresh tokens, offline grants
-- issued, and the security audit log.

CREATE TABLE organisation_settings (
    org_id                 TEXT PRIMARY KEY REFERENCES organisations (id),
    -- Access-token lifetime in seconds (default 60 min).
    access_token_ttl_secs  INTEGER NOT NULL DEFAULT 3600 CHECK (access_token_ttl_secs BETWEEN 60 AND 86400),
    -- Offline-grant lifetime in seconds (default 72 h); never above the server's cap.
    offline_grant_ttl_secs INTEGER NOT NULL DEFAULT 259200 CHECK (offline_grant_ttl_secs BETWEEN 0 AND 604800),
    -- JSON array of permissions a till may exercise offline (intersected with the user's).
    offline_permissions    TEXT NOT NULL DEFAULT '[]',
    -- JSON object of offline limits per currency (see tillpoint_protocol::auth::GrantLimits).
    offline_limits         TEXT NOT NULL DEFAULT '{}',
    updated_at             TEXT NOT NULL
) STRICT;

-- Ed25519 keys that sign access tokens and offline grants. The private half is encrypted
-- with the server's master key (ChaCha20-Poly1305, the kid as associated data).
CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    public_key    BLOB NOT NULL CHECK (length(public_key) = 32),
    private_nonce BLOB NOT NULL,
    private_enc   BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    -- Set when a newer key takes over signing; the key still verifies until verify_until.
    retired_at    TEXT,
    verify_until  TEXT
) STRICT;

CREATE TABLE devices (
    org_id     TEXT NOT NULL REFERENCES organisations (id),
    id         TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    last_user  TEXT,
    revoked_at TEXT,
    PRIMARY KEY (org_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE refresh_tokens (
    id                TEXT PRIMARY KEY,
    family_id         TEXT NOT NULL,
    org_id            TEXT NOT NULL,
    user_id           TEXT NOT NULL REFERENCES users (id),
    device_id         TEXT NOT NULL,
    -- SHA-256 of the token; the token itself is never stored.
    token_hash        BLOB NOT NULL UNIQUE,
    created_at        TEXT NOT NULL,
    idle_expires_at   TEXT NOT NULL,
    family_expires_at TEXT NOT NULL,
    rotated_at        TEXT,
    revoked_at        TEXT,
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_device ON refresh_tokens (org_id, device_id);

-- Every offline grant issued, so sync can check a record's grant_jti against what was given.
CREATE TABLE offline_grants (
    jti        TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    device_id  TEXT NOT NULL,
    issued_at  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    claims     TEXT NOT NULL,
    revoked_at TEXT,
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
) STRICT;
CREATE INDEX offline_grants_device ON offline_grants (org_id, device_id);

CREATE TABLE audit_log (
    id        TEXT PRIMARY KEY,
    at        TEXT NOT NULL,
    org_id    TEXT,
    actor_id  TEXT,
    device_id TEXT,
    client_ip TEXT,
    event     TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_log_org_at ON audit_log (org_id, at);

-- Organisations made before this migration get their settings row now.
INSERT INTO organisation_settings (org_id, updated_at)
SELECT id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM organisations;
