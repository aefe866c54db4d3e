-- PostgreSQL baseline: brings an EMPTY PostgreSQL 15 database to the state of the SQLite
-- server schema at version 11 (migrations/server/0001_*.sql … 0011_*.sql, squashed). Later
-- migrations are added to both folders under the same numbers.
--
-- Translation rules (see the SQLite files for what each table and column means):
--   * Same tables, columns (in the same order), NOT NULL-ness, primary keys, UNIQUE
--     constraints, foreign keys, CHECKs and index names as SQLite.
--   * INTEGER -> BIGINT (the Rust side binds i64), TEXT -> TEXT, BLOB -> BYTEA. Booleans stay
--     BIGINT 0/1 with the SQLite CHECK. Times stay RFC 3339 UTC text, compared as text.
--   * users.username (COLLATE NOCASE in SQLite) is citext: equality, UNIQUE and the trigger's
--     "did it change" test stay case-insensitive.
--   * The rowid tables whose key the app leaves out (stock_movements, sync_exceptions) take
--     their id from an identity column.
--   * The 41 SQLite triggers are PL/pgSQL trigger functions with the same effect, the same
--     names, and the same WHEN conditions (SQLite `a IS NOT b` = `a IS DISTINCT FROM b`).
--   * Row-level security keyed by organisation: see the end of the file.
--
-- Nothing from the SQLite data migrations (backfills of organisation_settings,
-- sync_changes, sync_changes_more, users.disabled_at) is here: they act on existing rows and
-- this baseline is only ever applied to an empty database.

CREATE EXTENSION IF NOT EXISTS citext;

-- ---------------------------------------------------------------------------------------------
-- 0001: organisations, roles, places, money, tax and catalog. Every tenant table carries
-- org_id, and references between tenant rows include org_id, so the schema itself refuses a
-- row that points into another organisation. Identifiers are UUIDv7 text; times are RFC 3339
-- UTC text; money is integer minor units.

CREATE TABLE organisations (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    tax_number    TEXT,
    base_currency TEXT NOT NULL CHECK (length(base_currency) = 3),
    created_at    TEXT NOT NULL
);

CREATE TABLE roles (
    id       TEXT PRIMARY KEY,
    org_id   TEXT NOT NULL REFERENCES organisations (id),
    name     TEXT NOT NULL,
    -- 1 for the five roles every organisation starts with.
    standard BIGINT NOT NULL DEFAULT 0 CHECK (standard IN (0, 1)),
    UNIQUE (org_id, name),
    UNIQUE (org_id, id)
);

CREATE TABLE role_permissions (
    role_id    TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    -- Usernames are unique across the server: login names no organisation. citext keeps
    -- SQLite's COLLATE NOCASE (case-insensitive equality and uniqueness).
    username      CITEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    role_id       TEXT NOT NULL,
    -- PHC string (argon2id with its parameters), so parameters can be upgraded per user.
    password_hash TEXT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    -- 0010: when the user was disabled; NULL while enabled.
    disabled_at   TEXT,
    FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id)
);
CREATE INDEX users_org ON users (org_id);
-- 0007: a role's permissions change every user holding it.
CREATE INDEX users_role ON users (role_id);

CREATE TABLE locations (
    id     TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    name   TEXT NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('shop', 'warehouse')),
    UNIQUE (org_id, name)
);

CREATE TABLE currencies (
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    code        TEXT NOT NULL CHECK (length(code) = 3),
    name        TEXT NOT NULL,
    -- Digits after the decimal point: 2 for USD and ZWG.
    minor_units BIGINT NOT NULL CHECK (minor_units BETWEEN 0 AND 4),
    PRIMARY KEY (org_id, code)
);

CREATE TABLE exchange_rates (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    base         TEXT NOT NULL,
    quote        TEXT NOT NULL,
    -- Units of `quote` for one unit of `base`, as an exact decimal string (never a float).
    rate         TEXT NOT NULL,
    effective_at TEXT NOT NULL,
    FOREIGN KEY (org_id, base) REFERENCES currencies (org_id, code),
    FOREIGN KEY (org_id, quote) REFERENCES currencies (org_id, code)
);
CREATE INDEX exchange_rates_lookup ON exchange_rates (org_id, base, quote, effective_at);

CREATE TABLE tax_classes (
    id      TEXT PRIMARY KEY,
    org_id  TEXT NOT NULL REFERENCES organisations (id),
    code    TEXT NOT NULL CHECK (code IN ('standard', 'zero_rated', 'exempt')),
    name    TEXT NOT NULL,
    -- Basis points: 1500 = 15 %. Zero-rated and exempt both charge 0 but report apart.
    rate_bp BIGINT NOT NULL CHECK (rate_bp BETWEEN 0 AND 10000),
    UNIQUE (org_id, code),
    UNIQUE (org_id, id)
);

