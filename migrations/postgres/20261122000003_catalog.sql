-- Catalog (PostgreSQL). Keep in step with ../sqlite/20261122000003_catalog.sql.

-- Listing fields kept on the product so that listings, sorts and filters read one row per
-- product. The catalog service refreshes them whenever a variant's price, stock or status
-- changes (catalog::summary); nothing else writes them.
ALTER TABLE products ADD COLUMN description_html TEXT NOT NULL DEFAULT '';
ALTER TABLE products ADD COLUMN featured BIGINT NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN popularity BIGINT NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR';
ALTER TABLE products ADD COLUMN price_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN max_price_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN compare_at_minor BIGINT;
ALTER TABLE products ADD COLUMN available BIGINT NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN cover_image TEXT;
ALTER TABLE products ADD COLUMN cover_alt TEXT;
CREATE INDEX products_status_created ON products (status, created_at);
CREATE INDEX products_featured ON products (featured, status);

ALTER TABLE product_variants ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'archived'));

-- On-hand balance after each adjustment, so the history reads like a ledger.
ALTER TABLE stock_adjustments ADD COLUMN on_hand_after BIGINT;

-- Categories a product appears in besides its primary one.
CREATE TABLE product_categories (
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    category_id TEXT NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    PRIMARY KEY (product_id, category_id)
);
CREATE INDEX product_categories_category ON product_categories (category_id);

-- Filterable values: the product's attributes and its variants' options, one row per value.
CREATE TABLE product_facets (
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (product_id, name, value)
);
CREATE INDEX product_facets_value ON product_facets (name, value);

-- Product images. Files live under <data>/images as <hash>-<width>.<ext>; the hash is of
-- the uploaded bytes, so a URL never changes meaning and can be cached for a year.
CREATE TABLE product_images (
    id         TEXT PRIMARY KEY NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    alt        TEXT NOT NULL,
    width      BIGINT NOT NULL,
    height     BIGINT NOT NULL,
    position   BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX product_images_product ON product_images (product_id, position);

-- Every shop search, for the analytics dashboard (written in batches).
CREATE TABLE search_queries (
    id              TEXT PRIMARY KEY NOT NULL,
    query           TEXT NOT NULL,
    normalized      TEXT NOT NULL,
    result_count    BIGINT NOT NULL,
    duration_micros BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX search_queries_created ON search_queries (created_at);
CREATE INDEX search_queries_normalized ON search_queries (normalized, created_at);

-- Full-text search (backend-specific: tsvector + GIN here, FTS5 on SQLite). The catalog
-- service rewrites a product's vector whenever the product or its SKUs change.
ALTER TABLE products ADD COLUMN search_vector tsvector NOT NULL DEFAULT ''::tsvector;
CREATE INDEX products_search ON products USING GIN (search_vector);
