-- Seed items 1 to $1, in id order, created one after another over 2024 by owners spread
-- evenly over users 1 to $2. A name is two words, a description 6 to 20 more (none for
-- every fifth item), drawn from the vocabulary of $3 as sql/seed/posts.sql draws them.
-- Prices run from 1.00 to 10000.00, spread evenly on a log scale: many cheap items, few
-- dear ones. Attributes: one of 16 colours, 4 sizes and 8 materials, and one item in 200 is
-- a limited edition, so that containment filters have common and rare values to find.
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

item AS (
    SELECT
        n,
        8 + n % 15 AS word_count,
        (n * 2654435761 % 4294967296) / 4294967296.0::float8 AS price_draw,
        timestamptz '2024-01-01 00:00:00+00' + (n - 1) * (interval '366 days' / $1) AS created_at
    FROM generate_series(1, $1::bigint) AS n
),

draw AS (
    SELECT
        i.n,
        w.k,
        ((i.n * 32 + w.k) * 2654435761 % 4294967296) / 4294967296.0::float8 AS uniform
    FROM item AS i
    CROSS JOIN generate_series(1, i.word_count) AS w (k)
),

ranked AS (
    SELECT
        n,
        k,
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
        string_agg(v.word, ' ' ORDER BY d.k) FILTER (WHERE d.k <= 2) AS name_words,
        string_agg(v.word, ' ' ORDER BY d.k) FILTER (WHERE d.k > 2) AS description_words
    FROM ranked AS d
    INNER JOIN vocabulary AS v ON d.word_rank = v.word_rank
    GROUP BY d.n
)

INSERT INTO items (owner_id, name, description, price, attributes, created_at, updated_at)
SELECT
    1 + (i.n * 104729) % $2 AS owner_id,
    initcap(w.name_words) AS name, -- noqa: RF04
    CASE
        WHEN i.n % 5 <> 0
            THEN
                upper(left(w.description_words, 1))
                || substr(w.description_words, 2)
                || '.'
    END AS description,
    round(100 * 10 ^ (4 * i.price_draw))::bigint AS price,
    jsonb_build_object(
        'color', (ARRAY[
            'red', 'blue', 'green', 'black', 'white', 'grey', 'yellow', 'orange',
            'purple', 'pink', 'brown', 'navy', 'teal', 'olive', 'maroon', 'silver'
        ])[1 + i.n % 16],
        'size', (ARRAY['S', 'M', 'L', 'XL'])[1 + i.n / 16 % 4],
        'material', (ARRAY[
            'cotton', 'wool', 'steel', 'oak', 'glass', 'leather', 'linen', 'clay'
        ])[1 + i.n / 64 % 8]
    )
    || CASE
        WHEN i.n % 200 = 0 THEN '{"edition": "limited"}'::jsonb ELSE '{}'::jsonb
    END AS attributes,
    i.created_at,
    i.created_at AS updated_at
FROM item AS i
INNER JOIN words AS w ON i.n = w.n
ORDER BY i.n;
