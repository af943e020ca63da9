-- Move every login throttle window a minute into the past, as time would.
-- returns: nothing

UPDATE login_attempts
SET window_started_at = window_started_at - interval '61 seconds';
