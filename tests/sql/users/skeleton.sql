-- What the database takes a username to look like.
-- $1 username text
-- returns: a value

SELECT username_skeleton($1) AS skeleton;
