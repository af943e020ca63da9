-- Every comment on a table or column of the current schema, on `table` or `table.column`.
-- returns: many rows

SELECT
    d.description,
    c.relname || coalesce('.' || a.attname, '') AS commented
FROM pg_description AS d
INNER JOIN pg_class AS c ON d.objoid = c.oid
INNER JOIN pg_namespace AS n ON c.relnamespace = n.oid
LEFT JOIN pg_attribute AS a
    ON
        c.oid = a.attrelid
        AND d.objsubid = a.attnum
        AND d.objsubid > 0
WHERE
    n.nspname = current_schema()
    AND d.classoid = 'pg_class'::regclass
ORDER BY commented;
