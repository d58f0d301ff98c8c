-- Several instances on one database (issue 15): leases for one-at-a-time jobs, and claims on
-- the outbox's rows.
--
-- A lease is a row per job (reconciliation, Telegram's set-up at start, the polling loop):
-- whoever holds it unexpired runs the job; a holder that dies stops renewing and the lease
-- expires, so another instance takes over without anyone resetting anything.
CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL  -- unix milliseconds
) WITHOUT ROWID;

-- A delivery being sent is claimed by one instance until claimed_until (unix seconds, as the
-- table's other times): other instances skip it meanwhile, and a claim left by an instance
-- that died expires.
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claimed_until INTEGER;
