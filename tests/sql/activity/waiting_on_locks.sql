-- How many sessions of this database are waiting for a lock.
-- returns: a value

SELECT count(*)
FROM pg_stat_activity
WHERE
    datname = current_database()
    AND wait_event_type = 'Lock';
