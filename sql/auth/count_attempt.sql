-- Count a sign-in attempt against the account's one-minute window, opening a new window
-- when the last one is over. Concurrent attempts queue on the row lock, so none is missed.
-- Returns the attempts in the window and the seconds until it ends.
-- $1 user_id bigint
-- returns: one row

INSERT INTO login_attempts AS a (user_id)
VALUES ($1)
ON CONFLICT (user_id) DO UPDATE
    SET
        attempts = CASE
            WHEN a.window_started_at > now() - interval '1 minute' THEN a.attempts + 1
            ELSE 1
        END,
        window_started_at = CASE
            WHEN a.window_started_at > now() - interval '1 minute' THEN a.window_started_at
            ELSE now()
        END
RETURNING
    attempts,
    ceil(extract(EPOCH FROM window_started_at + interval '1 minute' - now()))::bigint
        AS retry_after;
