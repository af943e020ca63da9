-- List posts with their authors, oldest first, one page at a time: one statement for the
-- page and its authors (no query per post).
-- $1 skip bigint
-- $2 limit bigint
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
ORDER BY p.id
LIMIT $2 OFFSET $1;