CREATE TABLE products (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    sku          TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- 'each' sells in whole units; 'kg' in thousandths (grams).
    unit         TEXT NOT NULL CHECK (unit IN ('each', 'kg')),
    tax_class_id TEXT NOT NULL,
    -- Tax-inclusive price per unit, in minor units of `currency`.
    price_minor  BIGINT NOT NULL CHECK (price_minor >= 0),
    currency     TEXT NOT NULL,
    active       BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    updated_at   TEXT NOT NULL,
    UNIQUE (org_id, sku),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, tax_class_id) REFERENCES tax_classes (org_id, id),
    FOREIGN KEY (org_id, currency) REFERENCES currencies (org_id, code)
);

CREATE TABLE barcodes (
    org_id     TEXT NOT NULL,
    barcode    TEXT NOT NULL,
    product_id TEXT NOT NULL,
    PRIMARY KEY (org_id, barcode),
    FOREIGN KEY (org_id, product_id) REFERENCES products (org_id, id) ON DELETE CASCADE
);
CREATE INDEX barcodes_product ON barcodes (org_id, product_id);

-- ---------------------------------------------------------------------------------------------
-- 0002-0004, 0006, 0008: identity (per-organisation settings, signing keys, devices, refresh
-- tokens, offline grants issued, the security audit log).

CREATE TABLE organisation_settings (
    org_id                 TEXT PRIMARY KEY REFERENCES organisations (id),
    -- Access-token lifetime in seconds (default 60 min).
    access_token_ttl_secs  BIGINT NOT NULL DEFAULT 3600 CHECK (access_token_ttl_secs BETWEEN 60 AND 86400),
    -- Offline-grant lifetime in seconds (default 72 h); never above the server's cap.
    offline_grant_ttl_secs BIGINT NOT NULL DEFAULT 259200 CHECK (offline_grant_ttl_secs BETWEEN 0 AND 604800),
    -- JSON array of permissions a till may exercise offline (intersected with the user's).
    offline_permissions    TEXT NOT NULL DEFAULT '[]',
    -- JSON object of offline limits per currency (see tillpoint_protocol::auth::GrantLimits).
    offline_limits         TEXT NOT NULL DEFAULT '{}',
    updated_at             TEXT NOT NULL
);

-- Ed25519 keys that sign access tokens and offline grants. The private half is encrypted
-- with the server's master key (ChaCha20-Poly1305, the kid as associated data). The server's,
-- not an organisation's: no org_id, no row-level security.
CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    public_key    BYTEA NOT NULL CHECK (length(public_key) = 32),
    private_nonce BYTEA NOT NULL,
    private_enc   BYTEA NOT NULL,
    created_at    TEXT NOT NULL,
    -- Set when a newer key takes over signing; the key still verifies until verify_until.
    retired_at    TEXT,
    verify_until  TEXT
);

