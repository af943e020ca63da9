-- Lock one item's row until the surrounding transaction ends, to hold up writers.
-- $1 id bigint
-- returns: a value

SELECT id
FROM items
WHERE id = $1
FOR UPDATE;
