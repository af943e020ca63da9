-- What the sessions of this database that wait for a lock are running, as a DBA sees it.
-- returns: many rows

SELECT query
FROM pg_stat_activity
WHERE
    datname = current_database()
    AND wait_event_type = 'Lock';
