-- Catalog indexes (PostgreSQL). Keep in step with ../sqlite/20261122000004_catalog_indexes.sql.
-- Featured products are few: a partial index finds them without walking the catalog.
DROP INDEX products_featured;
CREATE INDEX products_featured_active ON products (created_at, id)
    WHERE featured = 1 AND status = 'active';
