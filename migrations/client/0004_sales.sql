-- Selling (issue 5): what the till needs besides the catalog to sell, and what selling
-- writes. Every business event is one transaction that writes its rows, its journal entry
-- and its outbox row together (ARCHITECTURE.md §4). Money is integer minor units;
-- quantities are thousandths of their unit.

-- The organisation this till sells for, as pulled from the server: what a receipt prints.
CREATE TABLE organisation (
    singleton     INTEGER PRIMARY KEY CHECK (singleton = 1),
    org_id        TEXT NOT NULL,
    name          TEXT NOT NULL,
    tax_number    TEXT,
    base_currency TEXT NOT NULL CHECK (length(base_currency) = 3),
    updated_at    TEXT NOT NULL
) STRICT;

CREATE TABLE locations (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('shop', 'warehouse'))
) STRICT;

CREATE TABLE currencies (
    code        TEXT PRIMARY KEY CHECK (length(code) = 3),
    name        TEXT NOT NULL,
    minor_units INTEGER NOT NULL CHECK (minor_units BETWEEN 0 AND 4)
) STRICT, WITHOUT ROWID;

-- Units of `quote` for one unit of `base`, an exact decimal string; the one in force is the
-- latest whose effective_at has passed.
CREATE TABLE exchange_rates (
    id           TEXT PRIMARY KEY,
    base         TEXT NOT NULL,
    quote        TEXT NOT NULL,
    rate         TEXT NOT NULL,
    effective_at TEXT NOT NULL
) STRICT;
CREATE INDEX exchange_rates_lookup ON exchange_rates (base, quote, effective_at);

-- Name and SKU search: prefix matching (barcode scans go through `barcodes`).
CREATE VIRTUAL TABLE products_fts USING fts5 (
    name,
    sku,
    content = 'products',
    content_rowid = 'rowid',
    prefix = '2 3',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, name, sku) VALUES (new.rowid, new.name, new.sku);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, sku)
    VALUES ('delete', old.rowid, old.name, old.sku);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF name, sku ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, sku)
    VALUES ('delete', old.rowid, old.name, old.sku);
    INSERT INTO products_fts (rowid, name, sku) VALUES (new.rowid, new.name, new.sku);
END;
INSERT INTO products_fts (products_fts) VALUES ('rebuild');

-- The journal: this device's hash chain of business events. Append-only: the triggers refuse
-- edits made through SQLite, and the chain exposes edits made around it.
CREATE TABLE journal (
    seq        INTEGER PRIMARY KEY CHECK (seq >= 1),
    id         TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    creator_id TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    grant_jti  TEXT,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    payload    TEXT NOT NULL
) STRICT;
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal BEGIN
    SELECT RAISE (ABORT, 'the journal is append-only');
END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal BEGIN
    SELECT RAISE (ABORT, 'the journal is append-only');
END;

-- What is still to be pushed, and what the server answered for what was.
CREATE TABLE outbox (
    journal_seq INTEGER PRIMARY KEY REFERENCES journal (seq),
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'synced', 'quarantined', 'rejected')),
    reason      TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT
) STRICT;
CREATE INDEX outbox_state ON outbox (state, journal_seq);

-- A till session: a cash drawer opened with a counted float and closed with a counted
-- cash-up. One open at a time per device; several cashiers may sell in it.
CREATE TABLE till_sessions (
    id           TEXT PRIMARY KEY,
    device_id    TEXT NOT NULL,
    opened_by    TEXT NOT NULL,
    opened_by_name TEXT NOT NULL,
    opened_at    TEXT NOT NULL,
    closed_by    TEXT,
    closed_at    TEXT
) STRICT;
CREATE UNIQUE INDEX till_sessions_one_open ON till_sessions (device_id) WHERE closed_at IS NULL;

-- Counted cash: the float at opening and the cash-up at closing, per currency and tender.
CREATE TABLE till_session_counts (
    session_id   TEXT NOT NULL REFERENCES till_sessions (id),
    stage        TEXT NOT NULL CHECK (stage IN ('float', 'counted')),
    currency     TEXT NOT NULL,
    tender       TEXT NOT NULL,
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    PRIMARY KEY (session_id, stage, currency, tender)
) STRICT, WITHOUT ROWID;

-- Running totals kept as each sale is written, so X and Z reports read a few rows whatever
-- the session's size. `bucket` names the figure (sales, refunds, discounts, vat, tender,
-- change, cashier…), `key` what it is split by.
CREATE TABLE till_session_totals (
    session_id   TEXT NOT NULL REFERENCES till_sessions (id),
    bucket       TEXT NOT NULL,
    currency     TEXT NOT NULL,
    key          TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    extra_minor  INTEGER NOT NULL DEFAULT 0,
    count        INTEGER NOT NULL,
    PRIMARY KEY (session_id, bucket, currency, key)
) STRICT, WITHOUT ROWID;

