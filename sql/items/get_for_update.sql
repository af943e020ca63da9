-- Fetch one item and lock it until the transaction ends: a conditional change (If-Match)
-- compares it with what the client last saw, and nothing may change it in between.
-- $1 id bigint
-- returns: one row

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
WHERE id = $1
FOR UPDATE;
