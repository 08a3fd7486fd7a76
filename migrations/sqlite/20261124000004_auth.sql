-- Sign-in, roles, encrypted connector secrets and the audit log (issue 5).

-- People who may sign in. A password hash (argon2id, PHC string) for local accounts; NULL for
-- accounts that only sign in with OpenID Connect. Emails compare without case.
CREATE TABLE users (
    id              TEXT PRIMARY KEY NOT NULL,
    email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name    TEXT,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'reader')),
    password_hash   TEXT,
    created_at      TEXT NOT NULL,
    disabled_at     TEXT,
    last_sign_in_at TEXT
);

-- Secrets a connector keeps (the delegated refresh token): AES-256-GCM ciphertext and nonce,
-- never the plain value. Wiped when the connector is removed.
CREATE TABLE connector_secrets (
    connector_id    TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    nonce           BLOB NOT NULL,
    ciphertext      BLOB NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (connector_id, name)
);

-- Who set the connector up, and with which identity it connects.
ALTER TABLE connectors ADD COLUMN set_up_by TEXT;
ALTER TABLE connectors ADD COLUMN auth_mode TEXT NOT NULL DEFAULT 'app'
    CHECK (auth_mode IN ('app', 'delegated'));

-- Append-only: who did what, from where, to what, and how it ended. For Exchange writes the
-- cmdlet and its parameters (JSON). Rows are never changed or deleted (the triggers refuse).
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    actor           TEXT,
    source_address  TEXT,
    action          TEXT NOT NULL,
    target          TEXT,
    cmdlet          TEXT,
    parameters      TEXT,
    result          TEXT NOT NULL CHECK (result IN ('success', 'failure', 'denied')),
    detail          TEXT
);

CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_action_at ON audit_log (action, at DESC, id DESC);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
