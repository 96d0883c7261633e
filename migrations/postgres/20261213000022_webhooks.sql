-- Endpoints staff registered to receive the shop's events (order.paid, stock.low, ...) as
-- signed JSON POSTs. The secret signs each delivery; the receiver keeps a copy to check it.
CREATE TABLE webhook_endpoints (
    id          TEXT PRIMARY KEY NOT NULL,
    url         TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- Space-separated event types.
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- One event for one endpoint: its body as sent on every attempt, and the latest attempt's
-- outcome. The outbox retries it (a 'webhook.deliver' event per delivery).
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY NOT NULL,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    -- 'pending', 'delivered', 'failed'
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    response_code   BIGINT,
    error           TEXT,
    duration_ms     BIGINT,
    created_at      BIGINT NOT NULL,
    last_attempt_at BIGINT,
    delivered_at    BIGINT,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, created_at);
