-- Store the answer to a key, in the transaction of the write it answers (replacing an
-- expired answer to the same key), with the account it belongs to (deleted with it), and
-- forget a few keys past their retention.
-- $1 scope text
-- $2 key text
-- $3 request_hash bytea
-- $4 status_code bigint
-- $5 response_body bytea
-- $6 response_headers jsonb
-- $7 ttl interval
-- $8 user_id bigint
-- returns: nothing

WITH expired AS (
    DELETE FROM idempotency_keys
    WHERE (scope, key) IN (
        SELECT
            stale.scope,
            stale.key
        FROM idempotency_keys AS stale
        WHERE stale.created_at <= now() - $7::interval
        ORDER BY stale.created_at
        LIMIT 100
        FOR UPDATE SKIP LOCKED
    )
)

INSERT INTO idempotency_keys (
    scope, key, request_hash, status_code, response_body, response_headers, user_id
)
VALUES ($1, $2, $3, $4, $5, $6, $8)
ON CONFLICT (scope, key) DO UPDATE
    SET
        request_hash = excluded.request_hash,
        status_code = excluded.status_code,
        response_body = excluded.response_body,
        response_headers = excluded.response_headers,
        user_id = excluded.user_id,
        created_at = now();
