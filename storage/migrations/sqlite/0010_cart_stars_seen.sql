-- The Stars price a buyer saw when adding a product to the cart (issue 13 with issue 12): the
-- review before checkout tells the buyer when it changed, as it does for the card price.
-- NULL when the product was not sold for Stars then; lines added before this release have none,
-- so their first review simply remembers today's Stars price without calling it a change.
ALTER TABLE cart_lines ADD COLUMN stars_amount INTEGER CHECK (stars_amount > 0);
