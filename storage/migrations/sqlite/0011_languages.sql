-- The shop in the buyer's language (issue 14).
--
-- Each person's language: the one they chose with /language, and the one their Telegram app
-- last said (admins' alerts and anything sent outside an update use it). Neither is required.
CREATE TABLE person_languages (
    user_id    INTEGER PRIMARY KEY,
    chosen     TEXT,
    seen       TEXT,
    updated_at INTEGER NOT NULL
);

-- The language the buyer ordered in: their receipt, goods and notices, sent later by the outbox,
-- and the /success and /cancel pages speak it. NULL (orders from before): the shop's default.
ALTER TABLE orders ADD COLUMN language TEXT;

-- The merchant's own translations of a product's texts, per language; a field left NULL falls
-- back to the original. Nothing here is ever filled by machine translation.
CREATE TABLE product_translations (
    product_id    INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    language      TEXT    NOT NULL,
    title         TEXT,
    description   TEXT,
    delivery_text TEXT,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (product_id, language)
) WITHOUT ROWID;

-- A category's name in another language (categories are the products' `category` text).
CREATE TABLE category_translations (
    category   TEXT    NOT NULL,
    language   TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (category, language)
) WITHOUT ROWID;
