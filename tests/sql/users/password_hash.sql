-- The stored password hash of one user, to check how passwords are kept.
-- $1 id bigint
-- returns: a value

SELECT password_hash
FROM users
WHERE id = $1;
