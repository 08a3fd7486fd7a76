-- Issue 12: the device pages. What Get-MobileDevice says about why a device has its state, what
-- the list filters and sorts on (derived by the sync when it writes a device), indexes that let
-- any single filter and any sort answer one page at a time, and the device events a sync
-- observes.

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

-- One index per sort of the device list (both directions), each also serving the filter on
-- its leading key. The expressions are exactly those of src/server/db/device_list.rs.
-- `removed_at` comes second: present devices (`removed_at IS NULL`) are one range of every
-- index, so counts read an index alone and removed partnerships are listed from the same ones.
CREATE INDEX devices_list_user ON devices
    (connector_id, removed_at, lower(COALESCE(mailbox, '')), guid);
CREATE INDEX devices_list_name ON devices
    (connector_id, removed_at, lower(COALESCE(friendly_name, '')), guid);
CREATE INDEX devices_list_type ON devices
    (connector_id, removed_at, lower(COALESCE(device_type, '')), lower(COALESCE(device_model, '')), guid);
CREATE INDEX devices_list_os ON devices
    (connector_id, removed_at, COALESCE(os_family, ''), lower(COALESCE(device_os, '')), guid);
CREATE INDEX devices_list_client ON devices
    (connector_id, removed_at, COALESCE(client_type, ''), COALESCE(client_version_key, -1), guid);
CREATE INDEX devices_list_state ON devices
    (connector_id, removed_at, access_state, COALESCE(access_state_reason, ''), guid);
CREATE INDEX devices_list_last_sync ON devices
    (connector_id, removed_at, COALESCE(last_success_sync, ''), guid);
CREATE INDEX devices_list_first_sync ON devices
    (connector_id, removed_at, COALESCE(first_sync_time, ''), guid);
CREATE INDEX devices_list_reason ON devices
    (connector_id, removed_at, COALESCE(access_state_reason, ''), guid);
-- Search reads this narrow index instead of the wide rows.
CREATE INDEX devices_list_search ON devices (connector_id, removed_at, search_text, guid);

-- What a sync observed of a device: a change of access state, of client (type or version) or
-- of owner (mailbox), its removal from Exchange and its return. When it was first seen is the
-- device's own first_seen_at. Kept with the device (removed devices are kept too).
CREATE TABLE device_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
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