CREATE TABLE devices (
    org_id            TEXT NOT NULL REFERENCES organisations (id),
    id                TEXT NOT NULL,
    first_seen        TEXT NOT NULL,
    last_seen         TEXT NOT NULL,
    last_user         TEXT,
    revoked_at        TEXT,
    -- 0006: the Ed25519 public key the device presented at its first sign-in with a key.
    public_key        BYTEA CHECK (public_key IS NULL OR length(public_key) = 32),
    key_bound_at      TEXT,
    -- 0008: server time minus device time in seconds at the last sign-in that sent it.
    clock_offset_secs BIGINT,
    clock_measured_at TEXT,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE refresh_tokens (
    id                TEXT PRIMARY KEY,
    family_id         TEXT NOT NULL,
    org_id            TEXT NOT NULL,
    user_id           TEXT NOT NULL REFERENCES users (id),
    device_id         TEXT NOT NULL,
    -- SHA-256 of the token; the token itself is never stored.
    token_hash        BYTEA NOT NULL UNIQUE,
    created_at        TEXT NOT NULL,
    idle_expires_at   TEXT NOT NULL,
    family_expires_at TEXT NOT NULL,
    rotated_at        TEXT,
    revoked_at        TEXT,
    -- 0004: tells a retried refresh apart from a stolen token being replayed.
    replaced_by       TEXT,
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_device ON refresh_tokens (org_id, device_id);
-- 0003: a user's tokens by index (revoke_user), not by scanning the table.
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- Every offline grant issued, so sync can check a record's grant_jti against what was given.
CREATE TABLE offline_grants (
    jti           TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    device_id     TEXT NOT NULL,
    issued_at     TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    claims        TEXT NOT NULL,
    revoked_at    TEXT,
    -- 0004: grants follow the sign-in (refresh family) they were issued with.
    family_id     TEXT,
    superseded_at TEXT,
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
);
CREATE INDEX offline_grants_device ON offline_grants (org_id, device_id);
CREATE INDEX offline_grants_family ON offline_grants (family_id);
CREATE INDEX offline_grants_user_device ON offline_grants (org_id, user_id, device_id);

-- org_id is NULL for events that belong to no organisation (such rows are visible only with
-- tillpoint.org_id = '*', see the row-level security below).
CREATE TABLE audit_log (
    id        TEXT PRIMARY KEY,
    at        TEXT NOT NULL,
    org_id    TEXT,
    actor_id  TEXT,
    device_id TEXT,
    client_ip TEXT,
    event     TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_org_at ON audit_log (org_id, at);

-- ---------------------------------------------------------------------------------------------
-- 0005 and 0007: change tracking for sync pull (docs/decisions/sync-pull.md). Every change to
-- an organisation's master data takes the next number of that organisation's counter, and
-- sync_changes (catalog kinds) / sync_changes_more (the other kinds, 0007) keep, per record,
-- the number of its latest change. A pull asks for the records whose number is above its
-- cursor; a record that no longer exists is sent as a removal (tombstone). The triggers
-- below maintain these tables, so no writer can forget to.
--
-- The counter row is updated inside the writing transaction and held until it commits, so
-- numbers are handed out in commit order within an organisation: a reader never sees
-- number N+1 committed while N is still to come. On PostgreSQL this holds because the
-- UPDATE of the counter row (INSERT … ON CONFLICT DO UPDATE below) takes a row lock that is
-- held until commit: a second writer of the same organisation waits for the first to commit
-- and then reads its number.

CREATE TABLE sync_counters (
    org_id  TEXT PRIMARY KEY REFERENCES organisations (id),
    version BIGINT NOT NULL CHECK (version >= 0)
);

CREATE TABLE sync_changes (
    org_id  TEXT NOT NULL,
    -- The table the record lives in.
    kind    TEXT NOT NULL CHECK (kind IN ('organisations', 'locations', 'currencies',
                                           'exchange_rates', 'tax_classes', 'products',
                                           'barcodes')),
    -- The record's key within its organisation: id, or code for currencies, or the barcode.
    key     TEXT NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    PRIMARY KEY (org_id, kind, key),
    UNIQUE (org_id, version)
);

-- Same shape as sync_changes; no CHECK on kind (the pull refuses a kind it does not know).
CREATE TABLE sync_changes_more (
    org_id  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    -- users: user id; revoked_devices: device id; revoked_grants: jti; settings: org id;
    -- signing_keys: kid; stock_levels: '<product id>/<location id or empty>'.
    key     TEXT NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    PRIMARY KEY (org_id, kind, key),
    UNIQUE (org_id, version)
);

-- ---------------------------------------------------------------------------------------------
-- 0006, 0009, 0010: sync push (docs/decisions/sync-push.md).

-- Where the server's copy of each device's chain ends: the last record received in seq order.
CREATE TABLE device_chains (
    org_id          TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    last_seq        BIGINT NOT NULL CHECK (last_seq >= 1),
    last_hash       TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    -- 0009: the created_at of the record the chain ends at.
    last_created_at TEXT,
    PRIMARY KEY (org_id, device_id),
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
);

-- Every record a till pushed that was not rejected as unreadable, exactly as it was sent.
CREATE TABLE sync_records (
    id           TEXT PRIMARY KEY,          -- the server's id for this copy (quarantine API)
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    record_id    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    creator_id   TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    created_at   TEXT NOT NULL,
    grant_jti    TEXT,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    -- accepted: applied. quarantined: held for a manager (under review). released: applied by
    -- a manager. voided: kept, never applied.
    status       TEXT NOT NULL CHECK (status IN ('accepted', 'quarantined', 'released', 'voided')),
    reason       TEXT,
    resolved_at  TEXT,
    resolved_by  TEXT,
    -- 0009: who handed the record in, and how.
    pushed_by    TEXT,
    pushed_via   TEXT CHECK (pushed_via IS NULL OR pushed_via IN ('push', 'import')),
    UNIQUE (org_id, record_id, content_hash)
);
CREATE INDEX sync_records_lookup ON sync_records (org_id, record_id);
CREATE INDEX sync_records_status ON sync_records (org_id, status);
CREATE INDEX sync_records_chain ON sync_records (org_id, device_id, seq);

-- Sales and refunds applied from accepted (or released) records.
CREATE TABLE sales (
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    id              TEXT NOT NULL,          -- the till's sale id
    sync_record_id  TEXT NOT NULL REFERENCES sync_records (id),
    kind            TEXT NOT NULL CHECK (kind IN ('sale', 'refund')),
    device_id       TEXT NOT NULL,
    creator_id      TEXT NOT NULL,
    receipt_no      TEXT NOT NULL,
    till_session_id TEXT NOT NULL,
    location_id     TEXT,
    currency        TEXT NOT NULL,
    subtotal_minor  BIGINT NOT NULL,
    discount_minor  BIGINT NOT NULL,
    total_minor     BIGINT NOT NULL,
    refund_of       TEXT,
    approver_id     TEXT,
    grant_jti       TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX sales_receipt ON sales (org_id, receipt_no);
-- 0010: a refund is judged against what remains refundable of its sale.
CREATE INDEX sales_refund_of ON sales (org_id, refund_of) WHERE refund_of IS NOT NULL;

CREATE TABLE sale_lines (
    org_id           TEXT NOT NULL,
    sale_id          TEXT NOT NULL,
    line_no          BIGINT NOT NULL,
    product_id       TEXT NOT NULL,
    sku              TEXT NOT NULL,
    name             TEXT NOT NULL,
    quantity_milli   BIGINT NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    list_price_minor BIGINT NOT NULL,
    discount_minor   BIGINT NOT NULL,
    total_minor      BIGINT NOT NULL,
    vat_minor        BIGINT NOT NULL,
    PRIMARY KEY (org_id, sale_id, line_no),
    FOREIGN KEY (org_id, sale_id) REFERENCES sales (org_id, id)
);

CREATE TABLE sale_payments (
    org_id       TEXT NOT NULL,
    sale_id      TEXT NOT NULL,
    n            BIGINT NOT NULL,
    method       TEXT NOT NULL,
    currency     TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    value_minor  BIGINT NOT NULL,
    reference    TEXT,
    PRIMARY KEY (org_id, sale_id, n),
    FOREIGN KEY (org_id, sale_id) REFERENCES sales (org_id, id)
);

-- The server's stock ledger: signed movements; on hand is their sum per
-- (organisation, product, location), so pushes from many tills commute.
-- SQLite: `id INTEGER PRIMARY KEY` (rowid), left out by the app's INSERT.
CREATE TABLE stock_movements (
    id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    product_id     TEXT NOT NULL,
    location_id    TEXT,
    quantity_milli BIGINT NOT NULL,
    sale_id        TEXT,
    created_at     TEXT NOT NULL
);
CREATE INDEX stock_movements_level ON stock_movements (org_id, product_id, location_id);

-- The ledger's sum per (organisation, product, location). '' is "no location".
CREATE TABLE stock_levels (
    org_id        TEXT NOT NULL,
    product_id    TEXT NOT NULL,
    location_id   TEXT NOT NULL DEFAULT '',
    on_hand_milli BIGINT NOT NULL,
    PRIMARY KEY (org_id, product_id, location_id)
);

-- What a manager should look at although nothing was refused.
-- SQLite: `id INTEGER PRIMARY KEY` (rowid), left out by the app's INSERT.
CREATE TABLE sync_exceptions (
    id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    sync_record_id TEXT NOT NULL REFERENCES sync_records (id),
    kind           TEXT NOT NULL CHECK (kind IN ('negative_stock', 'price_differs')),
    detail         TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX sync_exceptions_org ON sync_exceptions (org_id, kind);

-- What has been sold (and refunded) offline under each grant, per currency.
CREATE TABLE grant_usage (
    org_id      TEXT NOT NULL,
    grant_jti   TEXT NOT NULL,
    currency    TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    PRIMARY KEY (org_id, grant_jti, currency)
);

-- ---------------------------------------------------------------------------------------------
-- 0011: access tokens issued at or before a cutoff are refused. Server-wide (its subjects are
-- users and devices of every organisation, and `version` is max(version) + 1 over the whole
-- table): no org_id, no row-level security.
CREATE TABLE token_cutoffs (
    -- 'user:<user id>', 'device:<org id>:<device id>' or 'session:<user id>:<device id>'.
    subject   TEXT PRIMARY KEY,
    -- Unix time in milliseconds; a token whose iat_ms is at or before it is refused.
    cutoff_ms BIGINT NOT NULL,
    version   BIGINT NOT NULL UNIQUE
);

-- ---------------------------------------------------------------------------------------------
-- Change-tracking trigger functions (0005, 0007).
--
-- Trigger order matters for the numbers handed out, and matches SQLite's:
--   * Two triggers on one event (organisations: AFTER INSERT) fire in name order on
--     PostgreSQL; SQLite fires the newest first. Both give organisations_pull_keys before
--     organisations_sync_insert.
--   * SQLite runs a row's AFTER triggers right after that row, and a cascading delete before
--     the parent's AFTER trigger: deleting a product numbers its barcodes' tombstones, then
--     the product's, then the next product's barcodes, and so on. PostgreSQL runs AFTER ROW
--     triggers at the end of the statement, and those of a cascade's rows after the parent's.
--     So products_sync_delete is a BEFORE DELETE trigger here that deletes the product's
--     barcodes itself (their AFTER triggers fire at the end of that inner DELETE) and then
--     numbers the product: the same numbers as SQLite, row by row. (The foreign key keeps
--     ON DELETE CASCADE; it finds nothing left to delete.) roles -> role_permissions also
--     cascades, but a role with users cannot be deleted (users.role_id refers to it), and
--     role_permissions' triggers number nothing for a role without users.
--   * Otherwise the AFTER ROW triggers fire in the order of the rows and only write the sync
--     tables: same result. What can differ is that order itself in a statement that writes
--     several rows: each engine numbers them in the order it scans them (SQLite often by an
--     index, PostgreSQL often in heap order). Single-row statements number identically.
-- Orderings by text (ROW_NUMBER) use COLLATE "C", SQLite's BINARY order, whatever the
-- database's collation.

-- Takes the organisation's next number and records it against (kind, key) in `target`
-- ('sync_changes' or 'sync_changes_more'). The counter row's lock is held until commit.
CREATE FUNCTION sync_note_change(target TEXT, p_org TEXT, p_kind TEXT, p_key TEXT)
RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT;
BEGIN
    INSERT INTO sync_counters AS c (org_id, version) VALUES (p_org, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = c.version + 1
        RETURNING c.version INTO n;
    IF target = 'sync_changes' THEN
        INSERT INTO sync_changes AS s (org_id, kind, key, version)
            VALUES (p_org, p_kind, p_key, n)
            ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    ELSIF target = 'sync_changes_more' THEN
        INSERT INTO sync_changes_more AS s (org_id, kind, key, version)
            VALUES (p_org, p_kind, p_key, n)
            ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    ELSE
        RAISE EXCEPTION 'sync_note_change: unknown target %', target;
    END IF;
END;
$$;

-- The generic change-tracking trigger (AFTER INSERT/UPDATE/DELETE, FOR EACH ROW):
--   TG_ARGV[0]  target table: 'sync_changes' or 'sync_changes_more'
--   TG_ARGV[1]  kind recorded
--   TG_ARGV[2]  key column; several columns separated by ',' are joined with '/'
--               (stock_levels: product_id || '/' || location_id)
--   TG_ARGV[3]  organisation column: 'org_id', or 'id' for organisations
--   TG_ARGV[4]  'old_key': on UPDATE, when the key changed, the old key is recorded first
--               (the 0005 catalog triggers); absent: only the new key (0005's
--               organisations_sync_update and every 0007 trigger)
-- INSERT records NEW, DELETE records OLD, UPDATE as above. WHEN conditions sit on the
-- CREATE TRIGGER, as in SQLite.
CREATE FUNCTION sync_track() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    target  TEXT := TG_ARGV[0];
    kind    TEXT := TG_ARGV[1];
    key_of  TEXT[] := string_to_array(TG_ARGV[2], ',');
    org_col TEXT := TG_ARGV[3];
    old_key BOOLEAN := TG_NARGS > 4 AND TG_ARGV[4] = 'old_key';
    o JSONB;
    r JSONB;
    ok TEXT;
    nk TEXT;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        o := to_jsonb(OLD);
        SELECT string_agg(o ->> c, '/' ORDER BY i) INTO ok
            FROM unnest(key_of) WITH ORDINALITY AS k (c, i);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        r := to_jsonb(NEW);
        SELECT string_agg(r ->> c, '/' ORDER BY i) INTO nk
            FROM unnest(key_of) WITH ORDINALITY AS k (c, i);
    END IF;

    IF TG_OP = 'DELETE' THEN
        PERFORM sync_note_change(target, o ->> org_col, kind, ok);
    ELSE
        IF TG_OP = 'UPDATE' AND old_key AND ok IS DISTINCT FROM nk THEN
            PERFORM sync_note_change(target, o ->> org_col, kind, ok);
        END IF;
        PERFORM sync_note_change(target, r ->> org_col, kind, nk);
    END IF;
    RETURN NULL;
END;
$$;

-- 0005: a product's delete (BEFORE DELETE, see the note on trigger order above): its barcodes
-- first, as SQLite's cascade does, then the product's own tombstone.
CREATE FUNCTION products_sync_delete() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM barcodes WHERE org_id = OLD.org_id AND product_id = OLD.id;
    PERFORM sync_note_change('sync_changes', OLD.org_id, 'products', OLD.id);
    RETURN OLD;
END;
$$;

-- 0007: a role's permissions or name change every user of the role, each with its own number
-- (taken above the counter, then the counter moves past them). No counter row is made here,
-- exactly as in SQLite.
CREATE FUNCTION sync_note_role_users(p_role TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_changes_more AS s (org_id, kind, key, version)
        SELECT u.org_id, 'users', u.id,
               c.version + ROW_NUMBER() OVER (ORDER BY u.id COLLATE "C")
        FROM users u JOIN sync_counters c ON c.org_id = u.org_id
        WHERE u.role_id = p_role
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    UPDATE sync_counters
        SET version = version + (SELECT COUNT(*) FROM users WHERE role_id = p_role)
        WHERE org_id = (SELECT org_id FROM users WHERE role_id = p_role LIMIT 1);
END;
$$;

CREATE FUNCTION role_permissions_pull() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM sync_note_role_users(OLD.role_id);
    ELSE
        PERFORM sync_note_role_users(NEW.role_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION roles_pull_update() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sync_note_role_users(NEW.id);
    RETURN NULL;
END;
$$;

-- 0007: the server's signing keys concern every organisation: each counter moves on and every
-- organisation records the key. Under row-level security the writer may be scoped to one
-- organisation (or none); the function widens the scope to '*' for its own two statements
-- and puts it back, so every organisation is numbered as on SQLite.
CREATE FUNCTION signing_keys_pull() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    kid   TEXT;
    scope TEXT := current_setting('tillpoint.org_id', true);
BEGIN
    IF TG_OP = 'DELETE' THEN
        kid := OLD.kid;
    ELSE
        kid := NEW.kid;
    END IF;
    PERFORM set_config('tillpoint.org_id', '*', true);
    UPDATE sync_counters SET version = version + 1;
    INSERT INTO sync_changes_more AS s (org_id, kind, key, version)
        SELECT c.org_id, 'signing_keys', kid, c.version FROM sync_counters c
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    PERFORM set_config('tillpoint.org_id', COALESCE(scope, ''), true);
    RETURN NULL;
END;
$$;

-- 0007: a new organisation gets the keys that exist (its counter row may not exist yet).
CREATE FUNCTION organisations_pull_keys() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (NEW.id, 0)
        ON CONFLICT (org_id) DO NOTHING;
    INSERT INTO sync_changes_more AS s (org_id, kind, key, version)
        SELECT NEW.id, 'signing_keys', k.kid,
               c.version + ROW_NUMBER() OVER (ORDER BY k.kid COLLATE "C")
        FROM signing_keys k JOIN sync_counters c ON c.org_id = NEW.id
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    UPDATE sync_counters SET version = version + (SELECT COUNT(*) FROM signing_keys)
        WHERE org_id = NEW.id;
    RETURN NULL;
END;
$$;

-- ---------------------------------------------------------------------------------------------
-- The 41 triggers, named as in SQLite.

-- 0005: organisations (key: id). Only what a till receives on update.
CREATE TRIGGER organisations_sync_insert AFTER INSERT ON organisations
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'organisations', 'id', 'id');
CREATE TRIGGER organisations_sync_update AFTER UPDATE OF name, tax_number, base_currency
    ON organisations FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.tax_number IS DISTINCT FROM NEW.tax_number
          OR OLD.base_currency IS DISTINCT FROM NEW.base_currency)
    EXECUTE FUNCTION sync_track('sync_changes', 'organisations', 'id', 'id');

-- 0005: locations (key: id)
CREATE TRIGGER locations_sync_insert AFTER INSERT ON locations
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'locations', 'id', 'org_id');
CREATE TRIGGER locations_sync_update AFTER UPDATE ON locations
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'locations', 'id', 'org_id', 'old_key');
CREATE TRIGGER locations_sync_delete AFTER DELETE ON locations
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'locations', 'id', 'org_id');

-- 0005: currencies (key: code)
CREATE TRIGGER currencies_sync_insert AFTER INSERT ON currencies
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'currencies', 'code', 'org_id');
CREATE TRIGGER currencies_sync_update AFTER UPDATE ON currencies
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'currencies', 'code', 'org_id', 'old_key');
CREATE TRIGGER currencies_sync_delete AFTER DELETE ON currencies
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'currencies', 'code', 'org_id');

