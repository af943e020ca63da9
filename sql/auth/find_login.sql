-- Find the account a sign-in names: by username (or one that looks the same: lily, LILY,
-- Iily) or by email regardless of case; the login comes normalized as the stored names are.
-- A username cannot contain '@' and an email must, so at most one account matches.
-- $1 login text
-- returns: one row

SELECT
    id,
    password_hash
FROM users
WHERE
    username_skeleton(username) = username_skeleton($1)
    OR lower(email) = lower($1);
