-- How many client sessions the server has on the given database, besides this one.
-- $1 database_name text
-- returns: a value

SELECT count(*) AS sessions
FROM pg_stat_activity
WHERE
    datname = $1
    AND backend_type = 'client backend'
    AND pid <> pg_backend_pid();
