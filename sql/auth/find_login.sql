-- Find the account a sign-in names: by username or by email, regardless of case.
-- A username cannot contain '@' and an email must, so at most one account matches.
-- $1 login text
-- returns: one row

SELECT
    id,
    password_hash
FROM users
WHERE
    lower(username) = lower($1)
    OR lower(email) = lower($1);
