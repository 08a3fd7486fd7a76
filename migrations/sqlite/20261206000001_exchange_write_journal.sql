-- An Exchange write about to be sent, kept until its answer is in the audit log (the row goes in
-- the same transaction as the audit entry). A server stopped between the two leaves its row; the
-- next start audits it as a write whose outcome is unknown. The id only pairs a write with its
-- answer while it is open (a plain key, no AUTOINCREMENT: an id may come back after its row went).
CREATE TABLE exchange_write_journal (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    actor           TEXT,
    source_address  TEXT,
    action          TEXT NOT NULL,
    target          TEXT,
    cmdlet          TEXT NOT NULL,
    parameters      TEXT
);
