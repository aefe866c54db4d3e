-- Where each sync stream stands (ARCHITECTURE.md §4). The cursor is the server's, opaque to
-- the till; it is written in the same transaction as the page it follows, so a pull stopped
-- at any moment resumes from the last page the till really stored.
CREATE TABLE sync_cursors (
    stream       TEXT PRIMARY KEY,
    cursor       TEXT NOT NULL,
    -- When the last page was stored.
    updated_at   TEXT NOT NULL,
    -- When a pull last reached the end of what the server had.
    completed_at TEXT
) STRICT;
