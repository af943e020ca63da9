-- How many posts carry no tag at all.
-- returns: a value

SELECT count(*)
FROM posts AS p
WHERE NOT EXISTS (
    SELECT 1
    FROM post_tags AS pt
    WHERE pt.post_id = p.id
);
