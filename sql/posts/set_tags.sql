-- Give a post exactly these tags: create the tags not seen before, link the new ones,
-- unlink the rest. ON CONFLICT … DO UPDATE returns the id of a tag that already exists
-- (even one another transaction just created), which DO NOTHING would not.
-- $1 post_id bigint
-- $2 tags text[]
-- returns: nothing

WITH tagged AS (
    INSERT INTO tags (name)
    SELECT DISTINCT unnest($2::text[])
    ON CONFLICT (name) DO UPDATE SET name = excluded.name
    RETURNING id
),

unlinked AS (
    DELETE FROM post_tags
    WHERE
        post_id = $1
        AND tag_id NOT IN (SELECT tagged.id FROM tagged)
)

INSERT INTO post_tags (post_id, tag_id)
SELECT
    $1 AS post_id,
    tagged.id
FROM tagged
ON CONFLICT (post_id, tag_id) DO NOTHING;
