-- Products, orders, Stripe events and the delivery outbox.
-- Money is integer minor units plus a lowercase ISO currency; times are unix seconds (UTC).

CREATE TABLE products (
    id            INTEGER PRIMARY KEY,
    title         TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 128),
    description   TEXT    NOT NULL DEFAULT '',
    price_minor   INTEGER NOT NULL CHECK (price_minor > 0),
    currency      TEXT    NOT NULL CHECK (length(currency) = 3 AND currency = lower(currency)),
    photo         TEXT,
    delivery_text TEXT    NOT NULL DEFAULT '',
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    position      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX products_catalog ON products (active, position, id);

CREATE TABLE orders (
    id                  INTEGER PRIMARY KEY,
    ref                 TEXT    NOT NULL UNIQUE,
    buyer_user_id       INTEGER NOT NULL,
    buyer_chat_id       INTEGER NOT NULL,
    buyer_name          TEXT    NOT NULL DEFAULT '',
    product_id          INTEGER NOT NULL REFERENCES products (id),
    product_title       TEXT    NOT NULL,
    quantity            INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 10),
    unit_amount         INTEGER NOT NULL CHECK (unit_amount > 0),
    amount_total        INTEGER NOT NULL CHECK (amount_total > 0),
    currency            TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    checkout_session_id TEXT    UNIQUE,
    checkout_url        TEXT,
    expires_at          INTEGER NOT NULL,
    payment_intent_id   TEXT,
    message_id          INTEGER,
    failure_reason      TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    paid_at             INTEGER
);
CREATE INDEX orders_by_buyer ON orders (buyer_user_id, id DESC);
CREATE INDEX orders_open ON orders (buyer_user_id, product_id, quantity, status);

CREATE TABLE stripe_events (
    id          TEXT    PRIMARY KEY,
    type        TEXT    NOT NULL,
    order_id    INTEGER REFERENCES orders (id),
    outcome     TEXT    NOT NULL,
    received_at INTEGER NOT NULL
);

-- The outbox: one row per Telegram message we owe somebody. Written in the same transaction as
-- the state change that makes it owed; the delivery worker sends it and marks it.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    dedupe_key      TEXT    NOT NULL UNIQUE,
    order_id        INTEGER NOT NULL REFERENCES orders (id),
    kind            TEXT    NOT NULL,
    chat_id         INTEGER NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    detail          TEXT    NOT NULL DEFAULT '',
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_by_order ON deliveries (order_id);
