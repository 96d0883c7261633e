-- Facet scope (SQLite). Keep in step with ../postgres/20261202000008_facet_scope.sql.
-- A category page without filters counts its attribute facets over every product in the
-- category and below: at 100k products a department holds 12,000 products and 32,000 facet
-- rows, and looking each product's rows up by its id took 25 ms. Each facet row now carries
-- its product's category and status, so that count reads one index range per category.
-- The catalog writes both with every facet row; the trigger keeps them in step when a
-- product moves to another category or changes status.
ALTER TABLE product_facets ADD COLUMN category_id TEXT NOT NULL DEFAULT '';
ALTER TABLE product_facets ADD COLUMN status TEXT NOT NULL DEFAULT '';
UPDATE product_facets SET
    category_id = (SELECT p.category_id FROM products p WHERE p.id = product_facets.product_id),
    status = (SELECT p.status FROM products p WHERE p.id = product_facets.product_id);
CREATE INDEX product_facets_scope ON product_facets (category_id, status, name, value);

CREATE TRIGGER product_facets_follow_product AFTER UPDATE OF category_id, status ON products
WHEN OLD.category_id IS NOT NEW.category_id OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE product_facets SET category_id = NEW.category_id, status = NEW.status
    WHERE product_id = NEW.id;
END;
