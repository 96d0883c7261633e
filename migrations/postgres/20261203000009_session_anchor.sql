-- The session store no longer knows what a session's anchor is (a guest's cart, today): the
-- column that lets housekeeping end the guest sessions of deleted carts gets a neutral name.
ALTER TABLE sessions RENAME COLUMN guest_cart_id TO anchor;
DROP INDEX sessions_guest_cart;
CREATE INDEX sessions_anchor ON sessions (anchor) WHERE anchor IS NOT NULL;
