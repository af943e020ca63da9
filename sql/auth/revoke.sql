-- Revoke one token, at once.
-- $1 token_hash bytea
-- returns: nothing

DELETE FROM tokens
WHERE token_hash = $1;
