-- Fetch one post with its author and tags.
-- $1 id bigint
-- returns: one row
-- read-only

SELECT
    p.id,
    p.title,
    p.content,
    p.created_at,
    p.updated_at,
    json_build_object('id', u.id, 'username', u.username) AS author,
    array(
        SELECT t.name
        FROM post_tags AS pt
        INNER JOIN tags AS t ON pt.tag_id = t.id
        WHERE pt.post_id = p.id
        ORDER BY t.name
    ) AS tags
FROM posts AS p
INNER JOIN users AS u ON p.author_id = u.id
WHERE p.id = $1;
