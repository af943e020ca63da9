-- The password-check throttle, counted per client address: per (address, account) and per
-- address across accounts, with a delay that doubles past the free failures. It replaces the
-- per-account window of 0002, which let anyone who knew a username lock its owner out.
-- The old table only held one minute of counts: nothing worth carrying over.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- Its counts last a minute: nothing is lost that matters beyond it.
-- squawk-ignore ban-drop-table
DROP TABLE login_attempts;

CREATE TABLE sign_in_failures (
    client_address inet NOT NULL,
    subject text NOT NULL,
    failures bigint NOT NULL,
    last_failed_at timestamptz NOT NULL DEFAULT now(),
    blocked_until timestamptz,
    CONSTRAINT sign_in_failures_pkey PRIMARY KEY (client_address, subject),
    CONSTRAINT sign_in_failures_failures_check CHECK (failures >= 0),
    CONSTRAINT sign_in_failures_subject_check CHECK (char_length(subject) BETWEEN 1 AND 80)
);

-- Forgetting quiet rows, a few at a time.
CREATE INDEX sign_in_failures_last_failed_at_idx ON sign_in_failures (last_failed_at);

COMMENT ON TABLE sign_in_failures IS 'Failed password checks per client address, the throttle every worker shares: per account, and across accounts.';
COMMENT ON COLUMN sign_in_failures.client_address IS 'The client: its IPv4 address, or its IPv6 /64.';
COMMENT ON COLUMN sign_in_failures.subject IS 'What was tried: login:<SHA-256 of the normalized login>, user:<id> for a signed-in user''s current password, or * for every account from the address.';
COMMENT ON COLUMN sign_in_failures.failures IS 'Failures counted since the last quiet spell; each check is counted before it runs and forgiven when it succeeds.';
COMMENT ON COLUMN sign_in_failures.last_failed_at IS 'When the last failure was counted; a row quiet for THROTTLE_FORGET_SECONDS starts over.';
COMMENT ON COLUMN sign_in_failures.blocked_until IS 'Until when checks are refused (429): the delay doubles with each failure past the free ones.';
