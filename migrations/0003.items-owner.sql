-- Items get an owner, without losing the rows already there: items made before owners
-- existed keep a NULL owner (nobody may change them through the API).
-- The foreign key is added NOT VALID: no scan of items under a strong lock. 0004
-- validates it and indexes the column without blocking writes.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE items ADD COLUMN owner_id bigint;

ALTER TABLE items ADD CONSTRAINT items_owner_id_fkey
FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE NOT VALID;

COMMENT ON COLUMN items.owner_id IS 'The user who created the item; only they may change or delete it. NULL for items older than owners.';
