-- How many users there are.
-- returns: a value

SELECT count(*)
FROM users;
