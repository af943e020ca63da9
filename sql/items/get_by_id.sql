-- Fetch one item by its id.
-- $1 id bigint
-- returns: one row
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
WHERE id = $1;
