-- transactional: false
-- Validate items' owner foreign key and index the column, while writes go on: each
-- statement commits on its own, VALIDATE takes a lock that lets writes through, and the
-- index is built concurrently. Safe to run again if it stops part way.

SET lock_timeout = '5s';
SET statement_timeout = '0';

-- Validating a valid constraint does nothing, so this statement reruns safely.
-- squawk-ignore prefer-robust-stmts
ALTER TABLE items VALIDATE CONSTRAINT items_owner_id_fkey;

-- An owner's items, and the foreign key's lookups when a user is deleted.
CREATE INDEX CONCURRENTLY IF NOT EXISTS items_owner_id_idx ON items (owner_id);

RESET lock_timeout;
RESET statement_timeout;
