-- Listing indexes (SQLite). Keep in step with ../postgres/20261202000007_listing_indexes.sql.
-- Listings count, filter and sort thousands of products per page. These two indexes hold
-- every column that work reads, so it never touches the wide product rows (descriptions,
-- attributes): one reached by category (category pages), one by id (search results and
-- secondary categories). Only the page's own cards are then read from the table.
CREATE INDEX products_listing_category ON products
    (category_id, status, brand, price_minor, available, currency, featured, popularity, created_at, id);
CREATE INDEX products_listing_id ON products
    (id, status, brand, price_minor, available, currency, featured, popularity, created_at);
-- Superseded by products_listing_category.
DROP INDEX products_category;
