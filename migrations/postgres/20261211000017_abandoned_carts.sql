-- Abandoned carts, and monthly product figures, for the analytics dashboard (issue #16). Keep in step with
-- ../sqlite/20261211000017_abandoned_carts.sql.
--
-- A snapshot of a cart left with items for over an hour, taken by the roll-up job: one row
-- for the whole cart (vendor_id '') and one per vendor with their products' part. A cart
-- that changes and is left again is a new abandonment (a new last_activity). order_id is
-- set when an order from the cart is paid after it was left. The row outlives the cart (a
-- guest's is deleted with their session).
CREATE TABLE analytics_abandoned_carts (
    cart_id       TEXT NOT NULL,
    last_activity BIGINT NOT NULL,
    vendor_id     TEXT NOT NULL,
    day           TEXT NOT NULL,
    user_id       TEXT,
    units         BIGINT NOT NULL,
    value_minor   BIGINT NOT NULL,
    currency      TEXT NOT NULL,
    found_at      BIGINT NOT NULL,
    order_id      TEXT,
    order_number  BIGINT,
    converted_at  BIGINT,
    PRIMARY KEY (cart_id, last_activity, vendor_id)
);
CREATE INDEX analytics_abandoned_day ON analytics_abandoned_carts (vendor_id, day);
CREATE INDEX analytics_abandoned_open ON analytics_abandoned_carts (cart_id)
    WHERE order_id IS NULL;


-- The product figures per calendar month ('YYYY-MM'), summed from the daily rows whenever a
-- day of the month is rolled up: a year's product ranking reads twelve rows per product,
-- not 365.
CREATE TABLE analytics_monthly_products (
    month         TEXT NOT NULL,
    product_id    TEXT NOT NULL,
    vendor_id     TEXT NOT NULL,
    views         BIGINT NOT NULL,
    adds          BIGINT NOT NULL,
    units         BIGINT NOT NULL,
    revenue_minor BIGINT NOT NULL,
    PRIMARY KEY (month, product_id)
);
