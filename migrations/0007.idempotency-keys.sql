-- Idempotency keys: the outcome of each keyed POST, stored in the transaction of its write,
-- so that a retry with the same key gets the original answer instead of a second write.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE idempotency_keys (
    scope text NOT NULL,
    key text NOT NULL,
    request_hash bytea NOT NULL,
    status_code bigint NOT NULL,
    response_body bytea NOT NULL,
    response_headers jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, key),
    CONSTRAINT idempotency_keys_key_check CHECK (char_length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_request_hash_check CHECK (octet_length(request_hash) = 32)
);

-- Forgetting keys past their retention, a few at a time.
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

COMMENT ON TABLE idempotency_keys IS 'The answers to POSTs sent with an Idempotency-Key, replayed to retries; kept 24 hours.';
COMMENT ON COLUMN idempotency_keys.scope IS 'Whose key: user:<id>, or anonymous for sign-ups.';
COMMENT ON COLUMN idempotency_keys.key IS 'The Idempotency-Key header as the client sent it.';
COMMENT ON COLUMN idempotency_keys.request_hash IS 'SHA-256 of the method, path and body: a retry must send the same request.';
COMMENT ON COLUMN idempotency_keys.status_code IS 'The status of the original answer.';
COMMENT ON COLUMN idempotency_keys.response_body IS 'The original answer''s body, byte for byte.';
COMMENT ON COLUMN idempotency_keys.response_headers IS 'Headers of the original answer worth replaying (Location).';
COMMENT ON COLUMN idempotency_keys.created_at IS 'When the original request was answered.';
