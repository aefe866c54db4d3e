-- Placeholder on branch h-identity only: migration 0009 belongs to another helper's branch of
-- issue 17. Delete this file when that branch is merged (numbering must have no gaps).
SELECT 1;
