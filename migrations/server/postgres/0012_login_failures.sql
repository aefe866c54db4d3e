-- The same as migrations/server/0012_login_failures.sql. Server-wide like token_cutoffs (a
-- key names an account or an address before any organisation is known): no row-level
-- security.
CREATE TABLE login_failures (
    key              TEXT PRIMARY KEY,
    failures         BIGINT NOT NULL CHECK (failures >= 0),
    first_failure_ms BIGINT NOT NULL,
    locked_until_ms  BIGINT NOT NULL CHECK (locked_until_ms >= 0),
    in_flight        BIGINT NOT NULL CHECK (in_flight >= 0),
    in_flight_at_ms  BIGINT NOT NULL
);
CREATE INDEX login_failures_first ON login_failures (first_failure_ms);
