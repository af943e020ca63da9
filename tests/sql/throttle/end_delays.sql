-- End every running throttle delay, as waiting it out would (the counts stay).
-- returns: nothing

UPDATE sign_in_failures
SET blocked_until = now()
WHERE blocked_until > now();
