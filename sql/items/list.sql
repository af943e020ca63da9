-- List items, oldest first, one page at a time.
-- $1 skip bigint
-- $2 limit bigint
-- returns: many rows

SELECT
    id,
    owner_id,
    name,
    description,
    price,
    created_at,
    updated_at
FROM items
ORDER BY id
LIMIT $2 OFFSET $1;
