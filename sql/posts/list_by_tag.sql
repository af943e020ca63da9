-- List the posts carrying one tag, newest first, with their authors and tags, one page
-- at a time: driven by the index on post_tags (tag_id, post_id), which gives the order.
-- $1 tag text
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
FROM tags AS tagged
INNER JOIN post_tags AS link ON tagged.id = link.tag_id
INNER JOIN posts AS p ON link.post_id = p.id
INNER JOIN users AS u ON p.author_id = u.id
WHERE
    tagged.name = $1
    AND link.post_id < coalesce($2::bigint, 9223372036854775807)
ORDER BY link.post_id DESC
LIMIT $4 OFFSET $3;
