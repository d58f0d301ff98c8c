-- What several identical instances must count together (issue 15, item 3): the send budgets,
-- the limits per buyer and per chat, and the refund confirmations on an admin's screen. Until
-- now each lived in one process's memory; in the database every instance sees the same ones.
-- A SQLite shop is one process: it keeps the budgets and limits in memory still (bot/app.py,
-- shop/limits.py) and uses only the confirmations, so that they survive a restart; the two
-- other tables are the same on both engines all the same, one schema per step number.
-- Nothing here refers to another table of this step.

-- One row per budget of an outside service ('telegram:<bot id>', 'stripe:<key digest>'): the
-- next free slot and the end of the pause a 429 asked for, on the database's clock in
-- microseconds. Taking a slot is one statement (storage/budgets.py).
CREATE TABLE send_budgets (
    name            TEXT    PRIMARY KEY,
    next_slot_us    INTEGER NOT NULL,
    paused_until_us INTEGER NOT NULL DEFAULT 0,
    clock_us        INTEGER NOT NULL  -- the database's clock when the row last changed
) WITHOUT ROWID;

-- A limit's memory per subject (a buyer, an admin's chat, a Stripe session): the sliding
-- window's event times, or a pace's next due time (storage/limits.py). A row whose memory
-- no longer limits anything is gone after `expires_ms`.
CREATE TABLE rate_limits (
    scope      TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (scope, subject)
) WITHOUT ROWID;
CREATE INDEX rate_limits_expiry ON rate_limits (expires_ms);

-- A refund an admin was asked to confirm: the button carries only the token; the first tap,
-- on whichever instance, takes the row away (storage/refunds.py).
CREATE TABLE refund_confirmations (
    token      TEXT    PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    amount     INTEGER NOT NULL CHECK (amount > 0),
    created_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX refund_confirmations_age ON refund_confirmations (created_ms);
