-- Empty every table the migrations made (yoyo's own bookkeeping stays) and restart ids.
-- DELETE rather than TRUNCATE: on tables of a few rows TRUNCATE costs ten times as much (it
-- makes new files for every table and index), and this runs before every test. The lock
-- first waits for writers still at work, as TRUNCATE's would. Later tables go first, so a
-- row is gone before the row it references even where a foreign key does not cascade.
-- returns: nothing

DO $$
DECLARE
    tables text[];
    name text;
BEGIN
    SELECT array_agg(format('%I.%I', n.nspname, c.relname) ORDER BY c.oid DESC)
    INTO tables
    FROM pg_class AS c
    INNER JOIN pg_namespace AS n ON c.relnamespace = n.oid
    WHERE
        n.nspname = current_schema()
        AND c.relkind IN ('r', 'p')
        AND c.relname NOT LIKE '%yoyo%';
    IF tables IS NOT NULL THEN
        EXECUTE 'LOCK TABLE ' || array_to_string(tables, ', ') || ' IN EXCLUSIVE MODE';
        FOREACH name IN ARRAY tables LOOP
            EXECUTE 'DELETE FROM ' || name;
        END LOOP;
    END IF;
    PERFORM setval(format('%I.%I', schemaname, sequencename), 1, false)
    FROM pg_sequences
    WHERE schemaname = current_schema() AND sequencename NOT LIKE '%yoyo%';
END
$$;
