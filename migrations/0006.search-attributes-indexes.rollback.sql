-- transactional: false
-- Undo 0006: drop the search and filter indexes (the constraint stays valid).

SET lock_timeout = '5s';
SET statement_timeout = '0';

DROP INDEX CONCURRENTLY IF EXISTS items_price_idx;
DROP INDEX CONCURRENTLY IF EXISTS items_attributes_idx;
DROP INDEX CONCURRENTLY IF EXISTS posts_search_idx;

RESET lock_timeout;
RESET statement_timeout;
