-- Every tag, and how many posts carry it.
-- returns: many rows

SELECT
    t.name,
    count(pt.post_id) AS posts
FROM tags AS t
LEFT JOIN post_tags AS pt ON t.id = pt.tag_id
GROUP BY t.name
ORDER BY t.name;
