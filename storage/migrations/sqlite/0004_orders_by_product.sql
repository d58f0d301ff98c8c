-- Deleting or archiving a product asks whether it has orders, and deleting it makes SQLite check
-- the orders' foreign key: both scanned every order without this index, inside the write
-- transaction that payments wait on.
CREATE INDEX orders_by_product ON orders (product_id);
