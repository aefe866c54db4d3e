-- The till's first schema: the slice of its organisation's catalog it sells from. A till
-- belongs to one organisation, so master data here carries no org_id; every business record
-- it creates (sales, movements: later migrations) does. Money is integer minor units.

CREATE TABLE tax_classes (
    id      TEXT PRIMARY KEY,
    code    TEXT NOT NULL UNIQUE CHECK (code IN ('standard', 'zero_rated', 'exempt')),
    name    TEXT NOT NULL,
    rate_bp INTEGER NOT NULL CHECK (rate_bp BETWEEN 0 AND 10000)
) STRICT;

CREATE TABLE products (
    id           TEXT PRIMARY KEY,
    sku          TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    unit         TEXT NOT NULL CHECK (unit IN ('each', 'kg')),
    tax_class_id TEXT NOT NULL REFERENCES tax_classes (id),
    price_minor  INTEGER NOT NULL CHECK (price_minor >= 0),
    currency     TEXT NOT NULL CHECK (length(currency) = 3),
    active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    updated_at   TEXT NOT NULL
) STRICT;

CREATE TABLE barcodes (
    barcode    TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX barcodes_product ON barcodes (product_id);
