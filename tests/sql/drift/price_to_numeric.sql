-- A migration gone astray: items.price becomes numeric (run inside a rolled-back transaction).
-- returns: nothing

ALTER TABLE items ALTER COLUMN price TYPE numeric;
