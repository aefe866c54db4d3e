-- Offline grants follow the sign-in they were issued with: revoking a refresh family (reuse,
-- sign-out), a user (disable, password reset) or a device revokes its grants too, and a new
-- grant for the same user and device supersedes the earlier ones from the moment it is issued.
-- refresh_tokens.replaced_by lets a retried refresh (its answer lost on a bad network) be told
-- apart from a stolen token being replayed.

ALTER TABLE offline_grants ADD COLUMN family_id TEXT;
ALTER TABLE offline_grants ADD COLUMN superseded_at TEXT;
CREATE INDEX offline_grants_family ON offline_grants (family_id);
CREATE INDEX offline_grants_user_device ON offline_grants (org_id, user_id, device_id);

ALTER TABLE refresh_tokens ADD COLUMN replaced_by TEXT;
