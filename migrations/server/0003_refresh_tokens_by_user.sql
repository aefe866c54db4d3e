-- Disabling a user or resetting their password revokes every refresh token they hold
-- (identity::refresh::revoke_user). refresh_tokens gains a row at every refresh and is never
-- pruned, so find a user's tokens by index rather than by scanning the table.

CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
