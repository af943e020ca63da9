-- transactional: false
-- Validate stored answers' owner foreign key and index the column (an account's deletion
-- finds its answers by it), while writes go on. Safe to run again if it stops part way.

SET lock_timeout = '5s';
SET statement_timeout = '0';

-- Validating a valid constraint does nothing, so this statement reruns safely.
-- squawk-ignore prefer-robust-stmts
ALTER TABLE idempotency_keys VALIDATE CONSTRAINT idempotency_keys_user_id_fkey;

CREATE INDEX CONCURRENTLY IF NOT EXISTS idempotency_keys_user_id_idx ON idempotency_keys (user_id);

RESET lock_timeout;
RESET statement_timeout;
