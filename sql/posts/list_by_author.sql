-- List one author's posts newest first, with the author and tags, one page at a time,
-- through the index on (author_id, id).
-- $1 author_id bigint
-- $2 before_id bigint
-- $3 skip bigint
-- $4 limit bigint
-- returns: many rows
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
WHERE
    p.author_id = $1
    AND p.id < coalesce($2::bigint, 9223372036854775807)
ORDER BY p.id DESC
LIMIT $4 OFFSET $3;