-- 0005: exchange_rates (key: id)
CREATE TRIGGER exchange_rates_sync_insert AFTER INSERT ON exchange_rates
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'exchange_rates', 'id', 'org_id');
CREATE TRIGGER exchange_rates_sync_update AFTER UPDATE ON exchange_rates
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'exchange_rates', 'id', 'org_id', 'old_key');
CREATE TRIGGER exchange_rates_sync_delete AFTER DELETE ON exchange_rates
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'exchange_rates', 'id', 'org_id');

-- 0005: tax_classes (key: id)
CREATE TRIGGER tax_classes_sync_insert AFTER INSERT ON tax_classes
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'tax_classes', 'id', 'org_id');
CREATE TRIGGER tax_classes_sync_update AFTER UPDATE ON tax_classes
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'tax_classes', 'id', 'org_id', 'old_key');
CREATE TRIGGER tax_classes_sync_delete AFTER DELETE ON tax_classes
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'tax_classes', 'id', 'org_id');

-- 0005: products (key: id)
CREATE TRIGGER products_sync_insert AFTER INSERT ON products
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'products', 'id', 'org_id');
CREATE TRIGGER products_sync_update AFTER UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'products', 'id', 'org_id', 'old_key');
CREATE TRIGGER products_sync_delete BEFORE DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION products_sync_delete();

