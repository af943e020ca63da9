-- Make the server read its configuration files again.
-- returns: a value

SELECT pg_reload_conf();
