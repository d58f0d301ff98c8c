-- Telegram's updates in webhook mode (the SQLite file of the same step says why).
CREATE TABLE telegram_updates (
    update_id   BIGINT PRIMARY KEY,
    chat_id     BIGINT NOT NULL,
    part        BIGINT NOT NULL,
    body        TEXT   NOT NULL,
    received_at BIGINT NOT NULL,
    handled_at  BIGINT
);
CREATE INDEX telegram_updates_waiting ON telegram_updates (part, update_id)
    WHERE handled_at IS NULL;
CREATE INDEX telegram_updates_handled ON telegram_updates (handled_at)
    WHERE handled_at IS NOT NULL;
