-- What each person has sold offline under each grant, per currency, so the grant's total
-- limit holds across sales (ARCHITECTURE.md §3). Written in the same transaction as the sale.
CREATE TABLE offline_totals (
    grant_jti   TEXT NOT NULL,
    currency    TEXT NOT NULL CHECK (length(currency) = 3),
    total_minor INTEGER NOT NULL CHECK (total_minor >= 0),
    PRIMARY KEY (grant_jti, currency)
) STRICT, WITHOUT ROWID;
