-- Count a password check as a failure before it runs, on the (address, subject) counter and
-- on the address's counter across subjects ('*'), unless a counter's delay is still running.
-- A counter quiet for $7 seconds starts over; from its $3rd (or $4th, across subjects)
-- failure, each sets a delay of $5 seconds doubled per failure since, at most $6. The row
-- lock makes concurrent checks queue, so a burst cannot outrun the count. The check may run
-- when both counters took it; otherwise, the seconds until the later delay ends. A few rows
-- quiet for long (other clients') are forgotten on the way.
-- $1 client_address inet
-- $2 subject text
-- $3 free_failures bigint
-- $4 address_free_failures bigint
-- $5 first_delay_seconds bigint
-- $6 max_delay_seconds bigint
-- $7 forget_seconds bigint
-- returns: one row

WITH counters AS (
    SELECT
        $2::text AS subject,
        $3::bigint AS free_failures
    UNION ALL
    SELECT
        '*' AS subject,
        $4::bigint AS free_failures
),

counted AS (
    INSERT INTO sign_in_failures AS f (
        client_address, subject, failures, last_failed_at, blocked_until
    )
    SELECT
        $1::inet AS client_address,
        c.subject,
        1 AS failures,
        now() AS last_failed_at,
        CASE
            WHEN c.free_failures <= 1 THEN now() + make_interval(secs => $5::bigint)
        END AS blocked_until
    FROM counters AS c
    ON CONFLICT (client_address, subject) DO UPDATE
        SET
            failures = CASE
                WHEN f.last_failed_at < now() - make_interval(secs => $7::bigint) THEN 1
                ELSE f.failures + 1
            END,
            last_failed_at = now(),
            blocked_until = CASE
                WHEN f.last_failed_at < now() - make_interval(secs => $7::bigint) THEN NULL
                WHEN f.failures + 1 >= CASE WHEN f.subject = '*' THEN $4::bigint ELSE $3::bigint END
                    THEN now() + make_interval(
                        secs => least(
                            $6::bigint,
                            $5::bigint * power(
                                2,
                                least(
                                    f.failures + 1
                                    - CASE WHEN f.subject = '*' THEN $4::bigint ELSE $3::bigint END,
                                    30
                                )
                            )
                        )
                    )
            END
        WHERE f.blocked_until IS NULL OR f.blocked_until <= now()
    RETURNING f.subject
),

forgotten AS (
    DELETE FROM sign_in_failures
    WHERE (client_address, subject) IN (
        SELECT
            q.client_address,
            q.subject
        FROM sign_in_failures AS q
        WHERE
            q.last_failed_at < now() - make_interval(secs => $7::bigint + $6::bigint)
            AND q.client_address <> $1::inet
        ORDER BY q.last_failed_at
        LIMIT 10
        FOR UPDATE SKIP LOCKED
    )
)

SELECT
    (SELECT count(*) FROM counted) = 2 AS admitted,
    greatest(
        1,
        (
            SELECT ceil(extract(EPOCH FROM max(b.blocked_until) - now()))::bigint
            FROM sign_in_failures AS b
            WHERE
                b.client_address = $1::inet
                AND b.subject IN ($2::text, '*')
        )
    ) AS retry_after;
