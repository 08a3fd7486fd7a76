-- Issue 12: the device pages. What Get-MobileDevice says about why a device has its state, what
-- the list filters and sorts on (derived by the sync when it writes a device), the version the
-- in-memory device list follows, and the device events a sync observes.

-- The rule Exchange names for a DeviceRule state, and Intune's view of the device.
ALTER TABLE devices ADD COLUMN access_control_rule TEXT;
ALTER TABLE devices ADD COLUMN is_managed BOOLEAN;
ALTER TABLE devices ADD COLUMN is_compliant BOOLEAN;
-- Derived when the sync writes the row (src/server/devices/derive.rs): the OS family (iOS,
-- Android, Windows, macOS, Other), the client version as a number (major * 1000 + minor, NULL
-- when it does not read as a version), and the lower-case text that search looks in.
ALTER TABLE devices ADD COLUMN os_family TEXT;
ALTER TABLE devices ADD COLUMN client_version_key BIGINT;
ALTER TABLE devices ADD COLUMN search_text TEXT;

-- Rows written before have none of the above: the next sync (quick or full) writes every
-- device again once (a missing digest reads as changed).
UPDATE devices SET content_digest = NULL;

-- The device list is served from a compact copy in memory (src/server/devices/catalog.rs),
-- rebuilt when this number moves: a sync's final transaction adds one. Ten sort and filter
-- indexes here made a first sync of 100,000 devices 2.6 times slower (measured).
ALTER TABLE connectors ADD COLUMN devices_version BIGINT NOT NULL DEFAULT 0;

-- What a sync observed of a device: a change of access state, of client (type or version) or
-- of owner (mailbox), its removal from Exchange and its return. When it was first seen is the
-- device's own first_seen_at. Kept with the device (removed devices are kept too).
CREATE TABLE device_events (
    -- Order of writing among events of the same time (ids need not stay unique after a
    -- deletion, so no AUTOINCREMENT; PostgreSQL's twin uses BIGINT GENERATED ALWAYS AS IDENTITY).
    id              INTEGER PRIMARY KEY,
    connector_id    TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    guid            TEXT NOT NULL,
    at              TEXT NOT NULL,
    run_id          TEXT,
    kind            TEXT NOT NULL CHECK (kind IN ('stateChanged', 'clientChanged', 'ownerChanged',
                                                  'removed', 'returned')),
    old_value       TEXT,
    new_value       TEXT,
    -- For a state change: the new state's reason and the rule Exchange named.
    reason          TEXT,
    rule            TEXT
);

CREATE INDEX device_events_device ON device_events (connector_id, guid, at DESC, id DESC);
