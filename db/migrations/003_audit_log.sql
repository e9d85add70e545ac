-- The admin audit log: every admin action (console, control socket or an admin's client),
-- append-only and hash-chained. Each entry holds the hash of the one before (prev_hash) and
-- its own hash, SHA-256 over the canonical form of the row including prev_hash; the first
-- entry's prev_hash is 64 zeros. `/audit verify` recomputes the chain and names the first
-- entry that was edited, removed or reordered.

CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  ts          INTEGER NOT NULL,
  actor       TEXT NOT NULL,          -- an admin's username, or the OS account at the console / socket
  origin      TEXT NOT NULL,          -- 'console', 'control socket', or the admin client's IP address
  action      TEXT NOT NULL,
  target      TEXT,
  detail      TEXT,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL UNIQUE
);

-- Append-only for anything that goes through SQLite by mistake; the hash chain is what
-- catches someone who drops these triggers first.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;
