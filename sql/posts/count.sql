-- Count every post, for a listing that asks for the total.
-- returns: a value
-- read-only

SELECT count(*)
FROM posts;
