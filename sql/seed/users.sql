-- Seed users 1 to $1, in id order: username '<word>_<n>', email 'user<n>@example.com',
-- every one with the same password hash, signed up over the two years from 2023-01-01.
-- $1 count bigint
-- $2 words text[]
-- $3 password_hash text
-- returns: nothing

INSERT INTO users (email, username, password_hash, created_at)
SELECT
    'user' || s.n || '@example.com' AS email,
    ($2::text[])[1 + s.n % cardinality($2)] || '_' || s.n AS username,
    $3 AS password_hash,
    timestamptz '2023-01-01 00:00:00+00' + (s.n - 1) * (interval '730 days' / $1) AS created_at
FROM generate_series(1, $1::bigint) AS s (n)
ORDER BY s.n;
