-- Two payment rails (issue 13): Stripe Checkout, and Telegram Stars for digital goods.
--
-- A product is sold through `stripe` (as every product was until now), `stars` or `both`; a
-- Stars price is a whole number of Stars set by the merchant, present exactly when the rail
-- needs it. An order is paid through one rail: a Stars order's currency is 'xtr' and its
-- amounts are whole Stars, and its payment is recorded once by Telegram's
-- `telegram_payment_charge_id` (unique, as Stripe's session is for the other rail).
-- Existing products and orders are Stripe's. A physical product stays on Stripe: Stars sell
-- digital goods and services (Telegram's terms, §6.2), and only Checkout collects an address.

ALTER TABLE products ADD COLUMN rail TEXT NOT NULL DEFAULT 'stripe'
    CHECK (rail IN ('stripe', 'stars', 'both') AND (rail = 'stripe' OR kind != 'physical'));
ALTER TABLE products ADD COLUMN stars_price INTEGER
    CHECK (CASE WHEN rail = 'stripe' THEN stars_price IS NULL
                ELSE stars_price IS NOT NULL AND stars_price > 0 END);

ALTER TABLE orders ADD COLUMN rail TEXT NOT NULL DEFAULT 'stripe'
    CHECK (rail IN ('stripe', 'stars'));
ALTER TABLE orders ADD COLUMN telegram_payment_charge_id TEXT;
CREATE UNIQUE INDEX orders_by_star_charge ON orders (telegram_payment_charge_id)
    WHERE telegram_payment_charge_id IS NOT NULL;
-- The sweep of unpaid orders runs per rail (shop/reconcile.py asks Stripe only about its own).
CREATE INDEX orders_open_by_rail ON orders (rail, status, expires_at);

-- Stripe must never see 'xtr', and a Stars order is counted in nothing else: an order's rail
-- and its currency go together (a table CHECK cannot be added to an existing table in SQLite).
CREATE TRIGGER orders_rail_currency_insert BEFORE INSERT ON orders
WHEN (NEW.rail = 'stars') IS NOT (NEW.currency = 'xtr')
BEGIN
    SELECT RAISE(ABORT, 'a Stars order is in xtr, and only a Stars order is');
END;

CREATE TRIGGER orders_rail_currency_update BEFORE UPDATE OF rail, currency ON orders
WHEN (NEW.rail = 'stars') IS NOT (NEW.currency = 'xtr')
BEGIN
    SELECT RAISE(ABORT, 'a Stars order is in xtr, and only a Stars order is');
END;

-- Only a Stars order carries a Telegram charge.
CREATE TRIGGER orders_star_charge_update BEFORE UPDATE OF telegram_payment_charge_id ON orders
WHEN NEW.telegram_payment_charge_id IS NOT NULL AND NEW.rail != 'stars'
BEGIN
    SELECT RAISE(ABORT, 'only a Stars order has a telegram_payment_charge_id');
END;
