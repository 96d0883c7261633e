-- Searches are counted as analytics events (issue #16): bots, staff and browsers asking not to
-- be tracked are left out, and a search served from the page cache counts like any other.
-- The catalog's own search log, which nothing read, goes.
DROP TABLE search_queries;
