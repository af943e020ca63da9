-- The user a bearer token signs in, while the token lasts.
-- $1 token_hash bytea
-- returns: one row

SELECT
    u.id,
    u.email,
    u.username,
    u.created_at
FROM tokens AS t
INNER JOIN users AS u ON t.user_id = u.id
WHERE
    t.token_hash = $1
    AND t.expires_at > now();
