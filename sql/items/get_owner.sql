-- Who owns an item: tells "no such item" (no row) from "not yours" after a refused change.
-- $1 id bigint
-- returns: one row

SELECT owner_id
FROM items
WHERE id = $1;
