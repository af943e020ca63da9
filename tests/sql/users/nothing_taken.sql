-- Stands in for users/taken when a test needs the INSERT alone to decide: nothing is taken.
-- $1 email text
-- $2 username text
-- returns: a value

SELECT NULL::text AS field
WHERE $1::text IS NULL AND $2::text IS NULL;
