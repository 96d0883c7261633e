-- Foundation schema (SQLite). Keep in step with ../postgres/20261122000001_foundation.sql.
-- Conventions: ids are UUIDv7 text; timestamps are integer milliseconds since the epoch (UTC);
-- money is integer minor units plus a currency code; only INTEGER and TEXT columns, which
-- sqlx's Any driver reads the same way on both backends.

-- Domain events, written in the same transaction as the change they describe.
CREATE TABLE outbox_events (
    id           TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'processing', 'delivered', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    available_at INTEGER NOT NULL,
    locked_until INTEGER,
    last_error   TEXT,
    processed_at INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX outbox_events_due ON outbox_events (status, available_at);

-- Accounts. Emails are stored normalised (lower case), so the unique index is case-insensitive.
CREATE TABLE users (
    id                TEXT PRIMARY KEY NOT NULL,
    email             TEXT NOT NULL UNIQUE,
    display_name      TEXT NOT NULL,
    password_hash     TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    email_verified_at INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE user_roles (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('customer', 'vendor', 'admin')),
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- Catalog: a category tree, products, and their variants (which carry SKU, price and stock).
CREATE TABLE categories (
    id          TEXT PRIMARY KEY NOT NULL,
    parent_id   TEXT REFERENCES categories (id) ON DELETE RESTRICT,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX categories_parent ON categories (parent_id, position);

CREATE TABLE products (
    id              TEXT PRIMARY KEY NOT NULL,
    slug            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    brand           TEXT NOT NULL DEFAULT '',
    category_id     TEXT NOT NULL REFERENCES categories (id) ON DELETE RESTRICT,
    status          TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'archived')),
    vendor_id       TEXT REFERENCES users (id) ON DELETE SET NULL,
    attributes      TEXT NOT NULL DEFAULT '{}',
    seo_title       TEXT,
    seo_description TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX products_category ON products (category_id, status);
CREATE INDEX products_created ON products (created_at);

CREATE TABLE product_variants (
    id                  TEXT PRIMARY KEY NOT NULL,
    product_id          TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    sku                 TEXT NOT NULL UNIQUE,
    options             TEXT NOT NULL DEFAULT '{}',
    price_minor         INTEGER NOT NULL CHECK (price_minor >= 0),
    compare_at_minor    INTEGER CHECK (compare_at_minor IS NULL OR compare_at_minor >= 0),
    currency            TEXT NOT NULL,
    weight_grams        INTEGER CHECK (weight_grams IS NULL OR weight_grams >= 0),
    on_hand             INTEGER NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved            INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    low_stock_threshold INTEGER NOT NULL DEFAULT 5,
    position            INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX product_variants_product ON product_variants (product_id, position);

-- Every stock change, with its reason; on_hand is only ever changed alongside a row here.
CREATE TABLE stock_adjustments (
    id         TEXT PRIMARY KEY NOT NULL,
    variant_id TEXT NOT NULL REFERENCES product_variants (id) ON DELETE CASCADE,
    delta      INTEGER NOT NULL,
    reason     TEXT NOT NULL CHECK (reason IN ('import', 'admin', 'order', 'cancellation', 'refund')),
    note       TEXT NOT NULL DEFAULT '',
    actor_id   TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX stock_adjustments_variant ON stock_adjustments (variant_id, created_at);

-- Newsletter sign-ups from the footer form.
CREATE TABLE newsletter_subscribers (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    subscribed_at INTEGER NOT NULL
);
