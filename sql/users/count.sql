-- Count every user, for a listing that asks for the total.
-- returns: a value
-- read-only

SELECT count(*)
FROM users;
