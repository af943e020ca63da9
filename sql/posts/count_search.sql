-- Count the posts a search matches (carrying the tag, when one is given).
-- $1 query text
-- $2 tag text
-- returns: a value
-- read-only

SELECT count(*)
FROM posts AS p
WHERE
    p.search @@ websearch_to_tsquery('english', $1)
    AND (
        $2::text IS NULL
        OR EXISTS (
            SELECT 1
            FROM post_tags AS link
            INNER JOIN tags AS tagged ON link.tag_id = tagged.id
            WHERE
                link.post_id = p.id
                AND tagged.name = $2::text
        )
    );
