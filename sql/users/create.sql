-- Sign a user up. A taken email or username fails on users_email_key or users_username_key.
-- $1 email text
-- $2 username text
-- $3 password_hash text
-- returns: one row

INSERT INTO users (email, username, password_hash)
VALUES ($1, $2, $3)
RETURNING id, email, username, created_at;
