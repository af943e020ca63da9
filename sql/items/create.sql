-- Create an item.
-- $1 name text
-- $2 description text
-- $3 price bigint
-- returns: one row

INSERT INTO items (name, description, price)
VALUES ($1, $2, $3)
RETURNING id, name, description, price, created_at, updated_at;
