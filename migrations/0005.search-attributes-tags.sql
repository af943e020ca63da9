-- Full-text search on posts, free-form attributes on items, and tags on posts.
-- Adding the stored generated column rewrites posts under an exclusive lock: on a large
-- table, run this migration in a quiet moment. Its GIN index is built concurrently by 0006.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '0';

-- A generated column, not a trigger: PostgreSQL keeps it right on every write, and the
-- rewrite it costs once is said above.
-- squawk-ignore adding-field-with-default
ALTER TABLE posts ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A')
    || setweight(to_tsvector('english', content), 'B')
) STORED;

COMMENT ON COLUMN posts.search IS 'The title (weight A) and content (weight B) as English lexemes, for full-text search; kept by PostgreSQL.';

-- A constant default: no rewrite since PostgreSQL 11. The checks are validated by 0006.
ALTER TABLE items ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}';

ALTER TABLE items ADD CONSTRAINT items_attributes_check CHECK (
    jsonb_typeof(attributes) = 'object' AND octet_length(attributes::text) <= 8192
) NOT VALID;

COMMENT ON COLUMN items.attributes IS 'Free-form properties, a JSON object (the API accepts up to 4096 bytes); filtered by containment.';

CREATE TABLE tags (
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL,
    CONSTRAINT tags_pkey PRIMARY KEY (id),
    CONSTRAINT tags_name_key UNIQUE (name),
    CONSTRAINT tags_name_check CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,31}$')
);

COMMENT ON TABLE tags IS 'Labels for posts; created on first use.';
COMMENT ON COLUMN tags.id IS 'The tag''s id.';
COMMENT ON COLUMN tags.name IS 'Lowercase letters, digits and ''-'', up to 32 characters.';

CREATE TABLE post_tags (
    post_id bigint NOT NULL,
    tag_id bigint NOT NULL,
    CONSTRAINT post_tags_pkey PRIMARY KEY (post_id, tag_id),
    CONSTRAINT post_tags_post_id_fkey FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE,
    CONSTRAINT post_tags_tag_id_fkey FOREIGN KEY (tag_id) REFERENCES tags (id) ON DELETE CASCADE
);

-- A tag's posts, newest first, one page at a time.
CREATE INDEX post_tags_tag_id_idx ON post_tags (tag_id, post_id);

COMMENT ON TABLE post_tags IS 'Which post carries which tag.';
COMMENT ON COLUMN post_tags.post_id IS 'The tagged post.';
COMMENT ON COLUMN post_tags.tag_id IS 'The tag it carries.';
