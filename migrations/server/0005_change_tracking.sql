-- Change tracking for sync pull (docs/decisions/sync-pull.md). Every change to an
-- organisation's master data takes the next number of that organisation's counter, and
-- sync_changes keeps, per record, the number of its latest change. A pull asks for the
-- records whose number is above its cursor; a record that no longer exists is sent as a
-- removal (tombstone). The triggers below maintain both tables, so no writer can forget to.
--
-- The counter row is updated inside the writing transaction and held until it commits, so
-- numbers are handed out in commit order within an organisation: a reader never sees
-- number N+1 committed while N is still to come (the same holds on PostgreSQL, where the
-- UPDATE takes a row lock until commit).

CREATE TABLE sync_counters (
    org_id  TEXT PRIMARY KEY REFERENCES organisations (id),
    version INTEGER NOT NULL CHECK (version >= 0)
) STRICT;

CREATE TABLE sync_changes (
    org_id  TEXT NOT NULL,
    -- The table the record lives in.
    kind    TEXT NOT NULL CHECK (kind IN ('organisations', 'locations', 'currencies',
                                           'exchange_rates', 'tax_classes', 'products',
                                           'barcodes')),
    -- The record's key within its organisation: id, or code for currencies, or the barcode.
    key     TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    PRIMARY KEY (org_id, kind, key),
    UNIQUE (org_id, version)
) STRICT, WITHOUT ROWID;

-- What exists already gets numbers now: parents before children, so an old database pulls
-- in an order a till can apply page by page.
INSERT INTO sync_changes (org_id, kind, key, version)
SELECT org_id, kind, key,
       ROW_NUMBER() OVER (PARTITION BY org_id ORDER BY rank, key)
FROM (
    SELECT id AS org_id, 'organisations' AS kind, id AS key, 0 AS rank FROM organisations
    UNION ALL SELECT org_id, 'currencies', code, 1 FROM currencies
    UNION ALL SELECT org_id, 'tax_classes', id, 2 FROM tax_classes
    UNION ALL SELECT org_id, 'locations', id, 3 FROM locations
    UNION ALL SELECT org_id, 'exchange_rates', id, 4 FROM exchange_rates
    UNION ALL SELECT org_id, 'products', id, 5 FROM products
    UNION ALL SELECT org_id, 'barcodes', barcode, 6 FROM barcodes
);
INSERT INTO sync_counters (org_id, version)
SELECT id, COALESCE((SELECT MAX(version) FROM sync_changes c WHERE c.org_id = o.id), 0)
FROM organisations o;

-- One pattern per table and event: take the organisation's next number, then record it
-- against the record's key (the old key too when an update changes it).

CREATE TRIGGER organisations_sync_insert AFTER INSERT ON organisations BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.id, 'organisations', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
-- Only what a till receives: other columns may be added to organisations without churn.
CREATE TRIGGER organisations_sync_update AFTER UPDATE OF name, tax_number, base_currency
ON organisations
WHEN old.name IS NOT new.name OR old.tax_number IS NOT new.tax_number
     OR old.base_currency IS NOT new.base_currency
BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.id, 'organisations', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;

