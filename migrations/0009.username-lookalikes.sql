-- transactional: false
-- Usernames unique by what they look like, not only regardless of case: lily, LILY, Iily
-- and 1ily are one name (api/resources/users/names.py, whose LOOKALIKES this function must
-- match). The new index is built concurrently while writes go on, then takes the old one's
-- name, users_username_key, from which a conflict is answered "That username is already
-- taken.". The build fails, and the migration with it, where two stored names already look
-- alike: rename one, then run it again (each step is safe to rerun).

SET lock_timeout = '5s';
SET statement_timeout = '0';

CREATE OR REPLACE FUNCTION username_skeleton(username text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN replace(replace(translate(lower(username), '01i', 'oll'), 'rn', 'm'), 'vv', 'w');

COMMENT ON FUNCTION username_skeleton(text) IS 'What a username looks like: lowercase, with 0/o, 1/i/l, rn/m and vv/w made one. Usernames are unique by it.';

DROP INDEX CONCURRENTLY IF EXISTS users_username_skeleton_key;

-- Not IF NOT EXISTS: a build that failed part way leaves an invalid index, dropped above.
-- squawk-ignore prefer-robust-stmts
CREATE UNIQUE INDEX CONCURRENTLY users_username_skeleton_key ON users (username_skeleton(username));

DROP INDEX CONCURRENTLY IF EXISTS users_username_key;

-- No client names an index; the service maps a conflict's field from this name.
-- squawk-ignore prefer-robust-stmts, renaming-object
ALTER INDEX users_username_skeleton_key RENAME TO users_username_key;

COMMENT ON COLUMN users.username IS 'Public name: 3 to 32 letters, digits, ''_'', ''.'' or ''-'' (stored in Unicode NFKC), unique by username_skeleton: regardless of case and of look-alike characters.';

RESET lock_timeout;
RESET statement_timeout;
