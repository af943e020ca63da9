-- transactional: false
-- Undo 0011: drop the index on stored answers' owner (the constraint stays valid).

SET lock_timeout = '5s';
SET statement_timeout = '0';

DROP INDEX CONCURRENTLY IF EXISTS idempotency_keys_user_id_idx;

RESET lock_timeout;
RESET statement_timeout;
