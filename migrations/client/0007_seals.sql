-- Seals on the rows a local user could edit to widen offline work (issue 17): an HMAC-SHA256
-- of the row's content under a key of this installation kept in the OS keyring, written by the
-- till's `till_seal` SQL function (crates/tillpoint-core/src/seal.rs). A row whose seal does
-- not verify counts as missing or locked. Rows from before this migration have none, so they
-- count as such until the next online sign-in writes them again.
ALTER TABLE till_clock ADD COLUMN seal BLOB;
ALTER TABLE server_keys ADD COLUMN seal BLOB;
ALTER TABLE offline_totals ADD COLUMN seal BLOB;
