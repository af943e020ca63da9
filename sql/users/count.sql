-- Count every user, for a listing that asks for the total.
-- returns: a value

SELECT count(*)
FROM users;
