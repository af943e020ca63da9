-- Every item's id and name.
-- returns: many rows

SELECT
    id,
    name
FROM items
ORDER BY id;
