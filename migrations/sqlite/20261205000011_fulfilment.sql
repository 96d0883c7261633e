-- After payment: shipments, refunds and staff notes (issue #14).

-- How far the order's goods have gone, beside its status: nothing shipped yet, some lines
-- or units shipped, everything still owed shipped, delivered.
ALTER TABLE orders ADD COLUMN fulfilment TEXT NOT NULL DEFAULT 'unshipped'
    CHECK (fulfilment IN ('unshipped', 'partial', 'shipped', 'delivered'));
-- Refunds that went through, in minor units of the order's currency.
ALTER TABLE orders ADD COLUMN refunded_minor INTEGER NOT NULL DEFAULT 0;
-- The vendor whose product the line is (copied at purchase time), for vendors' views.
ALTER TABLE order_lines ADD COLUMN vendor_id TEXT;
-- Units of the line sent so far.
ALTER TABLE order_lines ADD COLUMN shipped INTEGER NOT NULL DEFAULT 0 CHECK (shipped >= 0);
UPDATE order_lines SET vendor_id = (SELECT p.vendor_id FROM products p WHERE p.id = order_lines.product_id);
CREATE INDEX order_lines_vendor ON order_lines (vendor_id, order_id) WHERE vendor_id IS NOT NULL;
CREATE INDEX orders_status_placed ON orders (status, placed_at);

-- A parcel: some units of some lines, with the carrier and tracking number.
CREATE TABLE shipments (
    id              TEXT PRIMARY KEY NOT NULL,
    order_id        TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    carrier         TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    actor           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);
CREATE INDEX shipments_order ON shipments (order_id, created_at);

CREATE TABLE shipment_lines (
    shipment_id TEXT NOT NULL REFERENCES shipments (id) ON DELETE CASCADE,
    line_id     TEXT NOT NULL REFERENCES order_lines (id) ON DELETE CASCADE,
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (shipment_id, line_id)
);

-- Money given back. pending: asked of the provider; succeeded: the provider confirmed it
-- (stock restocked, the order's refunded amount raised, once); failed: nothing changed.
-- Pending and succeeded refunds count against what may still be refunded.
CREATE TABLE refunds (
    id                 TEXT PRIMARY KEY NOT NULL,
    order_id           TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    amount_minor       INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency           TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_refund_id TEXT UNIQUE,
    -- shop: asked by staff or the customer here; provider: made in the provider's dashboard.
    source             TEXT NOT NULL CHECK (source IN ('shop', 'provider')),
    -- A cancellation's refund cancels the order when it succeeds.
    cancels            INTEGER NOT NULL DEFAULT 0,
    extra_minor        INTEGER NOT NULL DEFAULT 0 CHECK (extra_minor >= 0),
    reason             TEXT NOT NULL DEFAULT '',
    failure            TEXT,
    actor              TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX refunds_order ON refunds (order_id, created_at);

CREATE TABLE refund_lines (
    refund_id    TEXT NOT NULL REFERENCES refunds (id) ON DELETE CASCADE,
    line_id      TEXT NOT NULL REFERENCES order_lines (id) ON DELETE CASCADE,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    restock      INTEGER NOT NULL DEFAULT 0,
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    PRIMARY KEY (refund_id, line_id)
);

-- Staff's internal notes on an order (never shown to the customer).
CREATE TABLE order_notes (
    id         TEXT PRIMARY KEY NOT NULL,
    order_id   TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    author     TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX order_notes_order ON order_notes (order_id, created_at);
