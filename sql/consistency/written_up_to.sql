-- Where the primary's WAL insertion stands, as a byte position: read after a commit, it is
-- at or past the end of that commit's record (the written position may lag it when commits
-- are asynchronous), so a replica that has replayed this far has replayed the commit.
-- returns: a value
-- read-only

SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint AS wal_position;
