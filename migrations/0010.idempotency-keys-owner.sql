-- Stored answers belong to an account and go with it: a deleted account's answers (a sign-up's
-- holds its email) must not outlive it, nor replay a 201 for it. The foreign key is added NOT
-- VALID (no scan under a strong lock); 0011 validates it and indexes the column. Answers
-- already stored get their owner from their scope; a sign-up's, kept a day at most, is left
-- without one.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE idempotency_keys ADD COLUMN user_id bigint;

ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_user_id_fkey
FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE NOT VALID;

-- The answers of accounts already deleted go now; the others learn whose they are.
DELETE FROM idempotency_keys AS k
WHERE
    k.scope LIKE 'user:%'
    AND NOT EXISTS (SELECT 1 FROM users AS u WHERE u.id = substr(k.scope, 6)::bigint);

UPDATE idempotency_keys
SET user_id = substr(scope, 6)::bigint
WHERE scope LIKE 'user:%';

COMMENT ON COLUMN idempotency_keys.user_id IS 'The account the answer belongs to (the one signed up, for a sign-up); deleted with it.';
