-- Whether this standby has replayed the WAL up to the given position (text, as
-- cluster/current_wal_lsn gives it); NULL on a primary.
-- $1 lsn text
-- returns: a value

SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn;
