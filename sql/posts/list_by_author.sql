-- List one author's posts with the author, oldest first, one page at a time.
-- $1 author_id bigint
-- $2 skip bigint
-- $3 limit bigint
-- returns: many rows

SELECT
    p.id,
    p.title,
    p.content,
    p.created_at,
    p.updated_at,
    json_build_object('id', u.id, 'username', u.username) AS author
FROM posts AS p
INNER JOIN users AS u ON p.author_id = u.id
WHERE p.author_id = $1
ORDER BY p.id
LIMIT $3 OFFSET $2;
