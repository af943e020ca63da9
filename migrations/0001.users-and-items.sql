-- Users and items: the service's first tables.
-- Constraints carry explicit names: the API maps errors from them (users_email_key -> 409 on email).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY,
    email text NOT NULL,
    username text NOT NULL,
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_check CHECK (char_length(email) BETWEEN 3 AND 254),
    CONSTRAINT users_username_check CHECK (username ~ '^[A-Za-z0-9_.-]{3,32}$')
);

-- Unique without regard to case: Ann@example.com and ann@example.com are one person.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

COMMENT ON TABLE users IS 'People who use the service.';
COMMENT ON COLUMN users.id IS 'The user''s id.';
COMMENT ON COLUMN users.email IS 'Email address, unique regardless of case.';
COMMENT ON COLUMN users.username IS 'Public name: 3 to 32 letters, digits, ''_'', ''.'' or ''-'', unique regardless of case.';
COMMENT ON COLUMN users.password_hash IS 'argon2id hash of the password (PHC string); never leaves the service.';
COMMENT ON COLUMN users.created_at IS 'When the user signed up.';

CREATE TABLE items (
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL,
    description text,
    price bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT items_pkey PRIMARY KEY (id),
    CONSTRAINT items_name_check CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT items_description_check CHECK (char_length(description) <= 2000),
    CONSTRAINT items_price_check CHECK (price >= 0)
);

COMMENT ON TABLE items IS 'Things for sale.';
COMMENT ON COLUMN items.id IS 'The item''s id.';
COMMENT ON COLUMN items.name IS 'What the item is called: 1 to 200 characters.';
COMMENT ON COLUMN items.description IS 'A longer description, up to 2000 characters; optional.';
COMMENT ON COLUMN items.price IS 'Price in the smallest unit of the currency (cents), zero or more.';
COMMENT ON COLUMN items.created_at IS 'When the item was created.';
COMMENT ON COLUMN items.updated_at IS 'When the item last changed.';
