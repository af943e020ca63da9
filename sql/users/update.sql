-- Change a user's own account; a NULL parameter leaves its field as it is. A new password
-- hash also revokes every token of the user but the one making the change, so sessions
-- opened with the old password end with it.
-- $1 id bigint
-- $2 email text
-- $3 username text
-- $4 password_hash text
-- $5 current_token_hash bytea
-- returns: one row

WITH revoked_tokens AS (
    DELETE FROM tokens
    WHERE
        user_id = $1
        AND $4::text IS NOT NULL
        AND token_hash <> $5
)

UPDATE users
SET
    email = coalesce($2, email),
    username = coalesce($3, username),
    password_hash = coalesce($4, password_hash)
WHERE id = $1
RETURNING id, email, username, created_at;
