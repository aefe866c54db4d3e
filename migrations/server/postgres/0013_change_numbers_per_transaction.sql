-- A transaction numbers its changes without writing the counter row once per change.
--
-- Until 0013 every change ran `UPDATE sync_counters … version + 1` (sync_note_change). Each
-- such UPDATE leaves a new version of the row that no one may prune before the transaction
-- ends, and the next UPDATE walks every version left so far: a transaction of n changes cost
-- n²/2 steps. 16,000 changes took 4 s; seeding or importing 100,000 products never finished.
--
-- Now the first change of a transaction for an organisation locks its counter row (the same
-- upsert, so a concurrent writer of that organisation still waits for this commit, and the
-- numbers still come out in commit order) and notes the organisation and the last number
-- handed out in two transaction-local settings. Later changes count on from the setting. The
-- counter row is written once more, with the last number, by `sync_counter_flush`:
--   * at commit, by a deferred constraint trigger on the two change tables (a transaction
--     that noted a number always wrote a row to one of them);
--   * before anything else reads or moves the counter row itself (a change for another
--     organisation, role_users' and signing keys' numbering, a new organisation's keys).
-- Settings follow savepoints as rows do: a rolled-back subtransaction puts both back.

CREATE FUNCTION sync_counter_flush() RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    org   TEXT := current_setting('tillpoint.change_org', true);
    scope TEXT;
    moved BIGINT;
BEGIN
    IF org IS NULL OR org = '' THEN
        RETURN;
    END IF;
    -- The row was written under the scope of the change that locked it; the session may
    -- have narrowed its scope since (SET LOCAL). Widened for this one statement, as
    -- signing_keys_pull does, and a row not found is an error rather than a number lost.
    scope := current_setting('tillpoint.org_id', true);
    PERFORM set_config('tillpoint.org_id', '*', true);
    UPDATE sync_counters SET version = current_setting('tillpoint.change_last')::BIGINT
        WHERE org_id = org;
    GET DIAGNOSTICS moved = ROW_COUNT;
    PERFORM set_config('tillpoint.org_id', COALESCE(scope, ''), true);
    IF moved <> 1 THEN
        RAISE EXCEPTION 'sync_counter_flush: no counter row for organisation %', org;
    END IF;
    PERFORM set_config('tillpoint.change_org', '', true);
END;
$$;

-- Hands out `n` consecutive numbers of organisation p_org and returns the first.
CREATE FUNCTION sync_take_numbers(p_org TEXT, n BIGINT) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    first BIGINT;
BEGIN
    IF p_org IS NOT NULL AND current_setting('tillpoint.change_org', true) = p_org THEN
        first := current_setting('tillpoint.change_last')::BIGINT + 1;
    ELSE
        PERFORM sync_counter_flush();
        INSERT INTO sync_counters AS c (org_id, version) VALUES (p_org, 0)
            ON CONFLICT (org_id) DO UPDATE SET version = c.version
            RETURNING c.version + 1 INTO first;
        PERFORM set_config('tillpoint.change_org', p_org, true);
    END IF;
    PERFORM set_config('tillpoint.change_last', (first + n - 1)::TEXT, true);
    RETURN first;
END;
$$;

CREATE OR REPLACE FUNCTION sync_note_change(target TEXT, p_org TEXT, p_kind TEXT, p_key TEXT)
RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT := sync_take_numbers(p_org, 1);
BEGIN
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

CREATE OR REPLACE FUNCTION sync_note_role_users(p_role TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sync_counter_flush();
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

CREATE OR REPLACE FUNCTION signing_keys_pull() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    kid   TEXT;
    scope TEXT := current_setting('tillpoint.org_id', true);
BEGIN
    IF TG_OP = 'DELETE' THEN
        kid := OLD.kid;
    ELSE
        kid := NEW.kid;
    END IF;
    PERFORM sync_counter_flush();
    PERFORM set_config('tillpoint.org_id', '*', true);
    UPDATE sync_counters SET version = version + 1;
    INSERT INTO sync_changes_more AS s (org_id, kind, key, version)
        SELECT c.org_id, 'signing_keys', kid, c.version FROM sync_counters c
        ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    PERFORM set_config('tillpoint.org_id', COALESCE(scope, ''), true);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION organisations_pull_keys() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sync_counter_flush();
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

-- Stock levels change by the hundred in one statement (a push adds its batch's movements to
-- them at once), so they are numbered per statement: each organisation's changed levels take
-- their numbers together, in key order, where the generic trigger numbered them row by row
-- (single-row statements number exactly as SQLite; several rows, the same numbers to the same
-- set of levels, as the schema check compares them). An UPDATE numbers the levels whose
-- quantity changed; one whose key changed is numbered under its new key, as before.
CREATE FUNCTION stock_levels_pull() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    orgs  TEXT[];
    keys  TEXT[];
    org   TEXT;
    n     BIGINT;
    first BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(r.org_id), array_agg(r.product_id || '/' || r.location_id)
            INTO orgs, keys FROM new_rows r;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT array_agg(r.org_id), array_agg(r.product_id || '/' || r.location_id)
            INTO orgs, keys
            FROM new_rows r LEFT JOIN old_rows w
              ON w.org_id = r.org_id AND w.product_id = r.product_id
             AND w.location_id = r.location_id
            WHERE w.on_hand_milli IS DISTINCT FROM r.on_hand_milli;
    ELSE
        SELECT array_agg(r.org_id), array_agg(r.product_id || '/' || r.location_id)
            INTO orgs, keys FROM old_rows r;
    END IF;
    FOR org, n IN SELECT u.o, COUNT(*) FROM unnest(orgs) AS u (o)
                  GROUP BY u.o ORDER BY u.o COLLATE "C" LOOP
        first := sync_take_numbers(org, n);
        INSERT INTO sync_changes_more AS s (org_id, kind, key, version)
            SELECT org, 'stock_levels', u.k, first - 1 + ROW_NUMBER() OVER (ORDER BY u.k COLLATE "C")
            FROM unnest(orgs, keys) AS u (o, k) WHERE u.o = org
            ON CONFLICT (org_id, kind, key) DO UPDATE SET version = excluded.version;
    END LOOP;
    RETURN NULL;
END;
$$;

DROP TRIGGER stock_levels_pull_insert ON stock_levels;
DROP TRIGGER stock_levels_pull_update ON stock_levels;
DROP TRIGGER stock_levels_pull_delete ON stock_levels;
CREATE TRIGGER stock_levels_pull_insert AFTER INSERT ON stock_levels
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_levels_pull();
CREATE TRIGGER stock_levels_pull_update AFTER UPDATE ON stock_levels
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_levels_pull();
CREATE TRIGGER stock_levels_pull_delete AFTER DELETE ON stock_levels
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stock_levels_pull();

CREATE FUNCTION sync_counter_flush_at_commit() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sync_counter_flush();
    RETURN NULL;
END;
$$;

-- PostgreSQL only (scripts/pg-schema-check.sh compares the ordinary triggers, not these).
CREATE CONSTRAINT TRIGGER sync_changes_counter_at_commit
    AFTER INSERT OR UPDATE ON sync_changes DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION sync_counter_flush_at_commit();
CREATE CONSTRAINT TRIGGER sync_changes_more_counter_at_commit
    AFTER INSERT OR UPDATE ON sync_changes_more DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION sync_counter_flush_at_commit();
