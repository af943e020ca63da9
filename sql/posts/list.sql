-- List posts newest first with their authors and tags, one page at a time, in one
-- statement (no query per post). The page starts before the cursor's id: an index
-- condition, so page 1,000 costs what page 1 does.
-- Asks for one row more than a page, to tell whether another page follows.
-- $1 before_id bigint
-- $2 skip bigint
-- $3 limit bigint
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
WHERE p.id < coalesce($1::bigint, 9223372036854775807)
ORDER BY p.id DESC
LIMIT $3 OFFSET $2;
