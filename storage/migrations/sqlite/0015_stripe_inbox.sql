-- The Stripe event inbox (issue 15, item 4): a verified event is written here before the
-- webhook answers 2xx (every event waiting in one transaction: group commit), and applied
-- right after by the shop's applier, which marks it applied in the transaction that applies it.
-- `stripe_events` stays the record of what was applied (its unique id keeps an event from being
-- applied twice); this table is what was received and what is still owed.
--
-- Events of one order (`order_key`) are applied one after another, by Stripe's `created` and
-- then by arrival (`seq`). A row is claimed (`claimed_by`, `claimed_until`) while it is being
-- applied, so that several instances can share the table; an expired claim is claimable again.
-- An event whose apply failed waits until `not_before` (backoff), and so do the later events
-- of its order.
CREATE TABLE stripe_inbox (
    seq           INTEGER PRIMARY KEY,
    id            TEXT    NOT NULL UNIQUE,
    type          TEXT    NOT NULL,
    order_key     TEXT    NOT NULL,
    created       INTEGER NOT NULL,
    payload       TEXT    NOT NULL,
    received_at   INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    not_before    INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    claimed_by    TEXT,
    claimed_until INTEGER,
    applied_at    INTEGER
);

-- Only the rows still owed are indexed for the applier: the indexes stay as small as the
-- backlog, however many applied rows the table keeps until they are pruned.
CREATE INDEX stripe_inbox_waiting ON stripe_inbox (created, seq) WHERE applied_at IS NULL;
CREATE INDEX stripe_inbox_by_order ON stripe_inbox (order_key) WHERE applied_at IS NULL;
CREATE INDEX stripe_inbox_applied ON stripe_inbox (applied_at) WHERE applied_at IS NOT NULL;
