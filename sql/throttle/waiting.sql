-- The seconds a client must still wait before a password check on the subject, if any: a
-- plain read, so that a client already waiting is refused without a write or a row lock
-- (throttle/claim then counts the checks that may run).
-- $1 client_address inet
-- $2 subject text
-- returns: a value

SELECT ceil(extract(EPOCH FROM max(blocked_until) - now()))::bigint AS retry_after
FROM sign_in_failures
WHERE
    client_address = $1::inet
    AND subject IN ($2::text, '*')
    AND blocked_until > now();
