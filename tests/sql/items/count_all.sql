-- How many items there are.
-- returns: a value

SELECT count(*)
FROM items;
