-- Move every throttle counter two hours into the past, as a quiet spell would.
-- returns: nothing

UPDATE sign_in_failures
SET
    last_failed_at = last_failed_at - interval '2 hours',
    blocked_until = blocked_until - interval '2 hours';
