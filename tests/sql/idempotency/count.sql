-- How many answers are stored, under any key.
-- returns: a value

SELECT count(*)
FROM idempotency_keys;
