-- A migration gone astray: items.description is renamed (run inside a rolled-back transaction).
-- returns: nothing

ALTER TABLE items RENAME COLUMN description TO details;
