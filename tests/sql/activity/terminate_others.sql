-- End every other session of this database that has the given application name,
-- as a database restart would.
-- $1 application_name text
-- returns: a value

SELECT count(pg_terminate_backend(pid))
FROM pg_stat_activity
WHERE
    datname = current_database()
    AND application_name = $1
    AND pid <> pg_backend_pid();
