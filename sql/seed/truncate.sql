-- Empty the seeded tables, and every table hanging off them (tokens, throttle counters, and
-- whatever references users or posts later), and restart their ids at 1, so that the same
-- sizes give the same rows with the same ids.
-- returns: nothing

TRUNCATE users, posts, items, tags, tokens, sign_in_failures RESTART IDENTITY CASCADE;
