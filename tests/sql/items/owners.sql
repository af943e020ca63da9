-- Every item's name and owner, by id.
-- returns: many rows

SELECT
    id,
    name,
    owner_id
FROM items
ORDER BY id;
