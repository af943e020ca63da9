-- Create an item owned by the given user.
-- $1 owner_id bigint
-- $2 name text
-- $3 description text
-- $4 price bigint
-- $5 attributes jsonb
-- returns: one row

INSERT INTO items (owner_id, name, description, price, attributes)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, owner_id, name, description, price, attributes, created_at, updated_at;
