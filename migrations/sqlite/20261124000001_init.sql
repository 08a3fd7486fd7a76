-- Connectors, the devices they found, and the ledger of sync runs.
-- Portable SQL: the PostgreSQL tree will carry the same version numbers and shapes.
-- Times are UTC, stored as RFC 3339 text here (TIMESTAMPTZ in PostgreSQL).

CREATE TABLE connectors (
    id                TEXT PRIMARY KEY NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('connectionPending', 'connected', 'disconnected')),
    status_reason     TEXT,
    endpoint          TEXT NOT NULL,
    tenant_id         TEXT NOT NULL,
    organization      TEXT,
    account           TEXT NOT NULL,
    connector_type    TEXT NOT NULL DEFAULT 'serviceToService',
    set_up_at         TEXT NOT NULL,
    last_sync_at      TEXT,
    updated_at        TEXT NOT NULL
);

CREATE TABLE devices (
    connector_id            TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    guid                    TEXT NOT NULL,
    identity                TEXT NOT NULL,
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
    first_seen_at           TEXT NOT NULL,
    last_seen_at            TEXT NOT NULL,
    removed_at              TEXT,
    PRIMARY KEY (connector_id, guid)
);

CREATE INDEX devices_connector_present ON devices (connector_id, removed_at);

CREATE TABLE sync_runs (
    id                  TEXT PRIMARY KEY NOT NULL,
    connector_id        TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    kind                TEXT NOT NULL CHECK (kind IN ('fullSync', 'deltaSync')),
    trigger             TEXT NOT NULL CHECK (trigger IN ('setup', 'scheduled', 'manual')),
    status              TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    started_at          TEXT NOT NULL,
    finished_at         TEXT,
    devices_seen        BIGINT NOT NULL DEFAULT 0,
    devices_added       BIGINT NOT NULL DEFAULT 0,
    devices_changed     BIGINT NOT NULL DEFAULT 0,
    devices_removed     BIGINT NOT NULL DEFAULT 0,
    api_calls           BIGINT NOT NULL DEFAULT 0,
    error_code          TEXT,
    error_message       TEXT,
    error_request_id    TEXT
);

CREATE INDEX sync_runs_connector_started ON sync_runs (connector_id, started_at DESC, id DESC);
