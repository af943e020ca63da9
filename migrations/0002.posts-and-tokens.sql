-- Posts with their authors, bearer tokens, and the login throttle.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE posts (
    id bigint GENERATED ALWAYS AS IDENTITY,
    author_id bigint NOT NULL,
    title text NOT NULL,
    content text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT posts_pkey PRIMARY KEY (id),
    CONSTRAINT posts_author_id_fkey FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT posts_title_check CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT posts_content_check CHECK (char_length(content) BETWEEN 1 AND 50000)
);

-- One author's posts in id order, and the foreign key's lookups when a user is deleted.
CREATE INDEX posts_author_id_idx ON posts (author_id, id);

COMMENT ON TABLE posts IS 'What users write.';
COMMENT ON COLUMN posts.id IS 'The post''s id.';
COMMENT ON COLUMN posts.author_id IS 'The user who wrote the post; only they may change or delete it.';
COMMENT ON COLUMN posts.title IS 'The title: 1 to 200 characters.';
COMMENT ON COLUMN posts.content IS 'The text: 1 to 50000 characters.';
COMMENT ON COLUMN posts.created_at IS 'When the post was written.';
COMMENT ON COLUMN posts.updated_at IS 'When the post last changed.';

CREATE TABLE tokens (
    token_hash bytea NOT NULL,
    user_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    CONSTRAINT tokens_pkey PRIMARY KEY (token_hash),
    CONSTRAINT tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT tokens_token_hash_check CHECK (octet_length(token_hash) = 32)
);

-- A user's tokens: revoked together when the password changes, and on user deletion.
CREATE INDEX tokens_user_id_idx ON tokens (user_id);

COMMENT ON TABLE tokens IS 'Bearer tokens handed out at sign-in; a revoked token is a deleted row.';
COMMENT ON COLUMN tokens.token_hash IS 'SHA-256 of the token: the token itself is never stored.';
COMMENT ON COLUMN tokens.user_id IS 'The user the token signs in.';
COMMENT ON COLUMN tokens.created_at IS 'When the token was handed out.';
COMMENT ON COLUMN tokens.expires_at IS 'When the token stops working.';

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
