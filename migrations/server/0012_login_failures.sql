-- Sign-in attempts per account and per client address, in the database so that every server
-- instance sharing it counts every guess (docs/decisions/identity.md, "Throttling"): with
-- several instances behind a load balancer an attacker's guesses are not multiplied, and a
-- restart does not hand out fresh ones. Times are milliseconds since the epoch.
CREATE TABLE login_failures (
    -- 'user:<username as looked up>' or an address key ('ip:…', 'ip6:…/64').
    key              TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL CHECK (failures >= 0),
    first_failure_ms INTEGER NOT NULL,
    locked_until_ms  INTEGER NOT NULL CHECK (locked_until_ms >= 0),
    -- Attempts whose password is being checked now, on any instance; they hold their place
    -- in the count. One that an instance never ended (it died) stops counting after a minute.
    in_flight        INTEGER NOT NULL CHECK (in_flight >= 0),
    in_flight_at_ms  INTEGER NOT NULL
) STRICT;
-- Finding what is idle, to forget it.
CREATE INDEX login_failures_first ON login_failures (first_failure_ms);
