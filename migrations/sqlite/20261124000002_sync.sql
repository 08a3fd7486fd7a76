-- Issue 4: the sync engine's data. Device statistics on the device rows, Exchange's settings,
-- policies, rules and device classes, staging tables that a run streams into before it merges
-- in one transaction, and the full sync ledger (new statuses and numbers).

-- Per-device statistics (Get-MobileDeviceStatistics) and the mailbox the device belongs to.
ALTER TABLE devices ADD COLUMN mailbox TEXT;
ALTER TABLE devices ADD COLUMN last_success_sync TEXT;
ALTER TABLE devices ADD COLUMN last_sync_attempt_time TEXT;
ALTER TABLE devices ADD COLUMN last_policy_update_time TEXT;
ALTER TABLE devices ADD COLUMN last_ping_heartbeat BIGINT;
ALTER TABLE devices ADD COLUMN number_of_folders_synced BIGINT;
ALTER TABLE devices ADD COLUMN device_policy_applied TEXT;
ALTER TABLE devices ADD COLUMN device_policy_application_status TEXT;
ALTER TABLE devices ADD COLUMN sync_status TEXT;
ALTER TABLE devices ADD COLUMN status_note TEXT;
ALTER TABLE devices ADD COLUMN is_remote_wipe_supported BOOLEAN;
ALTER TABLE devices ADD COLUMN device_wipe_request_time TEXT;
ALTER TABLE devices ADD COLUMN device_wipe_sent_time TEXT;
ALTER TABLE devices ADD COLUMN device_wipe_ack_time TEXT;
ALTER TABLE devices ADD COLUMN last_device_wipe_requestor TEXT;
ALTER TABLE devices ADD COLUMN statistics_read_at TEXT;

CREATE INDEX devices_connector_mailbox ON devices (connector_id, mailbox);

-- Exchange's organization-wide ActiveSync settings, one row per connector.
CREATE TABLE exchange_settings (
    connector_id                            TEXT PRIMARY KEY NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    default_access_level                    TEXT,
    admin_mail_recipients                   TEXT NOT NULL DEFAULT '[]',
    user_mail_insert                        TEXT,
    ota_notification_mail_insert            TEXT,
    allow_access_for_unsupported_platform   BOOLEAN,
    allow_rms_support_for_unenlightened_apps BOOLEAN,
    is_intune_managed                       BOOLEAN,
    tenant_admin_preference                 TEXT,
    identity                                TEXT,
    guid                                    TEXT,
    when_changed                            TEXT,
    synced_at                               TEXT NOT NULL
);

CREATE TABLE mailbox_policies (
    connector_id        TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    identity            TEXT NOT NULL,
    guid                TEXT,
    name                TEXT,
    is_default          BOOLEAN,
    -- The remaining settings as Exchange sent them (JSON object).
    settings            TEXT NOT NULL DEFAULT '{}',
    when_changed_utc    TEXT,
    synced_at           TEXT NOT NULL,
    PRIMARY KEY (connector_id, identity)
);

CREATE TABLE device_access_rules (
    connector_id    TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    identity        TEXT NOT NULL,
    guid            TEXT,
    name            TEXT,
    query_string    TEXT,
    characteristic  TEXT,
    access_level    TEXT,
    synced_at       TEXT NOT NULL,
    PRIMARY KEY (connector_id, identity)
);

CREATE TABLE device_classes (
    connector_id        TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    identity            TEXT NOT NULL,
    guid                TEXT,
    name                TEXT,
    device_type         TEXT,
    device_model        TEXT,
    last_update_time    TEXT,
    synced_at           TEXT NOT NULL,
    PRIMARY KEY (connector_id, identity)
);

-- What a running sync has read so far. Rows belong to one run and are deleted when it ends;
-- whatever a crash leaves behind is deleted at the next start.
CREATE TABLE sync_staging_devices (
    run_id                  TEXT NOT NULL,
    connector_id            TEXT NOT NULL,
    guid                    TEXT NOT NULL,
    identity                TEXT NOT NULL,
    mailbox                 TEXT,
    device_id               TEXT NOT NULL,
    friendly_name           TEXT,
    device_type             TEXT,
    device_model            TEXT,
    device_os               TEXT,
    device_user_agent       TEXT,
    user_display_name       TEXT,
    access_state            TEXT NOT NULL,
    access_state_reason     TEXT,
    client_type             TEXT,
    client_version          TEXT,
    first_sync_time         TEXT,
    when_changed_utc        TEXT,
    PRIMARY KEY (run_id, guid)
);

CREATE TABLE sync_staging_statistics (
    run_id                              TEXT NOT NULL,
    guid                                TEXT NOT NULL,
    last_success_sync                   TEXT,
    last_sync_attempt_time              TEXT,
    last_policy_update_time             TEXT,
    last_ping_heartbeat                 BIGINT,
    number_of_folders_synced            BIGINT,
    device_policy_applied               TEXT,
    device_policy_application_status    TEXT,
    sync_status                         TEXT,
    status_note                         TEXT,
    is_remote_wipe_supported            BOOLEAN,
    device_wipe_request_time            TEXT,
    device_wipe_sent_time               TEXT,
    device_wipe_ack_time                TEXT,
    last_device_wipe_requestor          TEXT,
    PRIMARY KEY (run_id, guid)
);

-- The ledger gains the partial and interrupted statuses and every number of a run. SQLite
-- cannot change a CHECK constraint in place: rebuild the table and copy the runs over.
CREATE TABLE sync_runs_v2 (
    id                  TEXT PRIMARY KEY NOT NULL,
    connector_id        TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    kind                TEXT NOT NULL CHECK (kind IN ('fullSync', 'deltaSync')),
    trigger             TEXT NOT NULL CHECK (trigger IN ('setup', 'scheduled', 'manual')),
    triggered_by        TEXT,
    status              TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'interrupted')),
    started_at          TEXT NOT NULL,
    finished_at         TEXT,
    duration_ms         BIGINT,
    devices_seen        BIGINT NOT NULL DEFAULT 0,
    devices_added       BIGINT NOT NULL DEFAULT 0,
    devices_changed     BIGINT NOT NULL DEFAULT 0,
    devices_removed     BIGINT NOT NULL DEFAULT 0,
    mailboxes_queried   BIGINT NOT NULL DEFAULT 0,
    api_calls           BIGINT NOT NULL DEFAULT 0,
    api_calls_by_cmdlet TEXT NOT NULL DEFAULT '[]',
    retries             BIGINT NOT NULL DEFAULT 0,
    throttle_wait_ms    BIGINT NOT NULL DEFAULT 0,
    warnings            TEXT NOT NULL DEFAULT '[]',
    error_code          TEXT,
    error_message       TEXT,
    error_request_id    TEXT,
    -- For the health cause: the HTTP status and cmdlet of the failure, when known.
    error_status        BIGINT,
    error_cmdlet        TEXT
);

INSERT INTO sync_runs_v2 (id, connector_id, kind, trigger, status, started_at, finished_at,
                          devices_seen, devices_added, devices_changed, devices_removed,
                          api_calls, error_code, error_message, error_request_id)
SELECT id, connector_id, kind, trigger, status, started_at, finished_at,
       devices_seen, devices_added, devices_changed, devices_removed,
       api_calls, error_code, error_message, error_request_id
  FROM sync_runs;

DROP TABLE sync_runs;
ALTER TABLE sync_runs_v2 RENAME TO sync_runs;

CREATE INDEX sync_runs_connector_started ON sync_runs (connector_id, started_at DESC, id DESC);
CREATE INDEX sync_runs_status_started ON sync_runs (status, started_at DESC, id DESC);
