-- Placeholder on branch h-identity only: migration 0010 belongs to another helper's branch of
-- issue 17. Delete this file when that branch is merged (numbering must have no gaps).
SELECT 1;
