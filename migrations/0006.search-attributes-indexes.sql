-- transactional: false
-- The indexes that make search and filters fast, built while writes go on: each statement
-- commits on its own and every index is built concurrently. Safe to run again.

SET lock_timeout = '5s';
SET statement_timeout = '0';

-- Validating a valid constraint does nothing, so this statement reruns safely.
-- squawk-ignore prefer-robust-stmts
ALTER TABLE items VALIDATE CONSTRAINT items_attributes_check;

-- GET /posts/?q=…: websearch_to_tsquery(…) @@ search.
CREATE INDEX CONCURRENTLY IF NOT EXISTS posts_search_idx ON posts USING gin (search);

-- GET /items/?attr=…: attributes @> '{…}'. jsonb_path_ops: smaller and faster for @>, the only operator used.
CREATE INDEX CONCURRENTLY IF NOT EXISTS items_attributes_idx ON items USING gin (attributes jsonb_path_ops);

-- GET /items/?min_price=…&max_price=…: a narrow price range.
CREATE INDEX CONCURRENTLY IF NOT EXISTS items_price_idx ON items (price);

RESET lock_timeout;
RESET statement_timeout;
