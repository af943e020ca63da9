-- Make pg_stat_statements readable in this database, if it is not already (make stats). The
-- server must also load it at start: shared_preload_libraries = 'pg_stat_statements'.
-- returns: nothing

CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
