-- The tables in the current schema, but yoyo's own, by name.
-- returns: many rows

SELECT tablename AS table_name
FROM pg_tables
WHERE
    schemaname = current_schema()
    AND tablename NOT LIKE '%yoyo%'
ORDER BY tablename;
