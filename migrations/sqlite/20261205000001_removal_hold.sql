-- Issue 14 item 9: a sync that would mark more than SYNC_MAX_REMOVAL_PERCENT of the stored
-- devices removed keeps them and records when it first held such a removal; a later full sync
-- that sees the same confirms it (and clears this).
ALTER TABLE connectors ADD COLUMN removal_held_at TEXT;
