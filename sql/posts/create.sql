-- Write a post and return it with its author, in one statement. A new post has no tags
-- yet: posts/set_tags gives it some, in the same transaction.
-- $1 author_id bigint
-- $2 title text
-- $3 content text
-- returns: one row

WITH created AS (
    INSERT INTO posts (author_id, title, content)
    VALUES ($1, $2, $3)
    RETURNING id, author_id, title, content, created_at, updated_at
)

SELECT
    c.id,
    c.title,
    c.content,
    c.created_at,
    c.updated_at,
    '{}'::text[] AS tags,
    json_build_object('id', u.id, 'username', u.username) AS author
FROM created AS c
INNER JOIN users AS u ON c.author_id = u.id;
