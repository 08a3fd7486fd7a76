-- Alert webhooks (issue 16): where alerts go, what each destination hears, the queue of
-- deliveries with their outcome, and the last state seen of each watched fact (so that an
-- alert fires once per transition, across restarts too).
CREATE TABLE webhooks (
    id             TEXT PRIMARY KEY NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('json', 'teams', 'slack')),
    -- The whole address, AES-256-GCM sealed (Teams' and Slack's addresses are secrets).
    url_nonce      BLOB NOT NULL,
    url_ciphertext BLOB NOT NULL,
    -- What the page shows of the address: scheme, host and the last characters.
    url_hint       TEXT NOT NULL,
    -- The HMAC key of a generic JSON destination, sealed; shown once, when it is added.
    key_nonce      BLOB,
    key_ciphertext BLOB,
    -- The events it hears, comma-separated names.
    events         TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY NOT NULL,
    webhook_id       TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event            TEXT NOT NULL,
    -- The event as JSON (no secrets): each destination's format is made from it when sent.
    payload          TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    last_attempt_at  TEXT,
    -- The receiver's HTTP status of the last attempt, or why there was none.
    last_status      INTEGER,
    last_error       TEXT
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (created_at DESC);

CREATE TABLE alert_state (
    key         TEXT PRIMARY KEY NOT NULL,
    value       TEXT NOT NULL,
    changed_at  TEXT NOT NULL
);
