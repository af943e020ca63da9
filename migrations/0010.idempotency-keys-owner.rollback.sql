-- Undo 0010: stored answers no longer know their account.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE idempotency_keys DROP COLUMN user_id;
