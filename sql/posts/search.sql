-- Search posts with a web-search style query (words, "quoted phrases", or, -word) over
-- the stored search vector (title weighted above content), through its GIN index; best
-- match first, then newest. The page starts after the cursor's (rank, id). The snippet,
-- which re-reads each post's text, is made only for the page's rows and only on request.
-- A tag, when given, narrows the matches to the posts carrying it. The snippet is safe to
-- insert as HTML: the content is HTML-escaped (& < > " ') before ts_headline reads it, so
-- the only tags in a snippet are the <mark> and </mark> it adds (ts_headline reads each
-- entity, &lt; say, as one token and never cuts one).
-- $1 query text
-- $2 after_rank real
-- $3 before_id bigint
-- $4 skip bigint
-- $5 limit bigint
-- $6 highlight boolean
-- $7 tag text
-- returns: many rows
-- read-only

WITH search AS (
    SELECT websearch_to_tsquery('english', $1) AS query
),

found AS (
    SELECT
        p.id,
        ts_rank(p.search, s.query) AS rank
    FROM posts AS p
    CROSS JOIN search AS s
    WHERE
        p.search @@ s.query
        AND (ts_rank(p.search, s.query), p.id)
        < (coalesce($2::real, 'Infinity'), coalesce($3::bigint, 9223372036854775807))
        AND (
            $7::text IS NULL
            OR EXISTS (
                SELECT 1
                FROM post_tags AS link
                INNER JOIN tags AS tagged ON link.tag_id = tagged.id
                WHERE
                    link.post_id = p.id
                    AND tagged.name = $7::text
            )
        )
    ORDER BY rank DESC, p.id DESC
    LIMIT $5 OFFSET $4
)

SELECT
    p.id,
    p.title,
    p.content,
    p.created_at,
    p.updated_at,
    f.rank,
    json_build_object('id', u.id, 'username', u.username) AS author,
    array(
        SELECT t.name
        FROM post_tags AS pt
        INNER JOIN tags AS t ON pt.tag_id = t.id
        WHERE pt.post_id = p.id
        ORDER BY t.name
    ) AS tags,
    CASE
        WHEN $6
            THEN ts_headline(
                'english',
                replace(
                    replace(
                        replace(
                            replace(replace(p.content, '&', '&amp;'), '<', '&lt;'),
                            '>', '&gt;'
                        ),
                        '"', '&quot;'
                    ),
                    '''', '&#39;'
                ),
                s.query,
                'StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MinWords=5, MaxWords=20'
            )
    END AS snippet
FROM found AS f
INNER JOIN posts AS p ON f.id = p.id
INNER JOIN users AS u ON p.author_id = u.id
CROSS JOIN search AS s
ORDER BY f.rank DESC, f.id DESC;
