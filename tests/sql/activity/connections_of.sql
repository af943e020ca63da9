-- How many sessions the server has with the given application name.
-- $1 application_name text
-- returns: a value

SELECT count(*)
FROM pg_stat_activity
WHERE application_name = $1;
