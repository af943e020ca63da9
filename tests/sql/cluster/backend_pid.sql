-- The pid of the server process serving this session: which server connection a pooler lent.
-- returns: a value

SELECT pg_backend_pid();
