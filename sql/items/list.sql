-- List items oldest first, one page at a time, optionally within a price range and
-- holding the given attributes (containment, through the GIN index on attributes).
-- The page starts after the cursor's id: an index condition, so every page costs the same.
-- Asks for one row more than a page, to tell whether another page follows.
-- $1 after_id bigint
-- $2 skip bigint
-- $3 limit bigint
-- $4 min_price bigint
-- $5 max_price bigint
-- $6 attributes jsonb
-- returns: many rows
-- read-only

SELECT
    id,
    owner_id,
    name,
    description,
    price,
    attributes,
    created_at,
    updated_at
FROM items
WHERE
    id > coalesce($1::bigint, 0)
    AND price >= coalesce($4::bigint, 0)
    AND price <= coalesce($5::bigint, 9223372036854775807)
    AND ($6::jsonb IS NULL OR attributes @> $6::jsonb)
ORDER BY id
LIMIT $3 OFFSET $2;
