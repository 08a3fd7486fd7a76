-- A removed connector whose sync history and devices were kept: no longer the current one
-- (nothing syncs it), its rows stay for the record.
ALTER TABLE connectors ADD COLUMN removed_at TEXT;
ALTER TABLE connectors ADD COLUMN removed_by TEXT;
