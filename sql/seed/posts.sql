-- Seed posts 1 to $1, in id order, written one after another over 2024 by authors spread
-- evenly over users 1 to $2. A title is 3 to 7 words, a content 12 to 60, drawn from a
-- vocabulary with a long tail, as real text has: nine words in ten are words of $3, the
-- rest two of them run together ('maplefalcon'), which are rarer. Word k of post n comes
-- from a golden-ratio (Weyl) draw over (n, k), turned into a rank in its part of the
-- vocabulary by a Zipf-Mandelbrot law, P(rank r) ~ 1 / (r + 20). A plain word is then in
-- 5% to 50% of the posts, a run-together one in a few thousand down to none.
-- $1 count bigint
-- $2 users bigint
-- $3 words text[]
-- returns: nothing

WITH vocabulary AS (
    SELECT
        w.position AS word_rank,
        w.word
    FROM unnest($3::text[]) WITH ORDINALITY AS w (word, position)
    UNION ALL
    SELECT
        cardinality($3) * b.position + a.position AS word_rank,
        a.word || b.word AS word
    FROM unnest($3) WITH ORDINALITY AS a (word, position)
    CROSS JOIN unnest($3) WITH ORDINALITY AS b (word, position)
),

post AS (
    SELECT
        n,
        3 + n % 5 AS title_length,
        12 + n % 49 AS content_length,
        timestamptz '2024-01-01 00:00:00+00' + (n - 1) * (interval '366 days' / $1) AS written_at
    FROM generate_series(1, $1::bigint) AS n
),

draw AS (
    SELECT
        p.n,
        w.k,
        w.k <= p.title_length AS in_title,
        ((p.n * 128 + w.k) * 2654435761 % 4294967296) / 4294967296.0::float8 AS uniform
    FROM post AS p
    CROSS JOIN generate_series(1, p.title_length + p.content_length) AS w (k)
),

ranked AS (
    SELECT
        n,
        k,
        in_title,
        CASE
            WHEN uniform < 0.9
                THEN floor(21 * ((cardinality($3) + 21) / 21.0::float8) ^ (uniform / 0.9) - 20)
            ELSE
                cardinality($3)
                + floor(21 * ((cardinality($3) ^ 2 + 21) / 21) ^ ((uniform - 0.9) / 0.1) - 20)
        END::bigint AS word_rank
    FROM draw
),

words AS (
    SELECT
        d.n,
        string_agg(v.word, ' ' ORDER BY d.k) FILTER (WHERE d.in_title) AS title_words,
        string_agg(v.word, ' ' ORDER BY d.k) FILTER (WHERE NOT d.in_title) AS content_words
    FROM ranked AS d
    INNER JOIN vocabulary AS v ON d.word_rank = v.word_rank
    GROUP BY d.n
)

INSERT INTO posts (author_id, title, content, created_at, updated_at)
SELECT
    1 + (p.n * 7919) % $2 AS author_id,
    initcap(w.title_words) AS title,
    upper(left(w.content_words, 1)) || substr(w.content_words, 2) || '.' AS content, -- noqa: RF04
    p.written_at AS created_at,
    p.written_at AS updated_at
FROM post AS p
INNER JOIN words AS w ON p.n = w.n
ORDER BY p.n;
