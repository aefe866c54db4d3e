-- The device's clock offset as measured at its last sign-in that sent the till's time
-- (docs/decisions/sync-push.md, "Time"): server time minus device time, in seconds, and
-- when it was measured. NULL until a sign-in sends a plausible time (an older till never
-- does): sync then falls back to a fixed tolerance.
ALTER TABLE devices ADD COLUMN clock_offset_secs INTEGER;
ALTER TABLE devices ADD COLUMN clock_measured_at TEXT;
