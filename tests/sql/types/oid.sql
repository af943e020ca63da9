-- The oid of a type named as a DBA writes it (bigint, text[], timestamptz), or NULL.
-- $1 type_name text
-- returns: a value

SELECT to_regtype($1)::oid;
