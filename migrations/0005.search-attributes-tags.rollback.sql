-- Undo 0005: drop tags, items' attributes and posts' search column (posts and items stay).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '0';

DROP TABLE post_tags;
DROP TABLE tags;
ALTER TABLE items DROP COLUMN attributes;
ALTER TABLE posts DROP COLUMN search;
