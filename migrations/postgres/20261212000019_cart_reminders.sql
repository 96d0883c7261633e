-- Reminder mails about abandoned carts (issue #16). Keep in step with
-- ../sqlite/20261212000019_cart_reminders.sql.
--
-- reminded_at: when staff asked for a reminder about the cart (set on the whole cart's row,
-- vendor_id ''); a cart is reminded about once, whichever of its abandonments it was for.
ALTER TABLE analytics_abandoned_carts ADD COLUMN reminded_at BIGINT;

-- Customers who asked (through the link in a reminder) never to be reminded again.
CREATE TABLE analytics_reminder_optouts (
    user_id        TEXT PRIMARY KEY,
    opted_out_at   BIGINT NOT NULL
);