-- 0005: barcodes (key: barcode)
CREATE TRIGGER barcodes_sync_insert AFTER INSERT ON barcodes
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'barcodes', 'barcode', 'org_id');
CREATE TRIGGER barcodes_sync_update AFTER UPDATE ON barcodes
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'barcodes', 'barcode', 'org_id', 'old_key');
CREATE TRIGGER barcodes_sync_delete AFTER DELETE ON barcodes
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes', 'barcodes', 'barcode', 'org_id');

-- 0007: users (key: id). Only what a till receives: a password change does not count.
CREATE TRIGGER users_pull_insert AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes_more', 'users', 'id', 'org_id');
CREATE TRIGGER users_pull_update AFTER UPDATE OF username, name, role_id, disabled ON users
    FOR EACH ROW
    WHEN (OLD.username IS DISTINCT FROM NEW.username OR OLD.name IS DISTINCT FROM NEW.name
          OR OLD.role_id IS DISTINCT FROM NEW.role_id OR OLD.disabled IS DISTINCT FROM NEW.disabled)
    EXECUTE FUNCTION sync_track('sync_changes_more', 'users', 'id', 'org_id');
CREATE TRIGGER users_pull_delete AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes_more', 'users', 'id', 'org_id');

-- 0007: a role's permissions or name.
CREATE TRIGGER role_permissions_pull_insert AFTER INSERT ON role_permissions
    FOR EACH ROW EXECUTE FUNCTION role_permissions_pull();
