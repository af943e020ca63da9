-- Undo 0007: drop the idempotency keys (retries with old keys would write again).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE idempotency_keys;
