-- The stored answer to a key, while it is kept.
-- $1 scope text
-- $2 key text
-- $3 ttl interval
-- returns: one row

SELECT
    request_hash,
    status_code,
    response_body,
    response_headers
FROM idempotency_keys
WHERE
    scope = $1
    AND key = $2
    AND created_at > now() - $3::interval;
