-- How many times an event happened (issue #16). Keep in step with
-- ../sqlite/20261212000018_analytics_event_counts.sql.
--
-- The recorder writes the same event by the same visitor on the same local day, gathered
-- more than once between two flushes (a page reloaded, a flood of requests), as one row with
-- its count; the roll-ups sum `n` where they counted rows.
ALTER TABLE analytics_events ADD COLUMN n BIGINT NOT NULL DEFAULT 1;