-- Sales and refunds (a refund is a sale of kind 'refund' with negative amounts).
CREATE TABLE sales (
    id             TEXT PRIMARY KEY,
    receipt_seq    INTEGER NOT NULL UNIQUE CHECK (receipt_seq >= 1),
    receipt_no     TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL CHECK (kind IN ('sale', 'refund')),
    refund_of      TEXT REFERENCES sales (id),
    session_id     TEXT NOT NULL REFERENCES till_sessions (id),
    org_id         TEXT NOT NULL,
    creator_id     TEXT NOT NULL,
    creator_name   TEXT NOT NULL,
    approver_id    TEXT,
    device_id      TEXT NOT NULL,
    location_id    TEXT,
    currency       TEXT NOT NULL,
    subtotal_minor INTEGER NOT NULL,
    discount_minor INTEGER NOT NULL,
    total_minor    INTEGER NOT NULL,
    vat_minor      INTEGER NOT NULL,
    change_minor    INTEGER NOT NULL DEFAULT 0,
    change_currency TEXT,
    change_rate     TEXT,
    change_rate_base TEXT,
    reason         TEXT,
    created_at     TEXT NOT NULL,
    grant_jti      TEXT,
    journal_seq    INTEGER NOT NULL UNIQUE REFERENCES journal (seq),
    prints         INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX sales_session ON sales (session_id);
CREATE INDEX sales_refund_of ON sales (refund_of) WHERE refund_of IS NOT NULL;

CREATE TABLE sale_lines (
    sale_id             TEXT NOT NULL REFERENCES sales (id),
    line_no             INTEGER NOT NULL,
    product_id          TEXT NOT NULL,
    sku                 TEXT NOT NULL,
    name                TEXT NOT NULL,
    unit                TEXT NOT NULL CHECK (unit IN ('each', 'kg')),
    quantity_milli      INTEGER NOT NULL,
    unit_price_minor    INTEGER NOT NULL,
    list_price_minor    INTEGER NOT NULL,
    line_discount_minor INTEGER NOT NULL,
    cart_discount_minor INTEGER NOT NULL,
    total_minor         INTEGER NOT NULL,
    tax_code            TEXT NOT NULL,
    tax_rate_bp         INTEGER NOT NULL,
    vat_minor           INTEGER NOT NULL,
    -- On a refund line: the line of the original sale it returns, and whether it restocks.
    refund_of_line      INTEGER,
    restock             INTEGER CHECK (restock IN (0, 1)),
    PRIMARY KEY (sale_id, line_no)
) STRICT, WITHOUT ROWID;

CREATE TABLE sale_payments (
    sale_id      TEXT NOT NULL REFERENCES sales (id),
    payment_no   INTEGER NOT NULL,
    method       TEXT NOT NULL CHECK (method IN ('cash', 'card', 'mobile_money')),
    currency     TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    -- The rate captured at the sale: one `rate_base` is `rate` units of the other currency.
    rate         TEXT NOT NULL,
    rate_base    TEXT NOT NULL,
    -- What the tender counts for, in the sale's currency.
    value_minor  INTEGER NOT NULL,
    reference    TEXT,
    PRIMARY KEY (sale_id, payment_no)
) STRICT, WITHOUT ROWID;

-- The stock ledger: signed movements; on hand is their sum (ARCHITECTURE.md §4).
CREATE TABLE stock_movements (
    id             TEXT PRIMARY KEY,
    product_id     TEXT NOT NULL,
    location_id    TEXT,
    quantity_milli INTEGER NOT NULL,
    reason         TEXT NOT NULL,
    sale_id        TEXT REFERENCES sales (id),
    journal_seq    INTEGER NOT NULL REFERENCES journal (seq),
    created_at     TEXT NOT NULL
) STRICT;
CREATE INDEX stock_movements_product ON stock_movements (product_id);

-- The cart being rung up, saved on every change so a crash or restart loses nothing.
CREATE TABLE open_cart (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    cart       TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- Carts put aside to serve someone else, resumed later.
CREATE TABLE parked_carts (
    id           TEXT PRIMARY KEY,
    parked_by    TEXT NOT NULL,
    parked_by_name TEXT NOT NULL,
    parked_at    TEXT NOT NULL,
    label        TEXT NOT NULL,
    cart         TEXT NOT NULL
) STRICT;
