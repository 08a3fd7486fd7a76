-- Staging moved to TEMP tables of the connection a run holds (see src/server/db/staging.rs):
-- they are not written through the WAL and vanish with the connection, even after a crash.
DROP TABLE sync_staging_devices;
DROP TABLE sync_staging_statistics;

-- Digests of each device's listing and statistics (src/server/sync/digest.rs): a full sync
-- writes only the rows whose digest differs. NULL (rows written before) means "rewrite once".
ALTER TABLE devices ADD COLUMN content_digest BIGINT;
ALTER TABLE devices ADD COLUMN statistics_digest BIGINT;
