-- Empty every table the migrations made (yoyo's own bookkeeping stays) and restart ids.
-- returns: nothing

DO $$
DECLARE
    tables text;
BEGIN
    SELECT string_agg(format('%I.%I', schemaname, tablename), ', ')
    INTO tables
    FROM pg_tables
    WHERE schemaname = current_schema()
        AND tablename NOT LIKE '%yoyo%';
    IF tables IS NOT NULL THEN
        EXECUTE 'TRUNCATE ' || tables || ' RESTART IDENTITY CASCADE';
    END IF;
END
$$;
