-- Telegram's updates in webhook mode (issue 15): recorded before the webhook answers 200, then
-- handled from here, each chat's in order by the instance holding the chat's partition
-- (bot/update_inbox.py). A row is kept a day after it was handled, so that Telegram sending
-- the same update again (its answer lost) finds it and it is not handled twice.
CREATE TABLE telegram_updates (
    update_id   INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,  -- the chat (or user) it is about; 0 for none
    part        INTEGER NOT NULL,  -- chat_id's partition: who may handle it
    body        TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    handled_at  INTEGER
);
CREATE INDEX telegram_updates_waiting ON telegram_updates (part, update_id)
    WHERE handled_at IS NULL;
CREATE INDEX telegram_updates_handled ON telegram_updates (handled_at)
    WHERE handled_at IS NOT NULL;
