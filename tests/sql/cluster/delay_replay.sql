-- On a standby: apply each commit no sooner than 20 ms after it was made (takes effect at
-- the next configuration reload, cluster/reload).
-- returns: nothing

ALTER SYSTEM SET recovery_min_apply_delay = '20ms';
