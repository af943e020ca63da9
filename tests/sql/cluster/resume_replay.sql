-- On a standby: replay WAL again after cluster/pause_replay.
-- returns: nothing

SELECT pg_wal_replay_resume();
