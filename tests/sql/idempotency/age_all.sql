-- Move every stored idempotency answer back by the given time, as time would.
-- $1 by interval
-- returns: nothing

UPDATE idempotency_keys
SET created_at = created_at - $1::interval;