CREATE TRIGGER role_permissions_pull_delete AFTER DELETE ON role_permissions
    FOR EACH ROW EXECUTE FUNCTION role_permissions_pull();
CREATE TRIGGER roles_pull_update AFTER UPDATE OF name ON roles
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION roles_pull_update();

-- 0007: devices (key: id): only revocation concerns a till.
CREATE TRIGGER devices_pull_insert AFTER INSERT ON devices
    FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION sync_track('sync_changes_more', 'revoked_devices', 'id', 'org_id');
CREATE TRIGGER devices_pull_update AFTER UPDATE OF revoked_at ON devices
    FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
    EXECUTE FUNCTION sync_track('sync_changes_more', 'revoked_devices', 'id', 'org_id');
CREATE TRIGGER devices_pull_delete AFTER DELETE ON devices
    FOR EACH ROW WHEN (OLD.revoked_at IS NOT NULL)
    EXECUTE FUNCTION sync_track('sync_changes_more', 'revoked_devices', 'id', 'org_id');

-- 0007: offline_grants (key: jti): only revocation (superseding does not end a grant for sync).
CREATE TRIGGER offline_grants_pull_insert AFTER INSERT ON offline_grants
    FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION sync_track('sync_changes_more', 'revoked_grants', 'jti', 'org_id');
