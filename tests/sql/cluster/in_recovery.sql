-- Whether the server is a standby replaying WAL (true) or a primary taking writes (false).
-- returns: a value

SELECT pg_is_in_recovery();
