-- An item without an owner, as items made before owners existed are.
-- $1 name text
-- returns: a value

INSERT INTO items (name, price)
VALUES ($1, 1)
RETURNING id;
