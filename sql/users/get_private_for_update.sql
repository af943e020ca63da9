-- Fetch a user's own account and lock it until the transaction ends: a conditional change
-- (If-Match) compares it with what the user last saw.
-- $1 id bigint
-- returns: one row

SELECT
    id,
    email,
    username,
    created_at
FROM users
WHERE id = $1
FOR UPDATE;
