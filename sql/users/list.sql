-- List users' public profiles oldest first, one page at a time, after the cursor's id.
-- $1 after_id bigint
-- $2 skip bigint
-- $3 limit bigint
-- returns: many rows
-- read-only

SELECT
    id,
    username,
    created_at
FROM users
WHERE id > coalesce($1::bigint, 0)
ORDER BY id
LIMIT $3 OFFSET $2;
