-- First-party analytics (issue #16). Keep in step with ../postgres/20261209000015_analytics.sql.
--
-- `analytics_events`: one row per counted action, written in batches from memory. `day` is
-- the shop's local date (SHOP_TIMEZONE) of `at`. `visitor` is a hash of the visitor's
-- address and browser salted with that day's salt (never the address itself; NULL for what
-- the server records on its own, such as a payment). `dedupe` keys events recorded from the
-- outbox, whose delivery may repeat.
CREATE TABLE analytics_events (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    visitor TEXT,
    product_id TEXT,
    vendor_id TEXT,
    category_id TEXT,
    term TEXT,
    results INTEGER,
    quantity INTEGER,
    order_id TEXT,
    cart_id TEXT,
    amount_minor INTEGER,
    currency TEXT,
    dedupe TEXT UNIQUE
);
CREATE INDEX analytics_events_day_kind ON analytics_events (day, kind);
CREATE INDEX analytics_events_order ON analytics_events (order_id) WHERE order_id IS NOT NULL;

-- One random salt per local day, shared by every instance; deleted once the day is over, so
-- a visitor hash cannot be matched to an address afterwards.
CREATE TABLE analytics_salts (
    day TEXT PRIMARY KEY,
    salt TEXT NOT NULL
);

-- Days whose roll-ups are written (a day is rolled up again until it is final).
CREATE TABLE analytics_days (
    day TEXT PRIMARY KEY,
    final INTEGER NOT NULL,
    rolled_at INTEGER NOT NULL
);

-- Traffic and funnel per day, for the whole shop (vendor_id '') and per vendor (their
-- products' viewers, adders and buyers). Counts of visitors are distinct per day.
CREATE TABLE analytics_daily (
    day TEXT NOT NULL,
    vendor_id TEXT NOT NULL,
    visitors INTEGER NOT NULL,
    viewers INTEGER NOT NULL,
    adders INTEGER NOT NULL,
    checkouts INTEGER NOT NULL,
    buyers INTEGER NOT NULL,
    product_views INTEGER NOT NULL,
    listing_views INTEGER NOT NULL,
    searches INTEGER NOT NULL,
    adds INTEGER NOT NULL,
    cart_views INTEGER NOT NULL,
    PRIMARY KEY (day, vendor_id)
);

-- Sales per day (by the day paid or refunded), currency and vendor ('' for the whole shop:
-- order totals; a vendor: their lines).
CREATE TABLE analytics_daily_sales (
    day TEXT NOT NULL,
    vendor_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    order_count INTEGER NOT NULL,
    units INTEGER NOT NULL,
    revenue_minor INTEGER NOT NULL,
    refunds_minor INTEGER NOT NULL,
    PRIMARY KEY (day, vendor_id, currency)
);

-- Per product and day.
CREATE TABLE analytics_daily_products (
    day TEXT NOT NULL,
    product_id TEXT NOT NULL,
    vendor_id TEXT NOT NULL,
    views INTEGER NOT NULL,
    adds INTEGER NOT NULL,
    units INTEGER NOT NULL,
    revenue_minor INTEGER NOT NULL,
    PRIMARY KEY (day, product_id)
);
CREATE INDEX analytics_daily_products_vendor ON analytics_daily_products (vendor_id, day);

-- Per search term (normalised) and day.
CREATE TABLE analytics_daily_searches (
    day TEXT NOT NULL,
    term TEXT NOT NULL,
    searches INTEGER NOT NULL,
    zero_results INTEGER NOT NULL,
    PRIMARY KEY (day, term)
);
