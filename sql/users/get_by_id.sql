-- Fetch one user's public profile by id.
-- $1 id bigint
-- returns: one row
-- read-only

SELECT
    id,
    username,
    created_at
FROM users
WHERE id = $1;
