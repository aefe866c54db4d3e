#!/usr/bin/env bash
# Checks the PostgreSQL migrations (migrations/server/postgres/: a baseline, then the same
# numbers as SQLite's) against the SQLite server migrations (migrations/server/), with the command-line tools only
# (bash, sqlite3, PostgreSQL 15's initdb/pg_ctl/psql; no cargo):
#
#   1. the column lists per table (name, type, NOT NULL, position), the primary keys,
#      UNIQUE constraints, foreign keys (with ON DELETE) and named indexes (with partial WHERE);
#   2. the same sequence of writes on both engines, touching every change-tracking trigger,
#      leaves the same sync_counters, sync_changes and sync_changes_more;
#   3. row-level security: scoped to one organisation a session sees only its rows, unscoped
#      nothing, '*' everything, and a write into another organisation is refused.
#
# Starts a throw-away PostgreSQL cluster of its own (socket only, in a temp dir) and removes
# it at the end. initdb refuses root: run as root, the cluster runs as $PG_CLUSTER_USER
# (default nobody; scripts/lib/pg-cluster.sh). The baseline is applied as a non-superuser owner role, `app`, as the
# server runs (a superuser would bypass row-level security). Exits non-zero on any difference.
#
# Usage: scripts/pg-schema-check.sh   (PG_BIN, PG_PORT and PG_CLUSTER_USER may be set)

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG_PORT=${PG_PORT:-5499}
source "$ROOT/scripts/lib/pg-cluster.sh"

WORK=$(mktemp -d /tmp/pg-schema-check.XXXXXX)
chmod 755 "$WORK"
SQLITE_DB="$WORK/server.db"
PG_DIR="$WORK/pg"
FAILED=0

cleanup() {
    pg_cluster_stop "$PG_DIR"
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    FAILED=1
}

# Compares two outputs; prints a diff and records the failure when they differ.
same() {
    local what=$1 left=$2 right=$3
    if diff -u --label "sqlite: $what" --label "postgres: $what" "$left" "$right" >"$WORK/diff"; then
        echo "ok: $what ($(wc -l <"$left") rows)"
    else
        cat "$WORK/diff" >&2
        fail "$what differs"
    fi
}

# ---------------------------------------------------------------------------------------------
# The two databases.

for f in "$ROOT"/migrations/server/[0-9]*.sql; do
    sqlite3 -bail "$SQLITE_DB" <"$f"
done

pg_cluster_start "$PG_DIR" "$PG_PORT"

PSQL=(psql -h "$PG_DIR" -p "$PG_PORT" -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -U postgres -d postgres -c 'CREATE ROLE app LOGIN'
"${PSQL[@]}" -U postgres -d postgres -c 'CREATE DATABASE t OWNER app'
for f in "$ROOT"/migrations/server/postgres/[0-9]*.sql; do
    "${PSQL[@]}" -U app -d t -f "$f" >/dev/null
done
SQLITE_VERSION=$(basename "$(ls "$ROOT"/migrations/server/[0-9]*.sql | tail -1)" | cut -d_ -f1)
POSTGRES_VERSION=$(basename "$(ls "$ROOT"/migrations/server/postgres/[0-9]*.sql | tail -1)" | cut -d_ -f1)
[ "$SQLITE_VERSION" = "$POSTGRES_VERSION" ] ||
    fail "SQLite's migrations end at $SQLITE_VERSION, PostgreSQL's at $POSTGRES_VERSION: add the missing one"

sq() { sqlite3 -bail "$SQLITE_DB" "$@"; }
pg() { "${PSQL[@]}" -U app -d t -At "$@"; }
pg_super() { "${PSQL[@]}" -U postgres -d t -At "$@"; }

count() { pg -c "$1" | tail -n 1; }
expect() {
    local what=$1 want=$2 got=$3
    if [ "$got" = "$want" ]; then echo "ok: $what ($got)"; else fail "$what: want $want, got $got"; fi
}

# ---------------------------------------------------------------------------------------------
# 1. Structure.

# Columns: table|position|name|type|not null. SQLite INTEGER = int8, BLOB = bytea; the one
# COLLATE NOCASE column is citext; a rowid alias (INTEGER PRIMARY KEY) is never NULL.
nocase=$(sq "SELECT group_concat(name) FROM sqlite_master WHERE sql LIKE '%COLLATE NOCASE%'")
[ "$nocase" = users ] || fail "COLLATE NOCASE expected only in users, found in: $nocase"
sq "SELECT m.name, c.cid + 1, c.name,
           CASE WHEN m.name = 'users' AND c.name = 'username' THEN 'citext'
                WHEN c.type = 'INTEGER' THEN 'int8'
                WHEN c.type = 'TEXT' THEN 'text'
                WHEN c.type = 'BLOB' THEN 'bytea'
                WHEN c.type = 'REAL' THEN 'float8'
                ELSE 'unknown:' || c.type END,
           CASE WHEN c.\"notnull\" OR (c.pk = 1 AND c.type = 'INTEGER') THEN 'NOT NULL' ELSE 'NULL' END
    FROM sqlite_master m, pragma_table_info(m.name) c
    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
    ORDER BY 1, 2" >"$WORK/cols.sqlite"
pg -c "SELECT table_name, ordinal_position, column_name, udt_name,
              CASE is_nullable WHEN 'NO' THEN 'NOT NULL' ELSE 'NULL' END
       FROM information_schema.columns WHERE table_schema = 'public'
       ORDER BY table_name COLLATE \"C\", ordinal_position" >"$WORK/cols.pg"
same "columns per table" "$WORK/cols.sqlite" "$WORK/cols.pg"

# Primary keys and UNIQUE constraints: table|kind|columns in order.
sq "SELECT m.name, CASE l.origin WHEN 'pk' THEN 'p' ELSE 'u' END,
           (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno))
    FROM sqlite_master m, pragma_index_list(m.name) l
    WHERE m.type = 'table' AND l.origin IN ('pk', 'u')
    UNION ALL
    SELECT m.name, 'p', c.name FROM sqlite_master m, pragma_table_info(m.name) c
    WHERE m.type = 'table' AND c.pk = 1 AND c.type = 'INTEGER'
      AND (SELECT count(*) FROM pragma_table_info(m.name) WHERE pk > 0) = 1
    ORDER BY 1, 2, 3" | LC_ALL=C sort >"$WORK/keys.sqlite"
