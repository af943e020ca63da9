-- A user's password hash, to check the current password before a sensitive change.
-- $1 id bigint
-- returns: a value

SELECT password_hash
FROM users
WHERE id = $1;
