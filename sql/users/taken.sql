-- Which of a sign-up's email and username is already taken, if either: a cheap read before
-- the password is hashed. The unique indexes still decide at the INSERT.
-- $1 email text
-- $2 username text
-- returns: a value
-- read-only

SELECT
    CASE
        WHEN lower(email) = lower($1) THEN 'email'
        ELSE 'username'
    END AS field
FROM users
WHERE
    lower(email) = lower($1)
    OR username_skeleton(username) = username_skeleton($2)
ORDER BY field
LIMIT 1;
