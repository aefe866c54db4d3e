-- The rest of the pull (docs/decisions/sync-pull.md, "What else a till learns"): what the
-- server says now about people, devices, grants, settings, keys and stock. Offline, a grant
-- is narrowed by what is here (a permission removed since it was issued, a disabled person,
-- a revoked grant or device); nothing here ever widens it.

-- Every person of the organisation, with the permissions their role gives them now.
CREATE TABLE pulled_users (
    user_id     TEXT PRIMARY KEY,
    username    TEXT NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    -- JSON array of permissions.
    permissions TEXT NOT NULL,
    disabled    INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    pulled_at   TEXT NOT NULL
) STRICT;

-- Devices an administrator revoked (this one among them means: no offline work here).
CREATE TABLE revoked_devices (
    device_id  TEXT PRIMARY KEY,
    revoked_at TEXT NOT NULL
) STRICT;

-- Revoked offline grants issued to this device (other devices' are not kept).
CREATE TABLE revoked_grants (
    jti        TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    revoked_at TEXT NOT NULL
) STRICT;

-- The organisation's settings as last pulled (informational: grants carry their own).
CREATE TABLE organisation_settings (
    singleton              INTEGER PRIMARY KEY CHECK (singleton = 1),
    access_token_ttl_secs  INTEGER NOT NULL,
    offline_grant_ttl_secs INTEGER NOT NULL,
    offline_permissions    TEXT NOT NULL,
    offline_limits         TEXT NOT NULL,
    pulled_at              TEXT NOT NULL
) STRICT;

-- The server's stock levels per product and location ('' is "no location"), and when each
-- was received.
CREATE TABLE stock_levels (
    product_id    TEXT NOT NULL,
    location_id   TEXT NOT NULL DEFAULT '',
    on_hand_milli INTEGER NOT NULL,
    pulled_at     TEXT NOT NULL,
    PRIMARY KEY (product_id, location_id)
) STRICT, WITHOUT ROWID;

-- Keys now also arrive by pull, with their status; a retired key is dropped once its
-- verify_until has passed.
ALTER TABLE server_keys ADD COLUMN status TEXT;
ALTER TABLE server_keys ADD COLUMN verify_until TEXT;

-- A cursor stored by an older build skipped these kinds: the next pull starts again from
-- the beginning (the catalog is rewritten in place; nothing is lost meanwhile).
DELETE FROM sync_cursors WHERE stream = 'pull';
