-- Replace a password hash made with older cost settings. Changes nothing when the hash
-- changed meanwhile (the user set a new password): that one must not be overwritten.
-- $1 id bigint
-- $2 new_hash text
-- $3 old_hash text
-- returns: nothing

UPDATE users
SET password_hash = $2
WHERE
    id = $1
    AND password_hash = $3;
