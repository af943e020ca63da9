-- Where the primary's WAL ends now, as text: what a replica must replay to have caught up.
-- returns: a value

SELECT pg_current_wal_lsn()::text;
