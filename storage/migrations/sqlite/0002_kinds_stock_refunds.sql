-- Product kinds and categories, the stock of unique items, shipping, refunds.

ALTER TABLE products ADD COLUMN kind TEXT NOT NULL DEFAULT 'digital_text'
    CHECK (kind IN ('digital_text', 'digital_stock', 'physical', 'service'));
ALTER TABLE products ADD COLUMN category TEXT;
-- A deleted product that has orders is archived instead, so order history stays intact.
ALTER TABLE products ADD COLUMN archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1));

-- Unique deliverable items (license keys, codes). An item is reserved for an order when its
-- Checkout Session is created, sold when the order is paid, and released when it expires or
-- fails, so two buyers can never pay for the same last key.
CREATE TABLE stock_items (
    id         INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id),
    content    TEXT    NOT NULL CHECK (length(content) BETWEEN 1 AND 512),
    state      TEXT    NOT NULL DEFAULT 'available'
               CHECK (state IN ('available', 'reserved', 'sold')),
    order_id   INTEGER REFERENCES orders (id),
    created_at INTEGER NOT NULL,
    UNIQUE (product_id, content)
);
CREATE INDEX stock_available ON stock_items (product_id, state, id);
CREATE INDEX stock_by_order ON stock_items (order_id);

ALTER TABLE orders ADD COLUMN product_kind TEXT NOT NULL DEFAULT 'digital_text';
ALTER TABLE orders ADD COLUMN shipping_address TEXT;
ALTER TABLE orders ADD COLUMN shipped_at INTEGER;
ALTER TABLE orders ADD COLUMN tracking TEXT;
ALTER TABLE orders ADD COLUMN amount_refunded INTEGER NOT NULL DEFAULT 0;

-- Refunds as Stripe reports them (from /refund or the Dashboard's charge.refunded).
CREATE TABLE refunds (
    id         TEXT    PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders (id),
    amount     INTEGER NOT NULL CHECK (amount > 0),
    currency   TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX refunds_by_order ON refunds (order_id);

CREATE INDEX orders_by_status ON orders (status, id DESC);
CREATE INDEX orders_by_paid_at ON orders (paid_at);
CREATE INDEX orders_by_payment_intent ON orders (payment_intent_id);
