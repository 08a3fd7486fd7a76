-- API tokens (issue 16): a person's named bearer tokens for `/api/v1`. Only the SHA-256 of a
-- token is kept (tokens are 256 random bits, so a fast hash is enough and a lookup is one
-- index probe); the token itself is shown once, when it is created.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'reader')),
    token_hash    TEXT NOT NULL UNIQUE,
    -- The token's first characters, so that a person can tell their tokens apart.
    prefix        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);

CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at DESC);
