-- Physical orders' own life after payment, per-product shipping countries, and stock products
-- that wait hidden until they have items.
--
-- A paid physical order is "to ship" until an admin marks it shipped (shipped_at, with or
-- without tracking), then "shipped", then optionally "delivered" (delivered_at) when the admin
-- marks it so. These stages sit beside the payment status rather than in it: a shipped order
-- can still be partly refunded, and /sales counts an order by its payment status alone.
ALTER TABLE orders ADD COLUMN delivered_at INTEGER;

-- What admin /orders' "To ship" filter and a bare /ship read: only the paid physical orders
-- not shipped yet, so the list costs the same however long the shop's history grows.
CREATE INDEX orders_to_ship ON orders (id DESC)
    WHERE product_kind = 'physical' AND shipped_at IS NULL
      AND status IN ('fulfilled', 'paid', 'partially_refunded');

-- A physical product may ship to other countries than the shop's SHIPPING_COUNTRIES:
-- comma-separated ISO codes, NULL for the shop-wide list.
ALTER TABLE products ADD COLUMN shipping_countries TEXT;

-- A stock product saved without items can wait hidden: the /stock upload that gives it items
-- shows it in the catalog (instead of buyers seeing "Sold out" from the start).
ALTER TABLE products ADD COLUMN show_when_stocked INTEGER NOT NULL DEFAULT 0
    CHECK (show_when_stocked IN (0, 1));
