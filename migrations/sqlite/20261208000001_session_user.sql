-- A session row names its signed-in account, so that reading a session reads its account in
-- the same query (a join): one database round trip per signed-in request instead of two.
-- The table is tower-sessions' own (its `migrate` creates it when missing, with these first
-- three columns); created here first so that the column can be added on a new database too.
CREATE TABLE IF NOT EXISTS sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BLOB NOT NULL,
    expiry_date INTEGER NOT NULL
);
-- NULL for a session nobody is signed in with, and for sessions from before this migration
-- until their next write (they then read their account with a query of its own).
ALTER TABLE sessions ADD COLUMN user_id TEXT;
