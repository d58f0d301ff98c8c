-- Several instances on one database (issue 15): leases for one-at-a-time jobs, and claims on
-- the outbox's rows (the SQLite file of the same step says why).
CREATE TABLE leases (
    name       TEXT   PRIMARY KEY,
    holder     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL  -- unix milliseconds
);

ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claimed_until BIGINT;
