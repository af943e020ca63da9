-- Check that the database answers.
-- returns: a value

SELECT 1;
