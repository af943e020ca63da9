-- What each query file has cost this database since the statistics were last reset, from
-- pg_stat_statements: its statements are found by the name each carries (SELECT /* posts/list */).
-- Times are in milliseconds; blocks are shared buffer blocks found in memory (hit) or read
-- from the operating system (read). Costliest first.
-- returns: many rows

WITH named AS (
    SELECT
        s.calls,
        s.total_exec_time,
        s.rows,
        s.shared_blks_hit,
        s.shared_blks_read,
        substring(s.query FROM '^\S+ /\* ([a-z0-9_/]+) \*/') AS query_file
    FROM pg_stat_statements AS s
    INNER JOIN pg_database AS d ON s.dbid = d.oid
    WHERE d.datname = current_database()
)

SELECT
    query_file,
    sum(calls)::bigint AS calls,
    sum(total_exec_time)::float8 AS total_ms,
    (sum(total_exec_time) / sum(calls))::float8 AS mean_ms,
    sum(rows)::bigint AS rows_returned,
    sum(shared_blks_hit)::bigint AS shared_blks_hit,
    sum(shared_blks_read)::bigint AS shared_blks_read
FROM named
WHERE query_file IS NOT NULL
GROUP BY query_file
HAVING sum(calls) > 0
ORDER BY total_ms DESC, query_file ASC;
