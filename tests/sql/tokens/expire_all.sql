-- Make every token expired, as time would.
-- returns: nothing

UPDATE tokens
SET expires_at = now() - interval '1 second';
