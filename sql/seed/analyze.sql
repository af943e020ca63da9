-- After a bulk load: refresh the planner's statistics, and mark the pages all-visible (and
-- their rows' hint bits set) so that the first reads do not pay for it and index-only scans
-- work from the start.
-- returns: nothing

VACUUM (ANALYZE) users, posts, items;
