-- The stored token hashes of one user, to check that tokens are kept only as hashes.
-- $1 user_id bigint
-- returns: many rows

SELECT token_hash
FROM tokens
WHERE user_id = $1;
