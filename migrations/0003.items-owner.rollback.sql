-- Undo 0003: items lose their owner (the column goes, the rows stay).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE items DROP COLUMN owner_id;
