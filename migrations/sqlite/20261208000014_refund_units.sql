-- Which units a refund gives back (issue #14 review).
--
-- `order_lines.unsold`: units paid for that were never taken from stock, because a late
-- payment (after the order had expired or been cancelled) found them gone. A refund can
-- never put those back on the shelf.
ALTER TABLE order_lines ADD COLUMN unsold BIGINT NOT NULL DEFAULT 0;

-- `refund_lines.sent`: how many of the refunded units had already been shipped (returned,
-- or kept by the customer); the others had not and will not be sent, so they leave the
-- units still to ship.
ALTER TABLE refund_lines ADD COLUMN sent BIGINT NOT NULL DEFAULT 0;

-- `refund_lines.restock` becomes the number of units put back on the shelf (it was a
-- yes/no flag for all of the line's units).
UPDATE refund_lines SET restock = quantity WHERE restock <> 0;
