-- Undo 0008: back to the per-account one-minute window (empty: counts are short-lived).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE sign_in_failures;

CREATE TABLE login_attempts (
    user_id bigint NOT NULL,
    window_started_at timestamptz NOT NULL DEFAULT now(),
    attempts bigint NOT NULL DEFAULT 1,
    CONSTRAINT login_attempts_pkey PRIMARY KEY (user_id),
    CONSTRAINT login_attempts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

COMMENT ON TABLE login_attempts IS 'Sign-in attempts per account in the current one-minute window: the login throttle, shared by every worker.';
COMMENT ON COLUMN login_attempts.user_id IS 'The account being signed in to.';
COMMENT ON COLUMN login_attempts.window_started_at IS 'When the current window began; it lasts one minute.';
COMMENT ON COLUMN login_attempts.attempts IS 'Attempts in the current window; a successful sign-in deletes the row.';