-- locations (key: id)
CREATE TRIGGER locations_sync_insert AFTER INSERT ON locations BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.org_id, 'locations', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER locations_sync_update AFTER UPDATE ON locations BEGIN
    INSERT INTO sync_counters (org_id, version) SELECT old.org_id, 1 WHERE old.id IS NOT new.id
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        SELECT old.org_id, 'locations', old.id,
               (SELECT version FROM sync_counters WHERE org_id = old.org_id)
        WHERE old.id IS NOT new.id
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.org_id, 'locations', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER locations_sync_delete AFTER DELETE ON locations BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (old.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (old.org_id, 'locations', old.id,
                (SELECT version FROM sync_counters WHERE org_id = old.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;

-- currencies (key: code)
CREATE TRIGGER currencies_sync_insert AFTER INSERT ON currencies BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.org_id, 'currencies', new.code,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER currencies_sync_update AFTER UPDATE ON currencies BEGIN
    INSERT INTO sync_counters (org_id, version) SELECT old.org_id, 1 WHERE old.code IS NOT new.code
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        SELECT old.org_id, 'currencies', old.code,
               (SELECT version FROM sync_counters WHERE org_id = old.org_id)
        WHERE old.code IS NOT new.code
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.org_id, 'currencies', new.code,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER currencies_sync_delete AFTER DELETE ON currencies BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (old.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (old.org_id, 'currencies', old.code,
                (SELECT version FROM sync_counters WHERE org_id = old.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;

-- exchange_rates (key: id)
CREATE TRIGGER exchange_rates_sync_insert AFTER INSERT ON exchange_rates BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.org_id, 'exchange_rates', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER exchange_rates_sync_update AFTER UPDATE ON exchange_rates BEGIN
    INSERT INTO sync_counters (org_id, version) SELECT old.org_id, 1 WHERE old.id IS NOT new.id
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        SELECT old.org_id, 'exchange_rates', old.id,
               (SELECT version FROM sync_counters WHERE org_id = old.org_id)
        WHERE old.id IS NOT new.id
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.org_id, 'exchange_rates', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER exchange_rates_sync_delete AFTER DELETE ON exchange_rates BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (old.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (old.org_id, 'exchange_rates', old.id,
                (SELECT version FROM sync_counters WHERE org_id = old.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;

-- tax_classes (key: id)
CREATE TRIGGER tax_classes_sync_insert AFTER INSERT ON tax_classes BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.org_id, 'tax_classes', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER tax_classes_sync_update AFTER UPDATE ON tax_classes BEGIN
    INSERT INTO sync_counters (org_id, version) SELECT old.org_id, 1 WHERE old.id IS NOT new.id
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        SELECT old.org_id, 'tax_classes', old.id,
               (SELECT version FROM sync_counters WHERE org_id = old.org_id)
        WHERE old.id IS NOT new.id
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.org_id, 'tax_classes', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER tax_classes_sync_delete AFTER DELETE ON tax_classes BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (old.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (old.org_id, 'tax_classes', old.id,
                (SELECT version FROM sync_counters WHERE org_id = old.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;

-- products (key: id)
CREATE TRIGGER products_sync_insert AFTER INSERT ON products BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.org_id, 'products', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER products_sync_update AFTER UPDATE ON products BEGIN
    INSERT INTO sync_counters (org_id, version) SELECT old.org_id, 1 WHERE old.id IS NOT new.id
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        SELECT old.org_id, 'products', old.id,
               (SELECT version FROM sync_counters WHERE org_id = old.org_id)
        WHERE old.id IS NOT new.id
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.org_id, 'products', new.id,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER products_sync_delete AFTER DELETE ON products BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (old.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (old.org_id, 'products', old.id,
                (SELECT version FROM sync_counters WHERE org_id = old.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;

-- barcodes (key: barcode)
CREATE TRIGGER barcodes_sync_insert AFTER INSERT ON barcodes BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.org_id, 'barcodes', new.barcode,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER barcodes_sync_update AFTER UPDATE ON barcodes BEGIN
    INSERT INTO sync_counters (org_id, version) SELECT old.org_id, 1 WHERE old.barcode IS NOT new.barcode
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        SELECT old.org_id, 'barcodes', old.barcode,
               (SELECT version FROM sync_counters WHERE org_id = old.org_id)
        WHERE old.barcode IS NOT new.barcode
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    INSERT INTO sync_counters (org_id, version) VALUES (new.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (new.org_id, 'barcodes', new.barcode,
                (SELECT version FROM sync_counters WHERE org_id = new.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER barcodes_sync_delete AFTER DELETE ON barcodes BEGIN
    INSERT INTO sync_counters (org_id, version) VALUES (old.org_id, 1)
        ON CONFLICT (org_id) DO UPDATE SET version = version + 1;
    INSERT INTO sync_changes (org_id, kind, key, version)
        VALUES (old.org_id, 'barcodes', old.barcode,
                (SELECT version FROM sync_counters WHERE org_id = old.org_id))
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
END;
