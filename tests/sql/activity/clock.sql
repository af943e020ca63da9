-- The server's clock now, as the statement runs: the order in which statements ran.
-- returns: a value

SELECT clock_timestamp();
