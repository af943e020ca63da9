-- Seed the tags of $1, in order, and give each of posts 1 to $2 none to three of them,
-- drawn so that earlier tags come up more often: the first ('news') is on one post in
-- about six, the last on a few hundred.
-- $1 tags text[]
-- $2 posts bigint
-- returns: nothing

WITH tag AS (
    INSERT INTO tags (name)
    SELECT t.name
    FROM unnest($1::text[]) WITH ORDINALITY AS t (name, position)
    ORDER BY t.position
    RETURNING id, name
),

ranked_tag AS (
    SELECT
        created.id,
        t.position AS tag_rank
    FROM tag AS created
    INNER JOIN unnest($1::text[]) WITH ORDINALITY AS t (name, position) ON created.name = t.name
),

draw AS (
    SELECT
        p.n,
        1 + floor(
            cardinality($1)
            * (((p.n * 16 + k.k) * 2654435761 % 4294967296) / 4294967296.0::float8) ^ 2
        )::bigint AS tag_rank
    FROM generate_series(1, $2::bigint) AS p (n)
    CROSS JOIN generate_series(1, p.n % 4) AS k (k)
)

INSERT INTO post_tags (post_id, tag_id)
SELECT DISTINCT
    d.n AS post_id,
    t.id AS tag_id
FROM draw AS d
INNER JOIN ranked_tag AS t ON d.tag_rank = t.tag_rank
ORDER BY post_id, tag_id;
