-- Who wrote a post: tells "no such post" (no row) from "not yours" after a refused change.
-- $1 id bigint
-- returns: one row

SELECT author_id AS owner_id
FROM posts
WHERE id = $1;
