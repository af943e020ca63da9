-- How many users, posts and items there are: whether the database holds a seeded dataset.
-- returns: one row

SELECT
    (SELECT count(*) FROM users) AS user_rows,
    (SELECT count(*) FROM posts) AS post_rows,
    (SELECT count(*) FROM items) AS item_rows;
