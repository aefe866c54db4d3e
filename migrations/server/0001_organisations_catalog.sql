-- The server's first schema: organisations and their people, roles, places, money, tax and
-- catalog. Every tenant table carries org_id, and references between tenant rows include
-- org_id, so the schema itself refuses a row that points into another organisation.
-- Identifiers are UUIDv7 text; times are RFC 3339 UTC text; money is integer minor units.

CREATE TABLE organisations (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    tax_number    TEXT,
    base_currency TEXT NOT NULL CHECK (length(base_currency) = 3),
    created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE roles (
    id       TEXT PRIMARY KEY,
    org_id   TEXT NOT NULL REFERENCES organisations (id),
    name     TEXT NOT NULL,
    -- 1 for the five roles every organisation starts with.
    standard INTEGER NOT NULL DEFAULT 0 CHECK (standard IN (0, 1)),
    UNIQUE (org_id, name),
    UNIQUE (org_id, id)
) STRICT;

CREATE TABLE role_permissions (
    role_id    TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
) STRICT, WITHOUT ROWID;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    -- Usernames are unique across the server: login names no organisation.
    username      TEXT NOT NULL COLLATE NOCASE UNIQUE,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    role_id       TEXT NOT NULL,
    -- PHC string (argon2id with its parameters), so parameters can be upgraded per user.
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id)
) STRICT;
CREATE INDEX users_org ON users (org_id);

CREATE TABLE locations (
    id     TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    name   TEXT NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('shop', 'warehouse')),
    UNIQUE (org_id, name)
) STRICT;

CREATE TABLE currencies (
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    code        TEXT NOT NULL CHECK (length(code) = 3),
    name        TEXT NOT NULL,
    -- Digits after the decimal point: 2 for USD and ZWG.
    minor_units INTEGER NOT NULL CHECK (minor_units BETWEEN 0 AND 4),
    PRIMARY KEY (org_id, code)
) STRICT, WITHOUT ROWID;

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
) STRICT;
CREATE INDEX exchange_rates_lookup ON exchange_rates (org_id, base, quote, effective_at);

CREATE TABLE tax_classes (
    id      TEXT PRIMARY KEY,
    org_id  TEXT NOT NULL REFERENCES organisations (id),
    code    TEXT NOT NULL CHECK (code IN ('standard', 'zero_rated', 'exempt')),
    name    TEXT NOT NULL,
    -- Basis points: 1500 = 15 %. Zero-rated and exempt both charge 0 but report apart.
    rate_bp INTEGER NOT NULL CHECK (rate_bp BETWEEN 0 AND 10000),
    UNIQUE (org_id, code),
    UNIQUE (org_id, id)
) STRICT;

CREATE TABLE products (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    sku          TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- 'each' sells in whole units; 'kg' in thousandths (grams).
    unit         TEXT NOT NULL CHECK (unit IN ('each', 'kg')),
    tax_class_id TEXT NOT NULL,
    -- Tax-inclusive price per unit, in minor units of `currency`.
    price_minor  INTEGER NOT NULL CHECK (price_minor >= 0),
    currency     TEXT NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    updated_at   TEXT NOT NULL,
    UNIQUE (org_id, sku),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, tax_class_id) REFERENCES tax_classes (org_id, id),
    FOREIGN KEY (org_id, currency) REFERENCES currencies (org_id, code)
) STRICT;

CREATE TABLE barcodes (
    org_id     TEXT NOT NULL,
    barcode    TEXT NOT NULL,
    product_id TEXT NOT NULL,
    PRIMARY KEY (org_id, barcode),
    FOREIGN KEY (org_id, product_id) REFERENCES products (org_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX barcodes_product ON barcodes (org_id, product_id);
