-- transactional: false
-- Undo 0004: drop the index on items' owner (the constraint stays valid).

SET lock_timeout = '5s';
SET statement_timeout = '0';

DROP INDEX CONCURRENTLY IF EXISTS items_owner_id_idx;

RESET lock_timeout;
RESET statement_timeout;
