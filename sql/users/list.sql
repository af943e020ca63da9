-- List users' public profiles, oldest first, one page at a time.
-- $1 skip bigint
-- $2 limit bigint
-- returns: many rows

SELECT
    id,
    username,
    created_at
FROM users
ORDER BY id
LIMIT $2 OFFSET $1;
