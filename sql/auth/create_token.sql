-- Hand out a token: store its hash and expiry, and forget the account's expired tokens.
-- $1 token_hash bytea
-- $2 user_id bigint
-- $3 ttl interval
-- returns: nothing

WITH expired_tokens AS (
    DELETE FROM tokens
    WHERE
        user_id = $2
        AND expires_at <= now()
)

INSERT INTO tokens (token_hash, user_id, expires_at)
VALUES ($1, $2, now() + $3::interval);
