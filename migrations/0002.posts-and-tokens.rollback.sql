-- Undo 0002: drop posts, tokens and the login throttle (and every row in them).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE login_attempts;
DROP TABLE tokens;
DROP TABLE posts;
