-- Count the items a listing with these filters would show over all its pages.
-- $1 min_price bigint
-- $2 max_price bigint
-- $3 attributes jsonb
-- returns: a value
-- read-only

SELECT count(*)
FROM items
WHERE
    price >= coalesce($1::bigint, 0)
    AND price <= coalesce($2::bigint, 9223372036854775807)
    AND ($3::jsonb IS NULL OR attributes @> $3::jsonb);
