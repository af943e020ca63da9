-- Delete an item, if the given user owns it; returns its id, or no row (no such item, or
-- not this owner's).
-- $1 id bigint
-- $2 owner_id bigint
-- returns: a value

DELETE FROM items
WHERE
    id = $1
    AND owner_id = $2
RETURNING id;