CREATE TRIGGER offline_grants_pull_update AFTER UPDATE OF revoked_at ON offline_grants
    FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
    EXECUTE FUNCTION sync_track('sync_changes_more', 'revoked_grants', 'jti', 'org_id');
CREATE TRIGGER offline_grants_pull_delete AFTER DELETE ON offline_grants
    FOR EACH ROW WHEN (OLD.revoked_at IS NOT NULL)
    EXECUTE FUNCTION sync_track('sync_changes_more', 'revoked_grants', 'jti', 'org_id');

-- 0007: organisation_settings (key: the organisation's id).
CREATE TRIGGER organisation_settings_pull_insert AFTER INSERT ON organisation_settings
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes_more', 'settings', 'org_id', 'org_id');
CREATE TRIGGER organisation_settings_pull_update AFTER UPDATE OF access_token_ttl_secs,
    offline_grant_ttl_secs, offline_permissions, offline_limits ON organisation_settings
    FOR EACH ROW
    WHEN (OLD.access_token_ttl_secs IS DISTINCT FROM NEW.access_token_ttl_secs
          OR OLD.offline_grant_ttl_secs IS DISTINCT FROM NEW.offline_grant_ttl_secs
          OR OLD.offline_permissions IS DISTINCT FROM NEW.offline_permissions
          OR OLD.offline_limits IS DISTINCT FROM NEW.offline_limits)
    EXECUTE FUNCTION sync_track('sync_changes_more', 'settings', 'org_id', 'org_id');

-- 0007: signing_keys (key: kid): the server's keys concern every organisation.
CREATE TRIGGER signing_keys_pull_insert AFTER INSERT ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION signing_keys_pull();
CREATE TRIGGER signing_keys_pull_update AFTER UPDATE OF public_key, retired_at, verify_until
    ON signing_keys FOR EACH ROW EXECUTE FUNCTION signing_keys_pull();
CREATE TRIGGER signing_keys_pull_delete AFTER DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION signing_keys_pull();

-- 0007: a new organisation gets the keys that exist (fires before organisations_sync_insert,
-- as in SQLite: see the note on trigger order above).
CREATE TRIGGER organisations_pull_keys AFTER INSERT ON organisations
    FOR EACH ROW EXECUTE FUNCTION organisations_pull_keys();

-- 0007: stock_levels (key: '<product id>/<location id or empty>'): every change of a level.
CREATE TRIGGER stock_levels_pull_insert AFTER INSERT ON stock_levels
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes_more', 'stock_levels', 'product_id,location_id', 'org_id');
CREATE TRIGGER stock_levels_pull_update AFTER UPDATE ON stock_levels
    FOR EACH ROW WHEN (OLD.on_hand_milli IS DISTINCT FROM NEW.on_hand_milli)
    EXECUTE FUNCTION sync_track('sync_changes_more', 'stock_levels', 'product_id,location_id', 'org_id');
CREATE TRIGGER stock_levels_pull_delete AFTER DELETE ON stock_levels
    FOR EACH ROW EXECUTE FUNCTION sync_track('sync_changes_more', 'stock_levels', 'product_id,location_id', 'org_id');

-- ---------------------------------------------------------------------------------------------
-- Row-level security, keyed by organisation. The server sets
--   SET LOCAL tillpoint.org_id = '<org uuid>'  in a request made with a token, and
--   SET LOCAL tillpoint.org_id = '*'           in work that spans organisations (sign-in by
--                                              username, start-up, background work);
-- unset (or '') means nothing is visible. FORCE applies the policies to the tables' owner,
-- which is the role the server runs as. Foreign-key checks and cascades bypass them (as
-- PostgreSQL does for referential integrity), and the triggers run as the writer, whose
-- scope matches the rows they write (signing_keys_pull widens it itself).
--
-- Without a policy: signing_keys and token_cutoffs (server-wide, no organisation).
-- role_permissions has no org_id: it is scoped through its role (EXISTS on roles, itself
-- under the policy).

ALTER TABLE organisations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organisations FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON organisations
    USING (id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE role_permissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE role_permissions FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON role_permissions
    USING (EXISTS (SELECT 1 FROM roles r WHERE r.id = role_permissions.role_id))
    WITH CHECK (EXISTS (SELECT 1 FROM roles r WHERE r.id = role_permissions.role_id));

ALTER TABLE roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE roles FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON roles
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON users
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE locations ENABLE ROW LEVEL SECURITY;
ALTER TABLE locations FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON locations
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE currencies ENABLE ROW LEVEL SECURITY;
ALTER TABLE currencies FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON currencies
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE exchange_rates ENABLE ROW LEVEL SECURITY;
ALTER TABLE exchange_rates FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON exchange_rates
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE tax_classes ENABLE ROW LEVEL SECURITY;
ALTER TABLE tax_classes FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON tax_classes
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE products ENABLE ROW LEVEL SECURITY;
ALTER TABLE products FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON products
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE barcodes ENABLE ROW LEVEL SECURITY;
ALTER TABLE barcodes FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON barcodes
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE organisation_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE organisation_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON organisation_settings
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE devices FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON devices
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON refresh_tokens
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE offline_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE offline_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON offline_grants
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON audit_log
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE sync_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON sync_counters
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE sync_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON sync_changes
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE device_chains ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_chains FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON device_chains
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE sync_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_records FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON sync_records
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE sales ENABLE ROW LEVEL SECURITY;
ALTER TABLE sales FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON sales
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE sale_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE sale_lines FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON sale_lines
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE sale_payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE sale_payments FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON sale_payments
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE stock_movements ENABLE ROW LEVEL SECURITY;
ALTER TABLE stock_movements FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON stock_movements
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE stock_levels ENABLE ROW LEVEL SECURITY;
ALTER TABLE stock_levels FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON stock_levels
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE sync_exceptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_exceptions FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON sync_exceptions
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE grant_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE grant_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON grant_usage
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');

ALTER TABLE sync_changes_more ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_changes_more FORCE ROW LEVEL SECURITY;
CREATE POLICY organisation_scope ON sync_changes_more
    USING (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*')
    WITH CHECK (org_id = current_setting('tillpoint.org_id', true) OR current_setting('tillpoint.org_id', true) = '*');
