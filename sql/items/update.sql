-- Change some of an item's fields; a NULL name or price means "leave as is".
-- The description may be set to NULL, so whether to set it is a parameter of its own.
-- $1 id bigint
-- $2 name text
-- $3 set_description boolean
-- $4 description text
-- $5 price bigint
-- returns: one row

UPDATE items
SET
    name = coalesce($2, name),
    description = CASE WHEN $3 THEN $4 ELSE description END,
    price = coalesce($5, price),
    updated_at = now()
WHERE id = $1
RETURNING id, name, description, price, created_at, updated_at;
