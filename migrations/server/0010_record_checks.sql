-- What sync push needs to judge who may have made a record (docs/sync-push.md, "Who made
-- it").
--
-- When a user was disabled: records they made after it are quarantined, whether made online
-- or under a grant. NULL while the user is enabled (enabling clears it). Users disabled
-- before this migration take the time of their last `user_disabled` audit entry, or else
-- the migration's own time: records they made before then were judged when they arrived.
ALTER TABLE users ADD COLUMN disabled_at TEXT;
UPDATE users SET disabled_at = COALESCE(
    (SELECT MAX(at) FROM audit_log
      WHERE event = 'user_disabled' AND json_extract(detail, '$.user') = users.id),
    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
 WHERE disabled = 1;

-- A refund is judged against what remains refundable of its sale: its earlier refunds.
CREATE INDEX sales_refund_of ON sales (org_id, refund_of) WHERE refund_of IS NOT NULL;