pg -c "SELECT c.conrelid::regclass::text, c.contype::text,
              (SELECT string_agg(a.attname, ',' ORDER BY k.i)
                 FROM unnest(c.conkey) WITH ORDINALITY k (n, i)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n)
       FROM pg_constraint c JOIN pg_namespace s ON s.oid = c.connamespace
       WHERE s.nspname = 'public' AND c.contype IN ('p', 'u')" | LC_ALL=C sort >"$WORK/keys.pg"
same "primary keys and UNIQUE constraints" "$WORK/keys.sqlite" "$WORK/keys.pg"

# Foreign keys: table|columns|parent|parent columns|on delete.
sq "SELECT m.name, group_concat(f.\"from\", ','), f.\"table\", group_concat(f.\"to\", ','), f.on_delete
    FROM sqlite_master m, pragma_foreign_key_list(m.name) f
    WHERE m.type = 'table'
    GROUP BY m.name, f.id" | LC_ALL=C sort >"$WORK/fks.sqlite"
pg -c "SELECT c.conrelid::regclass::text,
              (SELECT string_agg(a.attname, ',' ORDER BY k.i)
                 FROM unnest(c.conkey) WITH ORDINALITY k (n, i)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n),
              c.confrelid::regclass::text,
              (SELECT string_agg(a.attname, ',' ORDER BY k.i)
                 FROM unnest(c.confkey) WITH ORDINALITY k (n, i)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n),
              CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
                   WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END
       FROM pg_constraint c JOIN pg_namespace s ON s.oid = c.connamespace
       WHERE s.nspname = 'public' AND c.contype = 'f'" | LC_ALL=C sort >"$WORK/fks.pg"
same "foreign keys" "$WORK/fks.sqlite" "$WORK/fks.pg"

# Named indexes: name|table|columns|partial.
sq "SELECT l.name, m.name,
           (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno)),
           l.partial
    FROM sqlite_master m, pragma_index_list(m.name) l
    WHERE m.type = 'table' AND l.origin = 'c'" | LC_ALL=C sort >"$WORK/idx.sqlite"
pg -c "SELECT i.relname, t.relname,
              (SELECT string_agg(a.attname, ',' ORDER BY k.i)
                 FROM unnest(x.indkey::int2[]) WITH ORDINALITY k (n, i)
                 JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n),
              (x.indpred IS NOT NULL)::int
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace s ON s.oid = t.relnamespace
       WHERE s.nspname = 'public'
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)" \
    | LC_ALL=C sort >"$WORK/idx.pg"
