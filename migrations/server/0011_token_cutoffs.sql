-- Access tokens issued at or before a cutoff are refused (docs/decisions/identity.md,
-- "Tokens that end early"). One row per subject: a user (disabled, role or password
-- changed), a device (revoked), or one user on one device (signed out, refresh reuse). The
-- cutoff only moves forward. `version` grows with every write, so each server instance
-- re-reads only what changed since it last looked.
CREATE TABLE token_cutoffs (
    -- 'user:<user id>', 'device:<org id>:<device id>' or 'session:<user id>:<device id>'.
    subject     TEXT PRIMARY KEY,
    -- Unix time in milliseconds; a token whose iat_ms is at or before it is refused.
    cutoff_ms   INTEGER NOT NULL,
    version     INTEGER NOT NULL UNIQUE
) STRICT, WITHOUT ROWID;
