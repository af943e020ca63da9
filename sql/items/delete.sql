-- Delete an item; returns its id, or no row when there was no such item.
-- $1 id bigint
-- returns: a value

DELETE FROM items
WHERE id = $1
RETURNING id;
