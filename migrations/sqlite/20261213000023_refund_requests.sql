-- A refund asked for with an idempotency key (the JSON API's Idempotency-Key) keeps the
-- SHA-256 of what was asked: a retry must ask the same, or it is refused.
ALTER TABLE refunds ADD COLUMN request_digest TEXT;
