-- The current value of one server setting, as this session sees it.
-- $1 name text
-- returns: a value

SELECT current_setting($1);
