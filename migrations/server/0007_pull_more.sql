-- The rest of the pull (docs/decisions/sync-pull.md, "What else a till learns"): people and
-- their permissions, revoked devices and grants, organisation settings, signing keys and
-- stock levels, numbered by the same per-organisation counter as the catalog (0005).
--
-- sync_changes (0005) cannot take these kinds: its CHECK lists the catalog's, and SQLite
-- cannot change a CHECK without rebuilding the table under every trigger that writes it.
-- So they get a table of their own with the same shape; numbers come from the same
-- sync_counters row, so they are unique across both tables and a pull merges the two in
-- number order. No CHECK on kind here: the pull refuses a kind it does not know.

CREATE TABLE sync_changes_more (
    org_id  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    -- users: user id; revoked_devices: device id; revoked_grants: jti; settings: org id;
    -- signing_keys: kid; stock_levels: '<product id>/<location id or empty>'.
    key     TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    PRIMARY KEY (org_id, kind, key),
    UNIQUE (org_id, version)
) STRICT, WITHOUT ROWID;

-- A role's permissions change every user holding it.
CREATE INDEX users_role ON users (role_id);

-- What exists already gets numbers now, after everything numbered so far. Signing keys are
-- the server's, not an organisation's: every organisation gets each of them.
INSERT INTO sync_changes_more (org_id, kind, key, version)
SELECT x.org_id, x.kind, x.key,
       c.version + ROW_NUMBER() OVER (PARTITION BY x.org_id ORDER BY x.rank, x.key)
FROM (
    SELECT c.org_id AS org_id, 'signing_keys' AS kind, k.kid AS key, 0 AS rank
        FROM sync_counters c CROSS JOIN signing_keys k
    UNION ALL SELECT org_id, 'settings', org_id, 1 FROM organisation_settings
    UNION ALL SELECT org_id, 'users', id, 2 FROM users
    UNION ALL SELECT org_id, 'revoked_devices', id, 3 FROM devices WHERE revoked_at IS NOT NULL
    UNION ALL SELECT org_id, 'revoked_grants', jti, 4 FROM offline_grants
        WHERE revoked_at IS NOT NULL
    UNION ALL SELECT org_id, 'stock_levels', product_id || '/' || location_id, 5
        FROM stock_levels
) x JOIN sync_counters c ON c.org_id = x.org_id;
UPDATE sync_counters SET version = MAX(version,
    COALESCE((SELECT MAX(m.version) FROM sync_changes_more m
              WHERE m.org_id = sync_counters.org_id), 0));

-- One pattern per table and event, as in 0005: take the organisation's next number, record
-- it against the record's key.

