-- Delete a post, if the given user wrote it; returns its id, or no row (no such post, or
-- not this author's).
-- $1 id bigint
-- $2 author_id bigint
-- returns: a value

DELETE FROM posts
WHERE
    id = $1
    AND author_id = $2
RETURNING id;
