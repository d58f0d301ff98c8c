-- Aggregates for the admin views, kept by triggers in the same transaction as every order change.
--
-- /sales summed every paid order of its window and admin /orders counted every order of its
-- filter, so both grew linearly with the shop's history: at a million orders /sales took over a
-- second (bench/RESULTS.md, scenario 4). With these tables "all time" reads one row per
-- currency × product, a 7- or 30-day window one row per day × currency × product (plus the
-- orders of the one partial day it starts with), and the order count one row per status.
-- Triggers rather than application code keep them, so every write path (webhook, success page,
-- reconciliation, refunds, a hand-made UPDATE) moves them the same way and nothing outside
-- storage/ needs to know they exist.
--
-- A sale is an order in one of the states below with a paid_at (see storage/sales.py); its
-- refunds count against the day it was paid, as they always have.

-- One row per UTC day (paid_at / 86400), currency and product.
CREATE TABLE sales_daily (
    day        INTEGER NOT NULL,
    currency   TEXT    NOT NULL,
    product_id INTEGER NOT NULL,
    orders     INTEGER NOT NULL,
    units      INTEGER NOT NULL,
    revenue    INTEGER NOT NULL,
    refunded   INTEGER NOT NULL,
    PRIMARY KEY (day, currency, product_id)
) WITHOUT ROWID;

-- The same, all time: one row per currency and product.
CREATE TABLE sales_total (
    currency   TEXT    NOT NULL,
    product_id INTEGER NOT NULL,
    orders     INTEGER NOT NULL,
    units      INTEGER NOT NULL,
    revenue    INTEGER NOT NULL,
    refunded   INTEGER NOT NULL,
    PRIMARY KEY (currency, product_id)
) WITHOUT ROWID;

INSERT INTO sales_daily (day, currency, product_id, orders, units, revenue, refunded)
SELECT paid_at / 86400, currency, product_id, COUNT(*), SUM(quantity), SUM(amount_total),
       SUM(amount_refunded)
FROM orders
WHERE paid_at IS NOT NULL AND status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
GROUP BY paid_at / 86400, currency, product_id;

INSERT INTO sales_total (currency, product_id, orders, units, revenue, refunded)
SELECT currency, product_id, SUM(orders), SUM(units), SUM(revenue), SUM(refunded)
FROM sales_daily
GROUP BY currency, product_id;

-- An order that counts as a sale adds itself to both tables …
CREATE TRIGGER order_sales_insert AFTER INSERT ON orders
WHEN NEW.paid_at IS NOT NULL AND NEW.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
BEGIN
    INSERT INTO sales_daily (day, currency, product_id, orders, units, revenue, refunded)
    VALUES (NEW.paid_at / 86400, NEW.currency, NEW.product_id, 1, NEW.quantity,
            NEW.amount_total, NEW.amount_refunded)
    ON CONFLICT (day, currency, product_id) DO UPDATE SET
        orders = orders + 1, units = units + excluded.units,
        revenue = revenue + excluded.revenue, refunded = refunded + excluded.refunded;
    INSERT INTO sales_total (currency, product_id, orders, units, revenue, refunded)
    VALUES (NEW.currency, NEW.product_id, 1, NEW.quantity, NEW.amount_total,
            NEW.amount_refunded)
    ON CONFLICT (currency, product_id) DO UPDATE SET
        orders = orders + 1, units = units + excluded.units,
        revenue = revenue + excluded.revenue, refunded = refunded + excluded.refunded;
END;

-- … an update takes the old contribution out and puts the new one in (either may be none),
-- unless it leaves the contribution as it was (paid → fulfilled, a message id, a tracking
-- number), so the common moves after a payment cost nothing here …
CREATE TRIGGER order_sales_update_out
AFTER UPDATE OF status, paid_at, currency, product_id, quantity, amount_total, amount_refunded
ON orders
WHEN OLD.paid_at IS NOT NULL AND OLD.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
 AND NOT (OLD.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
          AND NEW.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
          AND NEW.paid_at IS OLD.paid_at AND NEW.currency IS OLD.currency
          AND NEW.product_id IS OLD.product_id AND NEW.quantity IS OLD.quantity
          AND NEW.amount_total IS OLD.amount_total
          AND NEW.amount_refunded IS OLD.amount_refunded)
BEGIN
    UPDATE sales_daily SET
        orders = orders - 1, units = units - OLD.quantity,
        revenue = revenue - OLD.amount_total, refunded = refunded - OLD.amount_refunded
    WHERE day = OLD.paid_at / 86400 AND currency = OLD.currency AND product_id = OLD.product_id;
    UPDATE sales_total SET
        orders = orders - 1, units = units - OLD.quantity,
        revenue = revenue - OLD.amount_total, refunded = refunded - OLD.amount_refunded
    WHERE currency = OLD.currency AND product_id = OLD.product_id;
END;

CREATE TRIGGER order_sales_update_in
AFTER UPDATE OF status, paid_at, currency, product_id, quantity, amount_total, amount_refunded
ON orders
WHEN NEW.paid_at IS NOT NULL AND NEW.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
 AND NOT (OLD.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
          AND NEW.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
          AND NEW.paid_at IS OLD.paid_at AND NEW.currency IS OLD.currency
          AND NEW.product_id IS OLD.product_id AND NEW.quantity IS OLD.quantity
          AND NEW.amount_total IS OLD.amount_total
          AND NEW.amount_refunded IS OLD.amount_refunded)
BEGIN
    INSERT INTO sales_daily (day, currency, product_id, orders, units, revenue, refunded)
    VALUES (NEW.paid_at / 86400, NEW.currency, NEW.product_id, 1, NEW.quantity,
            NEW.amount_total, NEW.amount_refunded)
    ON CONFLICT (day, currency, product_id) DO UPDATE SET
        orders = orders + 1, units = units + excluded.units,
        revenue = revenue + excluded.revenue, refunded = refunded + excluded.refunded;
    INSERT INTO sales_total (currency, product_id, orders, units, revenue, refunded)
    VALUES (NEW.currency, NEW.product_id, 1, NEW.quantity, NEW.amount_total,
            NEW.amount_refunded)
    ON CONFLICT (currency, product_id) DO UPDATE SET
        orders = orders + 1, units = units + excluded.units,
        revenue = revenue + excluded.revenue, refunded = refunded + excluded.refunded;
END;

-- … and a deleted one takes itself out (orders are archived, not deleted, but be exact).
CREATE TRIGGER order_sales_delete AFTER DELETE ON orders
WHEN OLD.paid_at IS NOT NULL AND OLD.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
BEGIN
    UPDATE sales_daily SET
        orders = orders - 1, units = units - OLD.quantity,
        revenue = revenue - OLD.amount_total, refunded = refunded - OLD.amount_refunded
    WHERE day = OLD.paid_at / 86400 AND currency = OLD.currency AND product_id = OLD.product_id;
    UPDATE sales_total SET
        orders = orders - 1, units = units - OLD.quantity,
        revenue = revenue - OLD.amount_total, refunded = refunded - OLD.amount_refunded
    WHERE currency = OLD.currency AND product_id = OLD.product_id;
END;

-- How many orders are in each state, for admin /orders' "N orders" and its page count.
CREATE TABLE order_counts (
    status TEXT    PRIMARY KEY,
    n      INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO order_counts (status, n) SELECT status, COUNT(*) FROM orders GROUP BY status;

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
