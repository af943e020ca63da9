-- Count one author's posts.
-- $1 author_id bigint
-- returns: a value
-- read-only

SELECT count(*)
FROM posts
WHERE author_id = $1;
