-- How far this standby has replayed the primary's WAL, as a byte position; NULL on a
-- server that is not a standby.
-- returns: a value
-- read-only

SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS wal_position;
