-- Saved payment methods (issue #14). The shop keeps no card data: only the payment
-- provider's customer id for a shop account (a Stripe Customer), under which the provider
-- keeps the cards the shopper chose to save on its payment page.
CREATE TABLE payment_customers (
    user_id     TEXT NOT NULL,
    provider    TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, provider),
    UNIQUE (provider, customer_id)
);

-- The offline provider's stand-in for the cards Stripe keeps for a customer (simulated:
-- brand, last four digits and expiry, as Stripe reports them).
CREATE TABLE offline_payment_methods (
    id          TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL,
    brand       TEXT NOT NULL,
    last4       TEXT NOT NULL,
    exp_month   BIGINT NOT NULL,
    exp_year    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX offline_payment_methods_customer ON offline_payment_methods (customer_id, created_at);

-- The customer an offline session may save the card for (Stripe's session.customer).
ALTER TABLE offline_payment_sessions ADD COLUMN customer_id TEXT;
