-- Orders of many lines, and the buyers' carts (issue 12).
--
-- Until now an order was one product × a quantity, held in the order row itself. An order is now
-- made of lines: product, title, kind and unit price *as sold*, quantity. Today's orders become
-- one-line orders; nothing else about them changes. The order row keeps what belongs to the
-- order as a whole: the buyer, the total we offered (the sum of its lines, written once when the
-- order is made), what Stripe charged, the discount, refunds, the payment and shipping stages.
--
-- storage/db.py runs this with foreign keys off and checks them before it commits, as SQLite's
-- documented way to rebuild a table that others refer to (stripe_events, deliveries,
-- stock_items and refunds keep pointing at `orders` by name).

CREATE TABLE order_lines (
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    line_no     INTEGER NOT NULL CHECK (line_no BETWEEN 0 AND 99),
    product_id  INTEGER NOT NULL REFERENCES products (id),
    title       TEXT    NOT NULL,
    kind        TEXT    NOT NULL
                CHECK (kind IN ('digital_text', 'digital_stock', 'physical', 'service')),
    unit_amount INTEGER NOT NULL CHECK (unit_amount > 0),
    quantity    INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 10),
    PRIMARY KEY (order_id, line_no),
    UNIQUE (order_id, product_id)
) WITHOUT ROWID;
-- Deleting or archiving a product asks whether it was ever sold (migration 0004's reason).
CREATE INDEX order_lines_by_product ON order_lines (product_id);

INSERT INTO order_lines (order_id, line_no, product_id, title, kind, unit_amount, quantity)
SELECT id, 0, product_id, product_title, product_kind, unit_amount, quantity FROM orders;

-- The order row without its product columns. `ships` (some line is physical: Checkout collects
-- an address and the order has shipping stages) and `basket` (the lines as "product×quantity",
-- by product id: a second tap on the same purchase reuses its payment link) are written once,
-- with the lines, by storage/orders.create, as is `from_cart` (checked out from the buyer's
-- cart, whose lines it bought leave the cart once it is paid; "Buy now" leaves the cart alone).
CREATE TABLE orders_new (
    id                  INTEGER PRIMARY KEY,
    ref                 TEXT    NOT NULL UNIQUE,
    buyer_user_id       INTEGER NOT NULL,
    buyer_chat_id       INTEGER NOT NULL,
    buyer_name          TEXT    NOT NULL DEFAULT '',
    basket              TEXT    NOT NULL,
    ships               INTEGER NOT NULL DEFAULT 0 CHECK (ships IN (0, 1)),
    from_cart           INTEGER NOT NULL DEFAULT 0 CHECK (from_cart IN (0, 1)),
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
    paid_at             INTEGER,
    shipping_address    TEXT,
    shipped_at          INTEGER,
    tracking            TEXT,
    amount_refunded     INTEGER NOT NULL DEFAULT 0,
    amount_discount     INTEGER NOT NULL DEFAULT 0,
    amount_charged      INTEGER,
    delivered_at        INTEGER
);

INSERT INTO orders_new (
    id, ref, buyer_user_id, buyer_chat_id, buyer_name, basket, ships, amount_total, currency,
    status, checkout_session_id, checkout_url, expires_at, payment_intent_id, message_id,
    failure_reason, created_at, updated_at, paid_at, shipping_address, shipped_at, tracking,
    amount_refunded, amount_discount, amount_charged, delivered_at)
SELECT
    id, ref, buyer_user_id, buyer_chat_id, buyer_name, product_id || 'x' || quantity,
    product_kind = 'physical', amount_total, currency,
    status, checkout_session_id, checkout_url, expires_at, payment_intent_id, message_id,
    failure_reason, created_at, updated_at, paid_at, shipping_address, shipped_at, tracking,
    amount_refunded, amount_discount, amount_charged, delivered_at
FROM orders;

-- Dropping the old table drops its indexes and the triggers of migrations 0003 and 0005.
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;

CREATE INDEX orders_by_buyer ON orders (buyer_user_id, id DESC);
CREATE INDEX orders_open ON orders (buyer_user_id, basket, status);
CREATE INDEX orders_by_status ON orders (status, id DESC);
CREATE INDEX orders_by_paid_at ON orders (paid_at);
CREATE INDEX orders_by_payment_intent ON orders (payment_intent_id);
CREATE INDEX orders_to_ship ON orders (id DESC)
    WHERE ships = 1 AND shipped_at IS NULL
      AND status IN ('fulfilled', 'paid', 'partially_refunded');

-- Order lines are history: what was sold, at what price. Nothing changes them afterwards.
CREATE TRIGGER order_lines_are_history BEFORE UPDATE ON order_lines
BEGIN
    SELECT RAISE(ABORT, 'order lines record a sale and are never updated');
END;

-- The order counts of migration 0003, on the rebuilt table.
CREATE TRIGGER order_counts_insert AFTER INSERT ON orders
BEGIN
    INSERT INTO order_counts (status, n) VALUES (NEW.status, 1)
    ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER order_counts_update AFTER UPDATE OF status ON orders
WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE order_counts SET n = n - 1 WHERE status = OLD.status;
    INSERT INTO order_counts (status, n) VALUES (NEW.status, 1)
    ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER order_counts_delete AFTER DELETE ON orders
BEGIN
    UPDATE order_counts SET n = n - 1 WHERE status = OLD.status;
END;

-- Sales, now in two levels (migration 0003 explains why triggers keep them):
-- * per order: one row per UTC day × currency (and all time per currency) with the orders,
--   their revenue net of discounts and what was refunded;
-- * per product: the same per product, counted from the lines: how many orders had it, the
--   units and the revenue. A line's revenue is its subtotal less its share of the order's
--   discount, in proportion to the subtotal (rounded down), as Stripe spreads a coupon over the
--   line items. Refunds are the order's and stay at the order level.
-- A sale is an order in one of the states below with a paid_at (storage/sales.py). The rows
-- move by signed upserts: what an order adds when it becomes a sale it takes out again, with
-- the figures it had, when that changes.
DROP TABLE sales_daily;
DROP TABLE sales_total;

CREATE TABLE sales_daily (
    day      INTEGER NOT NULL,
    currency TEXT    NOT NULL,
    orders   INTEGER NOT NULL,
    revenue  INTEGER NOT NULL,
    refunded INTEGER NOT NULL,
    PRIMARY KEY (day, currency)
) WITHOUT ROWID;

CREATE TABLE sales_total (
    currency TEXT    NOT NULL PRIMARY KEY,
    orders   INTEGER NOT NULL,
    revenue  INTEGER NOT NULL,
    refunded INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE product_sales_daily (
    day        INTEGER NOT NULL,
    currency   TEXT    NOT NULL,
    product_id INTEGER NOT NULL,
    orders     INTEGER NOT NULL,
    units      INTEGER NOT NULL,
    revenue    INTEGER NOT NULL,
    PRIMARY KEY (day, currency, product_id)
) WITHOUT ROWID;

CREATE TABLE product_sales_total (
    currency   TEXT    NOT NULL,
    product_id INTEGER NOT NULL,
    orders     INTEGER NOT NULL,
    units      INTEGER NOT NULL,
    revenue    INTEGER NOT NULL,
    PRIMARY KEY (currency, product_id)
) WITHOUT ROWID;

-- Today's sales into the new tables (every existing order has one line).
INSERT INTO sales_daily (day, currency, orders, revenue, refunded)
SELECT paid_at / 86400, currency, COUNT(*), SUM(amount_total - amount_discount),
       SUM(amount_refunded)
FROM orders
WHERE paid_at IS NOT NULL AND status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
GROUP BY paid_at / 86400, currency;

INSERT INTO sales_total (currency, orders, revenue, refunded)
SELECT currency, SUM(orders), SUM(revenue), SUM(refunded) FROM sales_daily GROUP BY currency;

INSERT INTO product_sales_daily (day, currency, product_id, orders, units, revenue)
SELECT o.paid_at / 86400, o.currency, l.product_id, COUNT(*), SUM(l.quantity),
       SUM(l.unit_amount * l.quantity
           - o.amount_discount * l.unit_amount * l.quantity / o.amount_total)
FROM orders AS o JOIN order_lines AS l ON l.order_id = o.id
WHERE o.paid_at IS NOT NULL
  AND o.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
GROUP BY o.paid_at / 86400, o.currency, l.product_id;

INSERT INTO product_sales_total (currency, product_id, orders, units, revenue)
SELECT currency, product_id, SUM(orders), SUM(units), SUM(revenue)
FROM product_sales_daily GROUP BY currency, product_id;

-- Per order. An order inserted as a sale adds itself …
CREATE TRIGGER order_sales_insert AFTER INSERT ON orders
WHEN NEW.paid_at IS NOT NULL AND NEW.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
BEGIN
    INSERT INTO sales_daily (day, currency, orders, revenue, refunded)
    VALUES (NEW.paid_at / 86400, NEW.currency, 1, NEW.amount_total - NEW.amount_discount,
            NEW.amount_refunded)
    ON CONFLICT (day, currency) DO UPDATE SET orders = orders + 1,
        revenue = revenue + excluded.revenue, refunded = refunded + excluded.refunded;
    INSERT INTO sales_total (currency, orders, revenue, refunded)
    VALUES (NEW.currency, 1, NEW.amount_total - NEW.amount_discount, NEW.amount_refunded)
    ON CONFLICT (currency) DO UPDATE SET orders = orders + 1,
        revenue = revenue + excluded.revenue, refunded = refunded + excluded.refunded;
END;

-- … an update takes the old contribution out and puts the new one in, unless it leaves it as
-- it was (paid → fulfilled, a message id, a tracking number) …
CREATE TRIGGER order_sales_update_out
AFTER UPDATE OF status, paid_at, currency, amount_total, amount_discount, amount_refunded ON orders
WHEN OLD.paid_at IS NOT NULL AND OLD.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
 AND NOT (NEW.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
          AND NEW.paid_at IS OLD.paid_at AND NEW.currency IS OLD.currency
          AND NEW.amount_total IS OLD.amount_total
          AND NEW.amount_discount IS OLD.amount_discount
          AND NEW.amount_refunded IS OLD.amount_refunded)
BEGIN
    UPDATE sales_daily SET orders = orders - 1,
        revenue = revenue - (OLD.amount_total - OLD.amount_discount),
        refunded = refunded - OLD.amount_refunded
    WHERE day = OLD.paid_at / 86400 AND currency = OLD.currency;
    UPDATE sales_total SET orders = orders - 1,
        revenue = revenue - (OLD.amount_total - OLD.amount_discount),
        refunded = refunded - OLD.amount_refunded
    WHERE currency = OLD.currency;
END;

CREATE TRIGGER order_sales_update_in
AFTER UPDATE OF status, paid_at, currency, amount_total, amount_discount, amount_refunded ON orders
WHEN NEW.paid_at IS NOT NULL AND NEW.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
 AND NOT (OLD.paid_at IS NOT NULL
          AND OLD.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
          AND NEW.paid_at IS OLD.paid_at AND NEW.currency IS OLD.currency
          AND NEW.amount_total IS OLD.amount_total
          AND NEW.amount_discount IS OLD.amount_discount
          AND NEW.amount_refunded IS OLD.amount_refunded)
BEGIN
    INSERT INTO sales_daily (day, currency, orders, revenue, refunded)
    VALUES (NEW.paid_at / 86400, NEW.currency, 1, NEW.amount_total - NEW.amount_discount,
            NEW.amount_refunded)
    ON CONFLICT (day, currency) DO UPDATE SET orders = orders + 1,
        revenue = revenue + excluded.revenue, refunded = refunded + excluded.refunded;
    INSERT INTO sales_total (currency, orders, revenue, refunded)
    VALUES (NEW.currency, 1, NEW.amount_total - NEW.amount_discount, NEW.amount_refunded)
    ON CONFLICT (currency) DO UPDATE SET orders = orders + 1,
        revenue = revenue + excluded.revenue, refunded = refunded + excluded.refunded;
END;

-- … and a deleted one takes itself out (orders are kept, not deleted, but be exact).
CREATE TRIGGER order_sales_delete AFTER DELETE ON orders
WHEN OLD.paid_at IS NOT NULL AND OLD.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
BEGIN
    UPDATE sales_daily SET orders = orders - 1,
        revenue = revenue - (OLD.amount_total - OLD.amount_discount),
        refunded = refunded - OLD.amount_refunded
    WHERE day = OLD.paid_at / 86400 AND currency = OLD.currency;
    UPDATE sales_total SET orders = orders - 1,
        revenue = revenue - (OLD.amount_total - OLD.amount_discount),
        refunded = refunded - OLD.amount_refunded
    WHERE currency = OLD.currency;
END;

-- Per product, from the lines. An order's lines count when it becomes a sale, and come out with
-- the figures they were counted with when its day, currency, total or discount change or it
-- stops being a sale (a refund alone changes nothing here).
CREATE TRIGGER product_sales_update_out
AFTER UPDATE OF status, paid_at, currency, amount_total, amount_discount ON orders
WHEN OLD.paid_at IS NOT NULL AND OLD.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
 AND NOT (NEW.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
          AND NEW.paid_at IS OLD.paid_at AND NEW.currency IS OLD.currency
          AND NEW.amount_total IS OLD.amount_total
          AND NEW.amount_discount IS OLD.amount_discount)
BEGIN
    INSERT INTO product_sales_daily (day, currency, product_id, orders, units, revenue)
    SELECT OLD.paid_at / 86400, OLD.currency, product_id, -1, -quantity,
           -(unit_amount * quantity
             - OLD.amount_discount * unit_amount * quantity / OLD.amount_total)
    FROM order_lines WHERE order_id = OLD.id
    ON CONFLICT (day, currency, product_id) DO UPDATE SET orders = orders + excluded.orders,
        units = units + excluded.units, revenue = revenue + excluded.revenue;
    INSERT INTO product_sales_total (currency, product_id, orders, units, revenue)
    SELECT OLD.currency, product_id, -1, -quantity,
           -(unit_amount * quantity
             - OLD.amount_discount * unit_amount * quantity / OLD.amount_total)
    FROM order_lines WHERE order_id = OLD.id
    ON CONFLICT (currency, product_id) DO UPDATE SET orders = orders + excluded.orders,
        units = units + excluded.units, revenue = revenue + excluded.revenue;
END;

CREATE TRIGGER product_sales_update_in
AFTER UPDATE OF status, paid_at, currency, amount_total, amount_discount ON orders
WHEN NEW.paid_at IS NOT NULL AND NEW.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
 AND NOT (OLD.paid_at IS NOT NULL
          AND OLD.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
          AND NEW.paid_at IS OLD.paid_at AND NEW.currency IS OLD.currency
          AND NEW.amount_total IS OLD.amount_total
          AND NEW.amount_discount IS OLD.amount_discount)
BEGIN
    INSERT INTO product_sales_daily (day, currency, product_id, orders, units, revenue)
    SELECT NEW.paid_at / 86400, NEW.currency, product_id, 1, quantity,
           unit_amount * quantity
           - NEW.amount_discount * unit_amount * quantity / NEW.amount_total
    FROM order_lines WHERE order_id = NEW.id
    ON CONFLICT (day, currency, product_id) DO UPDATE SET orders = orders + excluded.orders,
        units = units + excluded.units, revenue = revenue + excluded.revenue;
    INSERT INTO product_sales_total (currency, product_id, orders, units, revenue)
    SELECT NEW.currency, product_id, 1, quantity,
           unit_amount * quantity
           - NEW.amount_discount * unit_amount * quantity / NEW.amount_total
    FROM order_lines WHERE order_id = NEW.id
    ON CONFLICT (currency, product_id) DO UPDATE SET orders = orders + excluded.orders,
        units = units + excluded.units, revenue = revenue + excluded.revenue;
END;

-- A line added to (or removed from) an order that is already a sale counts at once: an order
-- is normally written with its lines before it is paid, but a hand-made import need not be.
CREATE TRIGGER product_sales_line_insert AFTER INSERT ON order_lines
WHEN (SELECT paid_at IS NOT NULL
             AND status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
      FROM orders WHERE id = NEW.order_id)
BEGIN
    INSERT INTO product_sales_daily (day, currency, product_id, orders, units, revenue)
    SELECT paid_at / 86400, currency, NEW.product_id, 1, NEW.quantity,
           NEW.unit_amount * NEW.quantity
           - amount_discount * NEW.unit_amount * NEW.quantity / amount_total
    FROM orders WHERE id = NEW.order_id
    ON CONFLICT (day, currency, product_id) DO UPDATE SET orders = orders + excluded.orders,
        units = units + excluded.units, revenue = revenue + excluded.revenue;
    INSERT INTO product_sales_total (currency, product_id, orders, units, revenue)
    SELECT currency, NEW.product_id, 1, NEW.quantity,
           NEW.unit_amount * NEW.quantity
           - amount_discount * NEW.unit_amount * NEW.quantity / amount_total
    FROM orders WHERE id = NEW.order_id
    ON CONFLICT (currency, product_id) DO UPDATE SET orders = orders + excluded.orders,
        units = units + excluded.units, revenue = revenue + excluded.revenue;
END;

CREATE TRIGGER product_sales_line_delete AFTER DELETE ON order_lines
WHEN (SELECT paid_at IS NOT NULL
             AND status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
      FROM orders WHERE id = OLD.order_id)
BEGIN
    INSERT INTO product_sales_daily (day, currency, product_id, orders, units, revenue)
    SELECT paid_at / 86400, currency, OLD.product_id, -1, -OLD.quantity,
           -(OLD.unit_amount * OLD.quantity
             - amount_discount * OLD.unit_amount * OLD.quantity / amount_total)
    FROM orders WHERE id = OLD.order_id
    ON CONFLICT (day, currency, product_id) DO UPDATE SET orders = orders + excluded.orders,
        units = units + excluded.units, revenue = revenue + excluded.revenue;
    INSERT INTO product_sales_total (currency, product_id, orders, units, revenue)
    SELECT currency, OLD.product_id, -1, -OLD.quantity,
           -(OLD.unit_amount * OLD.quantity
             - amount_discount * OLD.unit_amount * OLD.quantity / amount_total)
    FROM orders WHERE id = OLD.order_id
    ON CONFLICT (currency, product_id) DO UPDATE SET orders = orders + excluded.orders,
        units = units + excluded.units, revenue = revenue + excluded.revenue;
END;

-- The buyers' carts: one per buyer, a line per product, kept until checkout or until the buyer
-- empties it. `unit_amount` and `currency` are the price the buyer saw when adding, so checkout
-- can say "the price changed" before it asks for money.
CREATE TABLE cart_lines (
    buyer_user_id INTEGER NOT NULL,
    product_id    INTEGER NOT NULL REFERENCES products (id),
    quantity      INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 10),
    unit_amount   INTEGER NOT NULL CHECK (unit_amount > 0),
    currency      TEXT    NOT NULL,
    added_at      INTEGER NOT NULL,
    PRIMARY KEY (buyer_user_id, product_id)
) WITHOUT ROWID;
CREATE INDEX cart_lines_by_product ON cart_lines (product_id);
