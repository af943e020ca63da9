-- A password check succeeded: forget the (address, subject) counter, and take this check
-- back off the address's counter across subjects (its delay ends if it falls below the
-- free failures; other accounts' failures from the address still count).
-- $1 client_address inet
-- $2 subject text
-- $3 address_free_failures bigint
-- returns: nothing

WITH cleared AS (
    DELETE FROM sign_in_failures
    WHERE
        client_address = $1::inet
        AND subject = $2::text
)

UPDATE sign_in_failures
SET
    failures = failures - 1,
    blocked_until = CASE WHEN failures - 1 >= $3::bigint THEN blocked_until END
WHERE
    client_address = $1::inet
    AND subject = '*'
    AND failures > 0;
