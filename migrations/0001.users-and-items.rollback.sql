-- Undo 0001: drop the first tables (and every row in them).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE items;
DROP TABLE users;
