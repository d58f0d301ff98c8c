-- What Stripe charged, beside what we offered (issue 10, item 1).
--
-- With promotion codes allowed, a buyer may pay $15.00 for a $20.00 order: `amount_total` stays
-- what we offered (the line items' subtotal), `amount_discount` is the part a code took off, and
-- `amount_charged` is what Stripe actually took (subtotal - discount + shipping + tax), set when
-- a payment is recorded — also for a payment that is not delivered (an amount or mode that does
-- not match), so such an order stays refundable by the admin up to what was charged.
--
-- Orders paid before this migration were checked against the list price, so each was charged
-- exactly its amount_total and had no discount.
ALTER TABLE orders ADD COLUMN amount_discount INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN amount_charged INTEGER;
UPDATE orders SET amount_charged = amount_total
WHERE paid_at IS NOT NULL AND status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded');

-- /sales reports revenue net of discounts: the sales triggers of migration 0003 are replaced by
-- the same triggers counting amount_total - amount_discount (the aggregates themselves need no
-- rebuild: every existing order has no discount).
DROP TRIGGER order_sales_insert;
DROP TRIGGER order_sales_update_out;
DROP TRIGGER order_sales_update_in;
DROP TRIGGER order_sales_delete;

CREATE TRIGGER order_sales_insert AFTER INSERT ON orders
WHEN NEW.paid_at IS NOT NULL AND NEW.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
BEGIN
    INSERT INTO sales_daily (day, currency, product_id, orders, units, revenue, refunded)
    VALUES (NEW.paid_at / 86400, NEW.currency, NEW.product_id, 1, NEW.quantity,
            NEW.amount_total - NEW.amount_discount, NEW.amount_refunded)
    ON CONFLICT (day, currency, product_id) DO UPDATE SET
        orders = orders + 1, units = units + excluded.units,
        revenue = revenue + excluded.revenue, refunded = refunded + excluded.refunded;
    INSERT INTO sales_total (currency, product_id, orders, units, revenue, refunded)
    VALUES (NEW.currency, NEW.product_id, 1, NEW.quantity,
            NEW.amount_total - NEW.amount_discount, NEW.amount_refunded)
    ON CONFLICT (currency, product_id) DO UPDATE SET
        orders = orders + 1, units = units + excluded.units,
        revenue = revenue + excluded.revenue, refunded = refunded + excluded.refunded;
END;

CREATE TRIGGER order_sales_update_out
AFTER UPDATE OF status, paid_at, currency, product_id, quantity, amount_total, amount_discount,
         amount_refunded
ON orders
WHEN OLD.paid_at IS NOT NULL AND OLD.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
 AND NOT (OLD.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
          AND NEW.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
          AND NEW.paid_at IS OLD.paid_at AND NEW.currency IS OLD.currency
          AND NEW.product_id IS OLD.product_id AND NEW.quantity IS OLD.quantity
          AND NEW.amount_total IS OLD.amount_total
          AND NEW.amount_discount IS OLD.amount_discount
          AND NEW.amount_refunded IS OLD.amount_refunded)
BEGIN
    UPDATE sales_daily SET
        orders = orders - 1, units = units - OLD.quantity,
        revenue = revenue - (OLD.amount_total - OLD.amount_discount),
        refunded = refunded - OLD.amount_refunded
    WHERE day = OLD.paid_at / 86400 AND currency = OLD.currency AND product_id = OLD.product_id;
    UPDATE sales_total SET
        orders = orders - 1, units = units - OLD.quantity,
        revenue = revenue - (OLD.amount_total - OLD.amount_discount),
        refunded = refunded - OLD.amount_refunded
    WHERE currency = OLD.currency AND product_id = OLD.product_id;
END;

CREATE TRIGGER order_sales_update_in
AFTER UPDATE OF status, paid_at, currency, product_id, quantity, amount_total, amount_discount,
         amount_refunded
ON orders
WHEN NEW.paid_at IS NOT NULL AND NEW.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
 AND NOT (OLD.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
          AND NEW.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
          AND NEW.paid_at IS OLD.paid_at AND NEW.currency IS OLD.currency
          AND NEW.product_id IS OLD.product_id AND NEW.quantity IS OLD.quantity
          AND NEW.amount_total IS OLD.amount_total
          AND NEW.amount_discount IS OLD.amount_discount
          AND NEW.amount_refunded IS OLD.amount_refunded)
BEGIN
    INSERT INTO sales_daily (day, currency, product_id, orders, units, revenue, refunded)
    VALUES (NEW.paid_at / 86400, NEW.currency, NEW.product_id, 1, NEW.quantity,
            NEW.amount_total - NEW.amount_discount, NEW.amount_refunded)
    ON CONFLICT (day, currency, product_id) DO UPDATE SET
        orders = orders + 1, units = units + excluded.units,
        revenue = revenue + excluded.revenue, refunded = refunded + excluded.refunded;
    INSERT INTO sales_total (currency, product_id, orders, units, revenue, refunded)
    VALUES (NEW.currency, NEW.product_id, 1, NEW.quantity,
            NEW.amount_total - NEW.amount_discount, NEW.amount_refunded)
    ON CONFLICT (currency, product_id) DO UPDATE SET
        orders = orders + 1, units = units + excluded.units,
        revenue = revenue + excluded.revenue, refunded = refunded + excluded.refunded;
END;

CREATE TRIGGER order_sales_delete AFTER DELETE ON orders
WHEN OLD.paid_at IS NOT NULL AND OLD.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded')
BEGIN
    UPDATE sales_daily SET
        orders = orders - 1, units = units - OLD.quantity,
        revenue = revenue - (OLD.amount_total - OLD.amount_discount),
        refunded = refunded - OLD.amount_refunded
    WHERE day = OLD.paid_at / 86400 AND currency = OLD.currency AND product_id = OLD.product_id;
    UPDATE sales_total SET
        orders = orders - 1, units = units - OLD.quantity,
        revenue = revenue - (OLD.amount_total - OLD.amount_discount),
        refunded = refunded - OLD.amount_refunded
    WHERE currency = OLD.currency AND product_id = OLD.product_id;
END;
