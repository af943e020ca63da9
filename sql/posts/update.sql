-- Change some of a post's fields, if the given user wrote it; a NULL leaves a field as it
-- is. Returns the post with its author and tags; no row: no such post, or not theirs.
-- $1 id bigint
-- $2 author_id bigint
-- $3 title text
-- $4 content text
-- returns: one row

WITH updated AS (
    UPDATE posts
    SET
        title = coalesce($3, title),
        content = coalesce($4, content),
        updated_at = now()
    WHERE
        id = $1
        AND author_id = $2
    RETURNING id, author_id, title, content, created_at, updated_at
)

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
FROM updated AS p
INNER JOIN users AS u ON p.author_id = u.id;
