-- Cart support (PostgreSQL). Keep in step with ../sqlite/20261201000006_cart_sessions.sql.

-- The guest cart a session holds, copied out of the session data (like user_id) so the
-- clean-up job can end the sessions of guest carts it deleted.
ALTER TABLE sessions ADD COLUMN guest_cart_id TEXT;
CREATE INDEX sessions_guest_cart ON sessions (guest_cart_id) WHERE guest_cart_id IS NOT NULL;

-- The product's only active variant, when it has exactly one: listings offer "Add to cart"
-- for such products straight from the product card. Kept current with the listing summary.
ALTER TABLE products ADD COLUMN sole_variant_id TEXT;
UPDATE products SET sole_variant_id = (
    SELECT MIN(v.id) FROM product_variants v
    WHERE v.product_id = products.id AND v.status = 'active'
    HAVING COUNT(*) = 1
);
