-- Sync push (docs/decisions/sync-push.md): the device keys that sign batches, the server's copy
-- of every device's journal (accepted and quarantined records alike), the sales and stock
-- movements applied from accepted records, and the offline totals used per grant.

-- The Ed25519 public key a device presented at its first sign-in with a key. Never replaced:
-- a later sign-in presenting another key is refused.
ALTER TABLE devices ADD COLUMN public_key BLOB CHECK (public_key IS NULL OR length(public_key) = 32);
ALTER TABLE devices ADD COLUMN key_bound_at TEXT;

-- Where the server's copy of each device's chain ends: the last record received in seq order.
CREATE TABLE device_chains (
    org_id     TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    last_seq   INTEGER NOT NULL CHECK (last_seq >= 1),
    last_hash  TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, device_id),
    FOREIGN KEY (org_id, device_id) REFERENCES devices (org_id, id)
) STRICT, WITHOUT ROWID;

-- Every record a till pushed that was not rejected as unreadable, exactly as it was sent.
-- `record_id` is the till's id; a second copy with the same id and other contents is a row of
-- its own (status 'quarantined', reason "conflicting copy"), never an overwrite.
-- `content_hash` is the hash computed from the record as received: it equals `hash` unless
-- the record was edited, and it is what tells a resent copy from another one.
CREATE TABLE sync_records (
    id          TEXT PRIMARY KEY,          -- the server's id for this copy (quarantine API)
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    record_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    creator_id  TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    grant_jti   TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    received_at TEXT NOT NULL,
    -- accepted: applied. quarantined: held for a manager (under review). released: applied by
    -- a manager. voided: kept, never applied.
    status      TEXT NOT NULL CHECK (status IN ('accepted', 'quarantined', 'released', 'voided')),
    reason      TEXT,
    resolved_at TEXT,
    resolved_by TEXT,
    UNIQUE (org_id, record_id, content_hash)
) STRICT;
CREATE INDEX sync_records_lookup ON sync_records (org_id, record_id);
CREATE INDEX sync_records_status ON sync_records (org_id, status);

-- Sales and refunds applied from accepted (or released) records.
CREATE TABLE sales (
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    id             TEXT NOT NULL,          -- the till's sale id
    sync_record_id TEXT NOT NULL REFERENCES sync_records (id),
    kind           TEXT NOT NULL CHECK (kind IN ('sale', 'refund')),
    device_id      TEXT NOT NULL,
    creator_id     TEXT NOT NULL,
    receipt_no     TEXT NOT NULL,
    till_session_id TEXT NOT NULL,
    location_id    TEXT,
    currency       TEXT NOT NULL,
    subtotal_minor INTEGER NOT NULL,
    discount_minor INTEGER NOT NULL,
    total_minor    INTEGER NOT NULL,
    refund_of      TEXT,
    approver_id    TEXT,
    grant_jti      TEXT,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;
CREATE INDEX sales_receipt ON sales (org_id, receipt_no);

CREATE TABLE sale_lines (
    org_id           TEXT NOT NULL,
    sale_id          TEXT NOT NULL,
    line_no          INTEGER NOT NULL,
    product_id       TEXT NOT NULL,
    sku              TEXT NOT NULL,
    name             TEXT NOT NULL,
    quantity_milli   INTEGER NOT NULL,
    unit_price_minor INTEGER NOT NULL,
    list_price_minor INTEGER NOT NULL,
    discount_minor   INTEGER NOT NULL,
    total_minor      INTEGER NOT NULL,
    vat_minor        INTEGER NOT NULL,
    PRIMARY KEY (org_id, sale_id, line_no),
    FOREIGN KEY (org_id, sale_id) REFERENCES sales (org_id, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE sale_payments (
    org_id       TEXT NOT NULL,
    sale_id      TEXT NOT NULL,
    n            INTEGER NOT NULL,
    method       TEXT NOT NULL,
    currency     TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    value_minor  INTEGER NOT NULL,
    reference    TEXT,
    PRIMARY KEY (org_id, sale_id, n),
    FOREIGN KEY (org_id, sale_id) REFERENCES sales (org_id, id)
) STRICT, WITHOUT ROWID;

-- The server's stock ledger: signed movements; on hand is their sum per
-- (organisation, product, location), so pushes from many tills commute.
CREATE TABLE stock_movements (
    id             INTEGER PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    product_id     TEXT NOT NULL,
    location_id    TEXT,
    quantity_milli INTEGER NOT NULL,
    sale_id        TEXT,
    created_at     TEXT NOT NULL
) STRICT;
CREATE INDEX stock_movements_level ON stock_movements (org_id, product_id, location_id);

-- The ledger's sum per (organisation, product, location), kept with every movement so a push
-- reads a level in one lookup however long the ledger grows. '' is "no location".
CREATE TABLE stock_levels (
    org_id        TEXT NOT NULL,
    product_id    TEXT NOT NULL,
    location_id   TEXT NOT NULL DEFAULT '',
    on_hand_milli INTEGER NOT NULL,
    PRIMARY KEY (org_id, product_id, location_id)
) STRICT, WITHOUT ROWID;

-- What a manager should look at although nothing was refused: stock sold below zero, a price
-- charged that differs from the list price.
CREATE TABLE sync_exceptions (
    id             INTEGER PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    sync_record_id TEXT NOT NULL REFERENCES sync_records (id),
    kind           TEXT NOT NULL CHECK (kind IN ('negative_stock', 'price_differs')),
    detail         TEXT NOT NULL,
    created_at     TEXT NOT NULL
) STRICT;
CREATE INDEX sync_exceptions_org ON sync_exceptions (org_id, kind);

-- What has been sold (and refunded) offline under each grant, per currency, by the records
-- applied: the grant's max_offline_total is checked against it.
CREATE TABLE grant_usage (
    org_id      TEXT NOT NULL,
    grant_jti   TEXT NOT NULL,
    currency    TEXT NOT NULL,
    total_minor INTEGER NOT NULL,
    PRIMARY KEY (org_id, grant_jti, currency)
) STRICT, WITHOUT ROWID;
