-- Changing a password ends the account's other sessions: each session keeps the epoch it was
-- signed in at, and a session whose epoch is not the account's any more is nobody's.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
