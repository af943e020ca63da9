-- Fetch one post with its author.
-- $1 id bigint
-- returns: one row

SELECT
    p.id,
    p.title,
    p.content,
    p.created_at,
    p.updated_at,
    json_build_object('id', u.id, 'username', u.username) AS author
FROM posts AS p
INNER JOIN users AS u ON p.author_id = u.id
WHERE p.id = $1;
