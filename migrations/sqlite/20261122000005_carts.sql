-- Carts (SQLite). Keep in step with ../postgres/20261122000005_carts.sql.

-- A cart belongs to a signed-in customer (user_id) or to a guest's session (no user; the
-- session holds the cart id). updated_at is the last activity, for abandoned-cart lists and
-- the clean-up of empty guest carts.
CREATE TABLE carts (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX carts_updated ON carts (updated_at);

-- One line per variant and cart: the unique key makes concurrent adds of the same variant
-- add up instead of creating a second line. unit_price_minor is the price when the line was
-- added, to tell the shopper when it has changed; totals always use the current price.
CREATE TABLE cart_lines (
    id               TEXT PRIMARY KEY NOT NULL,
    cart_id          TEXT NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    variant_id       TEXT NOT NULL REFERENCES product_variants (id) ON DELETE CASCADE,
    quantity         INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
    currency         TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (cart_id, variant_id)
);
CREATE INDEX cart_lines_variant ON cart_lines (variant_id);