same "named indexes" "$WORK/idx.sqlite" "$WORK/idx.pg"
# The one partial index keeps its WHERE.
pred=$(pg -c "SELECT pg_get_expr(x.indpred, x.indrelid) FROM pg_index x
              WHERE x.indexrelid = 'sales_refund_of'::regclass")
[ "$pred" = "(refund_of IS NOT NULL)" ] || fail "sales_refund_of WHERE is '$pred'"

# CHECK constraints: how many per table (their text is translated, so not compared).
sq "SELECT name, (length(sql) - length(replace(sql, 'CHECK (', ''))) / 7 FROM sqlite_master
    WHERE type = 'table' AND sql LIKE '%CHECK (%'" | LC_ALL=C sort >"$WORK/checks.sqlite"
pg -c "SELECT c.conrelid::regclass::text, count(*) FROM pg_constraint c
       JOIN pg_namespace s ON s.oid = c.connamespace
       WHERE s.nspname = 'public' AND c.contype = 'c' GROUP BY 1" | LC_ALL=C sort >"$WORK/checks.pg"
same "CHECK constraints per table" "$WORK/checks.sqlite" "$WORK/checks.pg"

# Triggers: the same names on the same tables. PostgreSQL's commit-time counter write (0013)
# is a constraint trigger of its own, checked apart.
sq "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'" | LC_ALL=C sort >"$WORK/trg.sqlite"
pg -c "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal AND tgconstraint = 0" \
    | LC_ALL=C sort >"$WORK/trg.pg"
same "triggers" "$WORK/trg.sqlite" "$WORK/trg.pg"
expect "commit-time counter triggers (postgres)" "sync_changes sync_changes_more" \
    "$(pg -c "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgconstraint <> 0
              AND tgdeferrable AND tginitdeferred AND tgname LIKE '%counter_at_commit'
              ORDER BY 1" | paste -sd' ')"

# ---------------------------------------------------------------------------------------------
# 2. The same writes on both engines. `SET tillpoint.org_id …` lines scope the PostgreSQL
# session (row-level security) and are dropped for SQLite; X'…' blobs become bytea literals.

cat >"$WORK/writes.sql" <<'SQL'
SET tillpoint.org_id = '*';
-- A signing key before any organisation exists.
INSERT INTO signing_keys (kid, public_key, private_nonce, private_enc, created_at)
    VALUES ('k1', X'0101010101010101010101010101010101010101010101010101010101010101', X'00', X'00', '2026-01-01T00:00:00.000Z');
-- Organisations: each gets the existing key (organisations_pull_keys) and its own change.
INSERT INTO organisations (id, name, tax_number, base_currency, created_at)
    VALUES ('org-a', 'Shop A', NULL, 'USD', '2026-01-01T00:00:00.000Z');
INSERT INTO organisations (id, name, tax_number, base_currency, created_at)
    VALUES ('org-b', 'Shop B', '123', 'ZWG', '2026-01-01T00:00:00.000Z');

SET tillpoint.org_id = 'org-a';
UPDATE organisations SET name = 'Shop A Ltd' WHERE id = 'org-a';
UPDATE organisations SET name = 'Shop A Ltd' WHERE id = 'org-a';              -- unchanged: none
UPDATE organisations SET created_at = '2026-01-02T00:00:00.000Z' WHERE id = 'org-a'; -- not tracked
INSERT INTO organisation_settings (org_id, updated_at) VALUES ('org-a', '2026-01-01T00:00:00.000Z');
UPDATE organisation_settings SET access_token_ttl_secs = 1800 WHERE org_id = 'org-a';
UPDATE organisation_settings SET access_token_ttl_secs = 1800 WHERE org_id = 'org-a'; -- none
UPDATE organisation_settings SET updated_at = '2026-01-03T00:00:00.000Z' WHERE org_id = 'org-a'; -- none
UPDATE organisation_settings SET offline_limits = '{"USD":1}' WHERE org_id = 'org-a';

-- Currencies (key: code), with a change of code and a delete.
INSERT INTO currencies (org_id, code, name, minor_units) VALUES ('org-a', 'USD', 'US dollar', 2);
INSERT INTO currencies (org_id, code, name, minor_units) VALUES ('org-a', 'ZWG', 'Zimbabwe gold', 2);
INSERT INTO currencies (org_id, code, name, minor_units) VALUES ('org-a', 'EUR', 'Euro', 2);
UPDATE currencies SET name = 'United States dollar' WHERE org_id = 'org-a' AND code = 'USD';
UPDATE currencies SET code = 'GBP', name = 'Pound' WHERE org_id = 'org-a' AND code = 'EUR';
DELETE FROM currencies WHERE org_id = 'org-a' AND code = 'GBP';

-- Tax classes.
INSERT INTO tax_classes (id, org_id, code, name, rate_bp) VALUES ('tc-std', 'org-a', 'standard', 'Standard', 1500);
INSERT INTO tax_classes (id, org_id, code, name, rate_bp) VALUES ('tc-ex', 'org-a', 'exempt', 'Exempt', 0);
UPDATE tax_classes SET rate_bp = 1550 WHERE id = 'tc-std';
UPDATE tax_classes SET id = 'tc-ex2' WHERE id = 'tc-ex';
DELETE FROM tax_classes WHERE id = 'tc-ex2';

-- Locations.
INSERT INTO locations (id, org_id, name, kind) VALUES ('loc-1', 'org-a', 'Front', 'shop');
INSERT INTO locations (id, org_id, name, kind) VALUES ('loc-2', 'org-a', 'Back', 'warehouse');
UPDATE locations SET name = 'Front shop' WHERE id = 'loc-1';
UPDATE locations SET id = 'loc-3' WHERE id = 'loc-2';
DELETE FROM locations WHERE id = 'loc-3';

-- Exchange rates.
INSERT INTO exchange_rates (id, org_id, base, quote, rate, effective_at)
    VALUES ('xr-1', 'org-a', 'USD', 'ZWG', '26.5', '2026-01-01T00:00:00.000Z');
INSERT INTO exchange_rates (id, org_id, base, quote, rate, effective_at)
    VALUES ('xr-2', 'org-a', 'ZWG', 'USD', '0.0377', '2026-01-01T00:00:00.000Z');
UPDATE exchange_rates SET rate = '26.7' WHERE id = 'xr-1';
UPDATE exchange_rates SET id = 'xr-3' WHERE id = 'xr-2';
DELETE FROM exchange_rates WHERE id = 'xr-3';

-- From here to the signing keys, writes go in transactions of several changes, as the
-- server's do: PostgreSQL counts a transaction's numbers on from its first (0013) and must
-- hand out the same ones, also across a rolled-back savepoint and the direct counter moves
-- of role users and signing keys.
BEGIN;
-- Products and barcodes: a price change, a changed barcode, a changed product id, and a
-- product delete that cascades to its barcodes (they are numbered before the product).
INSERT INTO products (id, org_id, sku, name, unit, tax_class_id, price_minor, currency, active, updated_at)
    VALUES ('p-1', 'org-a', 'SKU1', 'Bread', 'each', 'tc-std', 120, 'USD', 1, '2026-01-01T00:00:00.000Z');
INSERT INTO products (id, org_id, sku, name, unit, tax_class_id, price_minor, currency, active, updated_at)
    VALUES ('p-2', 'org-a', 'SKU2', 'Milk', 'each', 'tc-std', 99, 'USD', 1, '2026-01-01T00:00:00.000Z');
INSERT INTO products (id, org_id, sku, name, unit, tax_class_id, price_minor, currency, active, updated_at)
    VALUES ('p-3', 'org-a', 'SKU3', 'Sugar', 'kg', 'tc-std', 250, 'USD', 1, '2026-01-01T00:00:00.000Z');
INSERT INTO barcodes (org_id, barcode, product_id) VALUES ('org-a', '600100', 'p-1');
INSERT INTO barcodes (org_id, barcode, product_id) VALUES ('org-a', '600101', 'p-1');
INSERT INTO barcodes (org_id, barcode, product_id) VALUES ('org-a', '600200', 'p-2');
UPDATE products SET price_minor = 130, updated_at = '2026-01-02T00:00:00.000Z' WHERE id = 'p-1';
SAVEPOINT undone;
INSERT INTO products (id, org_id, sku, name, unit, tax_class_id, price_minor, currency, active, updated_at)
    VALUES ('p-x', 'org-a', 'SKUX', 'Gone', 'each', 'tc-std', 1, 'USD', 1, '2026-01-01T00:00:00.000Z');
ROLLBACK TO SAVEPOINT undone;
RELEASE SAVEPOINT undone;
UPDATE barcodes SET barcode = '600201' WHERE org_id = 'org-a' AND barcode = '600200';
UPDATE barcodes SET product_id = 'p-3' WHERE org_id = 'org-a' AND barcode = '600201';
UPDATE products SET id = 'p-4' WHERE id = 'p-2';
DELETE FROM products WHERE id = 'p-1';
-- Several products deleted by one statement: row by row, each product's barcodes are
-- numbered just before it (both engines take these rows in id order, as inserted).
INSERT INTO products (id, org_id, sku, name, unit, tax_class_id, price_minor, currency, active, updated_at)
    VALUES ('q-1', 'org-a', 'Q1', 'Tea', 'each', 'tc-std', 300, 'USD', 1, '2026-01-01T00:00:00.000Z');
INSERT INTO products (id, org_id, sku, name, unit, tax_class_id, price_minor, currency, active, updated_at)
    VALUES ('q-2', 'org-a', 'Q2', 'Salt', 'each', 'tc-std', 80, 'USD', 1, '2026-01-01T00:00:00.000Z');
INSERT INTO products (id, org_id, sku, name, unit, tax_class_id, price_minor, currency, active, updated_at)
    VALUES ('q-3', 'org-a', 'Q3', 'Rice', 'kg', 'tc-std', 180, 'USD', 1, '2026-01-01T00:00:00.000Z');
INSERT INTO barcodes (org_id, barcode, product_id) VALUES ('org-a', '700100', 'q-1');
INSERT INTO barcodes (org_id, barcode, product_id) VALUES ('org-a', '700200', 'q-2');
INSERT INTO barcodes (org_id, barcode, product_id) VALUES ('org-a', '700101', 'q-1');
DELETE FROM products WHERE id IN ('q-1', 'q-2', 'q-3');

-- Roles, permissions and users (role changes number each user from the counter row itself).
INSERT INTO roles (id, org_id, name, standard) VALUES ('r-1', 'org-a', 'Cashier', 1);
INSERT INTO roles (id, org_id, name, standard) VALUES ('r-2', 'org-a', 'Manager', 1);
INSERT INTO role_permissions (role_id, permission) VALUES ('r-1', 'sell');        -- no users: none
INSERT INTO users (id, org_id, username, name, email, role_id, password_hash, disabled, created_at)
    VALUES ('u-2', 'org-a', 'Bob', 'Bob', 'b@x', 'r-1', 'h', 0, '2026-01-01T00:00:00.000Z');
INSERT INTO users (id, org_id, username, name, email, role_id, password_hash, disabled, created_at)
    VALUES ('u-1', 'org-a', 'Alice', 'Alice', 'a@x', 'r-1', 'h', 0, '2026-01-01T00:00:00.000Z');
INSERT INTO role_permissions (role_id, permission) VALUES ('r-1', 'refund');      -- u-1, u-2
DELETE FROM role_permissions WHERE role_id = 'r-1' AND permission = 'sell';
UPDATE roles SET name = 'Till operator' WHERE id = 'r-1';
UPDATE roles SET name = 'Till operator' WHERE id = 'r-1';                         -- none
UPDATE roles SET standard = 0 WHERE id = 'r-1';                                   -- none
UPDATE users SET username = 'ALICE' WHERE id = 'u-1';                -- same name, no case: none
UPDATE users SET password_hash = 'h2' WHERE id = 'u-1';                           -- none
UPDATE users SET role_id = 'r-2' WHERE id = 'u-1';
UPDATE users SET disabled = 1, disabled_at = '2026-01-04T00:00:00.000Z' WHERE id = 'u-2';
INSERT INTO role_permissions (role_id, permission) VALUES ('r-2', 'manage');
DELETE FROM users WHERE id = 'u-2';
DELETE FROM roles WHERE id = 'r-1';                     -- cascades to its permissions (no users)
COMMIT;

-- Devices and offline grants: only revocation is tracked.
INSERT INTO devices (org_id, id, first_seen, last_seen) VALUES ('org-a', 'd-1', 't', 't');
INSERT INTO devices (org_id, id, first_seen, last_seen, revoked_at) VALUES ('org-a', 'd-2', 't', 't', 't');
UPDATE devices SET last_seen = 't2' WHERE id = 'd-1';                             -- none
INSERT INTO offline_grants (jti, org_id, user_id, device_id, issued_at, expires_at, claims)
    VALUES ('g-1', 'org-a', 'u-1', 'd-1', 't', 't', '{}');
INSERT INTO offline_grants (jti, org_id, user_id, device_id, issued_at, expires_at, claims, revoked_at)
    VALUES ('g-2', 'org-a', 'u-1', 'd-2', 't', 't', '{}', 't');
UPDATE offline_grants SET superseded_at = 't' WHERE jti = 'g-1';                  -- none
UPDATE offline_grants SET revoked_at = 't3' WHERE jti = 'g-1';
DELETE FROM offline_grants WHERE jti = 'g-2';
UPDATE devices SET revoked_at = 't3' WHERE id = 'd-1';
DELETE FROM devices WHERE id = 'd-2';

BEGIN;
-- Stock levels (key: '<product id>/<location id or empty>').
INSERT INTO stock_levels (org_id, product_id, location_id, on_hand_milli) VALUES ('org-a', 'p-3', '', 1000);
INSERT INTO stock_levels (org_id, product_id, location_id, on_hand_milli) VALUES ('org-a', 'p-3', 'loc-1', 500);
UPDATE stock_levels SET on_hand_milli = 750 WHERE product_id = 'p-3' AND location_id = 'loc-1';
UPDATE stock_levels SET on_hand_milli = 750 WHERE product_id = 'p-3' AND location_id = 'loc-1'; -- none
DELETE FROM stock_levels WHERE product_id = 'p-3' AND location_id = '';

-- A signing key written from a session scoped to one organisation still reaches every
-- organisation's counter and changes.
INSERT INTO signing_keys (kid, public_key, private_nonce, private_enc, created_at)
    VALUES ('k2', X'0202020202020202020202020202020202020202020202020202020202020202', X'00', X'00', '2026-02-01T00:00:00.000Z');
UPDATE signing_keys SET retired_at = '2026-02-01T00:00:00.000Z', verify_until = '2026-03-01T00:00:00.000Z' WHERE kid = 'k1';
UPDATE signing_keys SET private_enc = X'01' WHERE kid = 'k2';                     -- none
INSERT INTO stock_levels (org_id, product_id, location_id, on_hand_milli) VALUES ('org-a', 'p-4', '', 1);
COMMIT;

SET tillpoint.org_id = 'org-b';
INSERT INTO currencies (org_id, code, name, minor_units) VALUES ('org-b', 'ZWG', 'Zimbabwe gold', 2);
INSERT INTO tax_classes (id, org_id, code, name, rate_bp) VALUES ('tc-b', 'org-b', 'zero_rated', 'Zero', 0);
INSERT INTO products (id, org_id, sku, name, unit, tax_class_id, price_minor, currency, active, updated_at)
    VALUES ('p-b1', 'org-b', 'SKU1', 'Maize meal', 'each', 'tc-b', 500, 'ZWG', 1, '2026-01-01T00:00:00.000Z');
INSERT INTO barcodes (org_id, barcode, product_id) VALUES ('org-b', '600100', 'p-b1');
DELETE FROM signing_keys WHERE kid = 'k2';

SET tillpoint.org_id = '*';
-- A new organisation after keys came and went gets the one left.
INSERT INTO organisations (id, name, tax_number, base_currency, created_at)
    VALUES ('org-c', 'Shop C', NULL, 'USD', '2026-01-01T00:00:00.000Z');
SQL

grep -v '^SET tillpoint' "$WORK/writes.sql" >"$WORK/writes.sqlite.sql"
sed -E "s/X'([0-9a-fA-F]*)'/'\\\\x\1'::bytea/g" "$WORK/writes.sql" >"$WORK/writes.pg.sql"
{ echo 'PRAGMA foreign_keys = ON;'; cat "$WORK/writes.sqlite.sql"; } | sqlite3 -bail "$SQLITE_DB"
"${PSQL[@]}" -U app -d t -f "$WORK/writes.pg.sql"

# The scope a signing-key trigger widened is back to what it was.
scope=$(pg -c "SET tillpoint.org_id = 'org-b';
               UPDATE signing_keys SET verify_until = '2026-03-02T00:00:00.000Z' WHERE kid = 'k1';
               SELECT current_setting('tillpoint.org_id')")
[ "$scope" = org-b ] || fail "the signing-key trigger left tillpoint.org_id = '$scope'"
sq "PRAGMA foreign_keys = ON;
    UPDATE signing_keys SET verify_until = '2026-03-02T00:00:00.000Z' WHERE kid = 'k1'"

ALL="SET tillpoint.org_id = '*';"
for t in sync_counters sync_changes sync_changes_more; do
    cols="org_id, kind, key, version"
    [ "$t" = sync_counters ] && cols="org_id, version"
    sq "SELECT $cols FROM $t" | LC_ALL=C sort >"$WORK/$t.sqlite"
    pg -c "$ALL SELECT $cols FROM $t" | LC_ALL=C sort >"$WORK/$t.pg"
    [ -s "$WORK/$t.sqlite" ] || fail "$t is empty on SQLite: the writes did not run"
    same "$t after the writes" "$WORK/$t.sqlite" "$WORK/$t.pg"
done
# Every table's rows alike too (the writes themselves behaved the same).
for t in $(sq "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"); do
    sq "SELECT * FROM $t" | LC_ALL=C sort >"$WORK/rows.sqlite"
    pg -c "$ALL SELECT * FROM $t" | sed -E 's/\\x([0-9a-f]*)/\U\1\E/g' | LC_ALL=C sort >"$WORK/rows.pg"
    # sqlite3 prints blobs raw; compare their hex instead.
    if [ "$t" = signing_keys ]; then
        sq "SELECT kid, hex(public_key), hex(private_nonce), hex(private_enc), created_at, retired_at, verify_until
            FROM signing_keys" | LC_ALL=C sort >"$WORK/rows.sqlite"
    fi
    same "rows of $t" "$WORK/rows.sqlite" "$WORK/rows.pg"
done

# Statements that write several rows whose scan order differs between the engines (SQLite
# takes org-a's products by its (org_id, sku) index, PostgreSQL in heap order, where the
# updated p-4 moved to the end): the same records change and the same numbers are handed
# out, but not necessarily to the same records. Compared as sets.
cat >"$WORK/writes-multi.sql" <<'SQL'
SET tillpoint.org_id = 'org-a';
UPDATE products SET active = 1 WHERE org_id = 'org-a';
DELETE FROM barcodes WHERE org_id = 'org-a';
-- A push's addition to levels (two exist, one is new), then a statement that changes none.
INSERT INTO stock_levels (org_id, product_id, location_id, on_hand_milli)
    VALUES ('org-a', 'p-3', 'loc-1', 5), ('org-a', 'p-3', '', 7), ('org-a', 'p-4', '', 2)
    ON CONFLICT (org_id, product_id, location_id)
    DO UPDATE SET on_hand_milli = stock_levels.on_hand_milli + excluded.on_hand_milli;
UPDATE stock_levels SET on_hand_milli = on_hand_milli WHERE org_id = 'org-a';
SQL
grep -v '^SET tillpoint' "$WORK/writes-multi.sql" | { echo 'PRAGMA foreign_keys = ON;'; cat; } \
    | sqlite3 -bail "$SQLITE_DB"
"${PSQL[@]}" -U app -d t -f "$WORK/writes-multi.sql"
BOTH="SELECT org_id, kind, key, version FROM sync_changes
      UNION ALL SELECT org_id, kind, key, version FROM sync_changes_more"
sq "SELECT org_id, version FROM sync_counters" | LC_ALL=C sort >"$WORK/multi.sqlite"
pg -c "$ALL SELECT org_id, version FROM sync_counters" | LC_ALL=C sort >"$WORK/multi.pg"
same "sync_counters after multi-row statements" "$WORK/multi.sqlite" "$WORK/multi.pg"
sq "SELECT org_id, kind, key FROM ($BOTH)" | LC_ALL=C sort >"$WORK/multi.sqlite"
pg -c "$ALL SELECT org_id, kind, key FROM ($BOTH) x" | LC_ALL=C sort >"$WORK/multi.pg"
same "records changed by multi-row statements" "$WORK/multi.sqlite" "$WORK/multi.pg"
sq "SELECT org_id, version FROM ($BOTH)" | LC_ALL=C sort >"$WORK/multi.sqlite"
pg -c "$ALL SELECT org_id, version FROM ($BOTH) x" | LC_ALL=C sort >"$WORK/multi.pg"
same "numbers handed out by multi-row statements" "$WORK/multi.sqlite" "$WORK/multi.pg"
sq "SELECT key || '=' || version FROM sync_changes WHERE kind = 'products' AND key IN ('p-3', 'p-4')
    ORDER BY key" | paste -sd' ' | sed 's/^/note: numbers in scan order, sqlite:   /'
pg -c "$ALL SELECT key || '=' || version FROM sync_changes WHERE kind = 'products'
        AND key IN ('p-3', 'p-4') ORDER BY key" | paste -sd' ' | sed 's/^/note: numbers in scan order, postgres: /'


# Usernames are case-insensitive on both (COLLATE NOCASE / citext): found whatever the case,
# and a second one differing only in case is refused.
expect "username lookup ignores case (sqlite)" u-1 \
    "$(sq "SELECT id FROM users WHERE username = 'alice'")"
expect "username lookup ignores case (postgres)" u-1 \
    "$(count "$ALL SELECT id FROM users WHERE username = 'alice'")"
dup="INSERT INTO users (id, org_id, username, name, email, role_id, password_hash, disabled, created_at)
     VALUES ('u-9', 'org-a', 'aLiCe', 'x', 'x', 'r-2', 'h', 0, 't')"
if sq "$dup" 2>/dev/null; then fail "sqlite took a username differing only in case"; fi
if pg -c "$ALL $dup" >/dev/null 2>&1; then fail "postgres took a username differing only in case"; fi
echo "ok: a username differing only in case is refused on both"

# ---------------------------------------------------------------------------------------------
# 3. Row-level security, as the owner role the server runs as.

a_products=$(sq "SELECT count(*) FROM products WHERE org_id = 'org-a'")
all_products=$(sq "SELECT count(*) FROM products")
[ "$a_products" -gt 0 ] && [ "$a_products" -lt "$all_products" ] || fail "the writes left no products to tell apart"
expect "org-a sees its products" "$a_products" \
    "$(count "SET tillpoint.org_id = 'org-a'; SELECT count(*) FROM products")"
expect "org-b sees its products" "$(sq "SELECT count(*) FROM products WHERE org_id = 'org-b'")" \
    "$(count "SET tillpoint.org_id = 'org-b'; SELECT count(*) FROM products")"
expect "no scope sees no products" 0 "$(count "SELECT count(*) FROM products")"
expect "empty scope sees no products" 0 \
    "$(count "SET tillpoint.org_id = ''; SELECT count(*) FROM products")"
expect "'*' sees every product" "$all_products" "$(count "$ALL SELECT count(*) FROM products")"
expect "org-a sees one organisation" 1 \
    "$(count "SET tillpoint.org_id = 'org-a'; SELECT count(*) FROM organisations")"
expect "org-a sees only its changes" \
    "$(sq "SELECT count(*) FROM sync_changes WHERE org_id = 'org-a'")" \
    "$(count "SET tillpoint.org_id = 'org-a'; SELECT count(*) FROM sync_changes")"
expect "org-b sees no role permissions of org-a" 0 \
    "$(count "SET tillpoint.org_id = 'org-b'; SELECT count(*) FROM role_permissions")"
expect "org-a sees its role permissions" "$(sq "SELECT count(*) FROM role_permissions")" \
    "$(count "SET tillpoint.org_id = 'org-a'; SELECT count(*) FROM role_permissions")"
expect "no scope sees no role permissions" 0 "$(count "SELECT count(*) FROM role_permissions")"
# Writes outside the scope are refused; updates of rows out of sight touch nothing.
if pg -c "SET tillpoint.org_id = 'org-a';
          INSERT INTO currencies (org_id, code, name, minor_units) VALUES ('org-b', 'USD', 'x', 2)" \
    >/dev/null 2>"$WORK/err"; then
    fail "org-a inserted a row for org-b"
else
    grep -q 'row-level security' "$WORK/err" || { cat "$WORK/err" >&2; fail "unexpected error"; }
    echo "ok: org-a cannot insert into org-b"
fi
if pg -c "SET tillpoint.org_id = 'org-b';
          INSERT INTO role_permissions (role_id, permission) VALUES ('r-2', 'x')" >/dev/null 2>&1; then
    fail "org-b gave a permission to a role of org-a"
else
    echo "ok: org-b cannot give a permission to a role of org-a"
fi
expect "org-a updates no product of org-b" 0 \
    "$(count "SET tillpoint.org_id = 'org-a';
              WITH u AS (UPDATE products SET price_minor = 1 WHERE id = 'p-b1' RETURNING 1)
              SELECT count(*) FROM u")"
# The app role is no superuser and does not bypass row-level security.
expect "app is an ordinary role" "f|f" \
    "$(pg_super -c "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'app'")"
# Every table with org_id (and organisations, role_permissions) is forced under the policy.
unprotected=$(pg_super -c "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
    JOIN pg_namespace s ON s.oid = c.relnamespace
    WHERE s.nspname = 'public' AND c.relkind = 'r'
      AND NOT (c.relrowsecurity AND c.relforcerowsecurity
               AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
                                                       AND p.polname = 'organisation_scope'))")
expect "tables without row-level security" "login_failures,signing_keys,token_cutoffs" "$unprotected"

if [ "$FAILED" != 0 ]; then
    echo "pg-schema-check: FAILED" >&2
    exit 1
fi
echo "pg-schema-check: PostgreSQL's schema matches SQLite's at version $SQLITE_VERSION"
