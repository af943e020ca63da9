-- Forget every throttle counter (the bench starts each set-up from none).
-- returns: nothing

DELETE FROM sign_in_failures;
