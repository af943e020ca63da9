-- Change some of a post's fields, if the given user wrote it; a NULL leaves a field as it
-- is. No row back: no such post, or not this author's.
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
    json_build_object('id', u.id, 'username', u.username) AS author
FROM updated AS p
INNER JOIN users AS u ON p.author_id = u.id;
