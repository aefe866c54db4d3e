-- The chain's integrity at sync (issue 17, docs/decisions/sync-push.md): who handed in each
-- stored record, and the time of the last record of each device's chain.

-- The user whose token pushed or imported the record, and which of the two it was. NULL for
-- records stored before this migration (nobody knows any more).
ALTER TABLE sync_records ADD COLUMN pushed_by TEXT;
ALTER TABLE sync_records ADD COLUMN pushed_via TEXT
    CHECK (pushed_via IS NULL OR pushed_via IN ('push', 'import'));

-- The created_at of the record the chain ends at, so the next batch's first record can be
-- checked not to run backwards in time. NULL for chains saved before this migration.
ALTER TABLE device_chains ADD COLUMN last_created_at TEXT;

-- A device's stored records by position in its chain: what a release checks a record links to,
-- and what a re-based chain end is looked up by.
CREATE INDEX sync_records_chain ON sync_records (org_id, device_id, seq);