-- users (key: id). Only what a till receives: a password change does not count.
CREATE TRIGGER users_pull_insert AFTER INSERT ON users
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (new.org_id, 'users', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER users_pull_update AFTER UPDATE OF username, name, role_id, disabled ON users
WHEN old.username IS NOT new.username OR old.name IS NOT new.name
     OR old.role_id IS NOT new.role_id OR old.disabled IS NOT new.disabled
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (new.org_id, 'users', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER users_pull_delete AFTER DELETE ON users
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (old.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (old.org_id, 'users', old.id,
                (SELECT version FROM sync_counters WHERE org_id = old.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;

-- A role's permissions or name: every user of the role changes, each with its own number
-- (taken above the counter, then the counter moves past them).
CREATE TRIGGER role_permissions_pull_insert AFTER INSERT ON role_permissions
BEGIN
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        SELECT u.org_id, 'users', u.id, c.version + ROW_NUMBER() OVER (ORDER BY u.id)
        FROM users u JOIN sync_counters c ON c.org_id = u.org_id
        WHERE u.role_id = new.role_id
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    UPDATE sync_counters
        SET version = version + (SELECT COUNT(*) FROM users WHERE role_id = new.role_id)
        WHERE org_id = (SELECT org_id FROM users WHERE role_id = new.role_id LIMIT 1);
END;
CREATE TRIGGER role_permissions_pull_delete AFTER DELETE ON role_permissions
BEGIN
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        SELECT u.org_id, 'users', u.id, c.version + ROW_NUMBER() OVER (ORDER BY u.id)
        FROM users u JOIN sync_counters c ON c.org_id = u.org_id
        WHERE u.role_id = old.role_id
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    UPDATE sync_counters
        SET version = version + (SELECT COUNT(*) FROM users WHERE role_id = old.role_id)
        WHERE org_id = (SELECT org_id FROM users WHERE role_id = old.role_id LIMIT 1);
END;
CREATE TRIGGER roles_pull_update AFTER UPDATE OF name ON roles
WHEN old.name IS NOT new.name
BEGIN
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        SELECT u.org_id, 'users', u.id, c.version + ROW_NUMBER() OVER (ORDER BY u.id)
        FROM users u JOIN sync_counters c ON c.org_id = u.org_id
        WHERE u.role_id = new.id
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    UPDATE sync_counters
        SET version = version + (SELECT COUNT(*) FROM users WHERE role_id = new.id)
        WHERE org_id = (SELECT org_id FROM users WHERE role_id = new.id LIMIT 1);
END;

-- devices (key: id): only revocation concerns a till.
CREATE TRIGGER devices_pull_insert AFTER INSERT ON devices
WHEN new.revoked_at IS NOT NULL
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (new.org_id, 'revoked_devices', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER devices_pull_update AFTER UPDATE OF revoked_at ON devices
WHEN old.revoked_at IS NOT new.revoked_at
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (new.org_id, 'revoked_devices', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER devices_pull_delete AFTER DELETE ON devices
WHEN old.revoked_at IS NOT NULL
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (old.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (old.org_id, 'revoked_devices', old.id,
                (SELECT version FROM sync_counters WHERE org_id = old.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;

-- offline_grants (key: jti): only revocation (superseding does not end a grant for sync).
CREATE TRIGGER offline_grants_pull_insert AFTER INSERT ON offline_grants
WHEN new.revoked_at IS NOT NULL
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (new.org_id, 'revoked_grants', new.jti,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER offline_grants_pull_update AFTER UPDATE OF revoked_at ON offline_grants
WHEN old.revoked_at IS NOT new.revoked_at
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (new.org_id, 'revoked_grants', new.jti,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER offline_grants_pull_delete AFTER DELETE ON offline_grants
WHEN old.revoked_at IS NOT NULL
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (old.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (old.org_id, 'revoked_grants', old.jti,
                (SELECT version FROM sync_counters WHERE org_id = old.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;

-- organisation_settings (key: the organisation's id).
CREATE TRIGGER organisation_settings_pull_insert AFTER INSERT ON organisation_settings
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (new.org_id, 'settings', new.org_id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER organisation_settings_pull_update AFTER UPDATE OF access_token_ttl_secs, offline_grant_ttl_secs, offline_permissions, offline_limits ON organisation_settings
WHEN old.access_token_ttl_secs IS NOT new.access_token_ttl_secs
     OR old.offline_grant_ttl_secs IS NOT new.offline_grant_ttl_secs
     OR old.offline_permissions IS NOT new.offline_permissions
     OR old.offline_limits IS NOT new.offline_limits
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (new.org_id, 'settings', new.org_id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;

-- signing_keys (key: kid): the server's keys concern every organisation.
CREATE TRIGGER signing_keys_pull_insert AFTER INSERT ON signing_keys
BEGIN
    UPDATE sync_counters SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        SELECT org_id, 'signing_keys', new.kid, version FROM sync_counters WHERE true
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER signing_keys_pull_update AFTER UPDATE OF public_key, retired_at, verify_until ON signing_keys
BEGIN
    UPDATE sync_counters SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        SELECT org_id, 'signing_keys', new.kid, version FROM sync_counters WHERE true
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER signing_keys_pull_delete AFTER DELETE ON signing_keys
BEGIN
    UPDATE sync_counters SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        SELECT org_id, 'signing_keys', old.kid, version FROM sync_counters WHERE true
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
-- A new organisation gets the keys that exist (its counter row may not exist yet: triggers
-- on one event run in no promised order).
CREATE TRIGGER organisations_pull_keys AFTER INSERT ON organisations BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.id, 0)
        ON CONFLICT (org_id) DO NOTHING;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        SELECT new.id, 'signing_keys', k.kid, c.version + ROW_NUMBER() OVER (ORDER BY k.kid)
        FROM signing_keys k JOIN sync_counters c ON c.org_id = new.id
        WHERE true
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    UPDATE sync_counters SET version = version + (SELECT COUNT(*) FROM signing_keys)
        WHERE org_id = new.id;
END;

-- stock_levels (key: '<product id>/<location id or empty>'): every change of a level.
CREATE TRIGGER stock_levels_pull_insert AFTER INSERT ON stock_levels
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (new.org_id, 'stock_levels', new.product_id || '/' || new.location_id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER stock_levels_pull_update AFTER UPDATE ON stock_levels
WHEN old.on_hand_milli IS NOT new.on_hand_milli
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (new.org_id, 'stock_levels', new.product_id || '/' || new.location_id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER stock_levels_pull_delete AFTER DELETE ON stock_levels
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (old.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes_more (org_id, kind, key, version)
        VALUES (old.org_id, 'stock_levels', old.product_id || '/' || old.location_id,
                (SELECT version FROM sync_counters WHERE org_id = old.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
