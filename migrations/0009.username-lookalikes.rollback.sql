-- transactional: false
-- Undo 0009: usernames unique regardless of case only.

SET lock_timeout = '5s';
SET statement_timeout = '0';

DROP INDEX CONCURRENTLY IF EXISTS users_username_case_key;

-- squawk-ignore prefer-robust-stmts
CREATE UNIQUE INDEX CONCURRENTLY users_username_case_key ON users (lower(username));

DROP INDEX CONCURRENTLY IF EXISTS users_username_key;

-- squawk-ignore prefer-robust-stmts, renaming-object
ALTER INDEX users_username_case_key RENAME TO users_username_key;

-- Only the index above used it.
-- squawk-ignore ban-drop-function
DROP FUNCTION username_skeleton(text);

COMMENT ON COLUMN users.username IS 'Public name: 3 to 32 letters, digits, ''_'', ''.'' or ''-'', unique regardless of case.';

RESET lock_timeout;
RESET statement_timeout;
