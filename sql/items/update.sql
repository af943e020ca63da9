-- Change some of an item's fields, if the given user owns it; a NULL name, price or
-- attributes means "leave as is". The description may be set to NULL, so whether to set
-- it is a parameter of its own. No row back: no such item, or not this owner's.
-- $1 id bigint
-- $2 owner_id bigint
-- $3 name text
-- $4 set_description boolean
-- $5 description text
-- $6 price bigint
-- $7 attributes jsonb
-- returns: one row

UPDATE items
SET
    name = coalesce($3, name),
    description = CASE WHEN $4 THEN $5 ELSE description END,
    price = coalesce($6, price),
    attributes = coalesce($7, attributes),
    updated_at = now()
WHERE
    id = $1
    AND owner_id = $2
RETURNING id, owner_id, name, description, price, attributes, created_at, updated_at;
