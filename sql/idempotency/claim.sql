-- Try to take a key for this transaction: false means a request with the same key is in
-- flight right now. The lock is released at COMMIT or ROLLBACK.
-- $1 scope text
-- $2 key text
-- returns: a value

SELECT pg_try_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0));
