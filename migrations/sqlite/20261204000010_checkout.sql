-- Checkout (SQLite). Keep in step with ../postgres/20261204000010_checkout.sql.
-- Orders, their lines and history, stock holds, payment sessions and the webhook inbox.

-- Shipping methods the staff manage. countries is a comma-separated list of ISO 3166-1
-- alpha-2 codes the method serves. A method is never deleted once an order used it, only
-- disabled; orders copy its name and price anyway.
CREATE TABLE shipping_methods (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    price_minor     INTEGER NOT NULL CHECK (price_minor >= 0),
    currency        TEXT NOT NULL,
    free_over_minor INTEGER CHECK (free_over_minor IS NULL OR free_over_minor >= 0),
    countries       TEXT NOT NULL,
    min_days        INTEGER NOT NULL CHECK (min_days >= 0),
    max_days        INTEGER NOT NULL CHECK (max_days >= min_days),
    active          INTEGER NOT NULL DEFAULT 1,
    position        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Order numbers (HS-10001, ...): one counter row, bumped inside the placing transaction.
CREATE TABLE order_numbers (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    last INTEGER NOT NULL
);
INSERT INTO order_numbers (id, last) VALUES (1, 10000);

-- An order. Amounts are integer minor units of `currency`, VAT included in every price;
-- addresses are JSON copies taken when the order was placed. stock is what happened to the
-- units the order holds: held while unpaid, then sold or released, each exactly once.
CREATE TABLE orders (
    id                   TEXT PRIMARY KEY NOT NULL,
    number               INTEGER NOT NULL UNIQUE,
    status               TEXT NOT NULL CHECK (status IN ('pending_payment', 'paid', 'expired',
                             'cancelled', 'fulfilled', 'delivered', 'partially_refunded',
                             'refunded')),
    stock                TEXT NOT NULL CHECK (stock IN ('held', 'sold', 'released')),
    user_id              TEXT REFERENCES users (id) ON DELETE SET NULL,
    email                TEXT NOT NULL,
    cart_id              TEXT,
    currency             TEXT NOT NULL,
    subtotal_minor       INTEGER NOT NULL,
    shipping_minor       INTEGER NOT NULL,
    vat_minor            INTEGER NOT NULL,
    total_minor          INTEGER NOT NULL CHECK (total_minor >= 0),
    vat_rate_bp          INTEGER NOT NULL,
    shipping_method_id   TEXT,
    shipping_method_name TEXT NOT NULL,
    shipping_days        TEXT NOT NULL,
    shipping_address     TEXT NOT NULL,
    billing_address      TEXT NOT NULL,
    fingerprint          TEXT NOT NULL,
    hold_until           INTEGER NOT NULL,
    payment_provider     TEXT NOT NULL,
    payment_session_id   TEXT UNIQUE,
    payment_url          TEXT,
    payment_intent_id    TEXT,
    paid_minor           INTEGER,
    review_reason        TEXT,
    placed_at            INTEGER NOT NULL,
    paid_at              INTEGER,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX orders_user ON orders (user_id, placed_at);
CREATE INDEX orders_email ON orders (email, placed_at);
CREATE INDEX orders_placed ON orders (placed_at);
CREATE INDEX orders_pending ON orders (hold_until) WHERE status = 'pending_payment';

-- What was bought, copied at purchase time: later catalog changes do not touch it.
CREATE TABLE order_lines (
    id               TEXT PRIMARY KEY NOT NULL,
    order_id         TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    variant_id       TEXT NOT NULL,
    product_id       TEXT NOT NULL,
    product_name     TEXT NOT NULL,
    slug             TEXT NOT NULL,
    options          TEXT NOT NULL,
    sku              TEXT NOT NULL,
    image            TEXT,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
    line_total_minor INTEGER NOT NULL CHECK (line_total_minor >= 0),
    vat_minor        INTEGER NOT NULL
);
CREATE INDEX order_lines_order ON order_lines (order_id, position);
CREATE INDEX order_lines_variant ON order_lines (variant_id);

-- An order's history, append-only: placed, payment started, paid, expired, ...
CREATE TABLE order_events (
    id         TEXT PRIMARY KEY NOT NULL,
    order_id   TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    actor      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, created_at);

-- One row per checkout attempt (the key the review page carries), holding its result: a
-- double click or a replayed request finds the order the first one placed.
CREATE TABLE checkout_attempts (
    idempotency_key TEXT PRIMARY KEY NOT NULL,
    cart_id         TEXT NOT NULL,
    order_id        TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL
);

-- Every payment event received (webhook inbox): a delivery seen before is acknowledged
-- and ignored.
CREATE TABLE payment_events (
    event_id    TEXT PRIMARY KEY NOT NULL,
    type        TEXT NOT NULL,
    order_id    TEXT,
    outcome     TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX payment_events_order ON payment_events (order_id);

-- The offline payment provider's sessions (the default when no Stripe key is set).
CREATE TABLE offline_payment_sessions (
    id              TEXT PRIMARY KEY NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    order_id        TEXT NOT NULL,
    order_number    TEXT NOT NULL,
    email           TEXT NOT NULL,
    amount_minor    INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'complete', 'expired')),
    payment_status  TEXT NOT NULL CHECK (payment_status IN ('paid', 'unpaid')),
    success_url     TEXT NOT NULL,
    cancel_url      TEXT NOT NULL,
    expires_at      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);

-- The order a cart is being checked out as, while it awaits payment: the cart converts once.
ALTER TABLE carts ADD COLUMN order_id TEXT;

-- Keys the checkout generates for itself on first start, shared by every instance: the one
-- that signs guests' order links and the one the offline provider signs its events with.
CREATE TABLE checkout_keys (
    name       TEXT PRIMARY KEY NOT NULL,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
