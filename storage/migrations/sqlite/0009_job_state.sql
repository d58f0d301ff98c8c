-- Where the scheduled jobs got to, one row per job and value (issue 13): reconciliation's
-- offset in Telegram's Star transactions, which only grow, oldest first. Stored in the same
-- transaction as the payments a page recorded, so a restart goes on from there.

CREATE TABLE job_state (
    name       TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
