-- Count the posts carrying one tag.
-- $1 tag text
-- returns: a value
-- read-only

SELECT count(*)
FROM tags AS tagged
INNER JOIN post_tags AS link ON tagged.id = link.tag_id
WHERE tagged.name = $1;
