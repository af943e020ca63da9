-- Delete a user; their posts, items, tokens and stored idempotent answers go with them
-- (ON DELETE CASCADE).
-- $1 id bigint
-- returns: nothing

DELETE FROM users
WHERE id = $1;
