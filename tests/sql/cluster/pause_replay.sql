-- On a standby: stop replaying WAL until cluster/resume_replay (it still receives it).
-- returns: nothing

SELECT pg_wal_replay_pause();
