-- The audit log's anchor outside the database: each entry's MAC, HMAC-SHA256 with the key in
-- <data>/audit.key (owner-only, never in the database or its backups) over the entry's id and
-- chained hash. Someone who can rewrite the database file but not read the key can rechain
-- the hashes, not the MACs. Kept beside audit_log so that existing rows need no UPDATE;
-- entries already present are MACed once, when the key is first created (store/audit.ts).

CREATE TABLE audit_mac (
  id   INTEGER PRIMARY KEY,          -- audit_log.id (no foreign key: the log is never deleted from)
  mac  TEXT NOT NULL
);

CREATE TRIGGER audit_mac_no_update BEFORE UPDATE ON audit_mac
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_mac_no_delete BEFORE DELETE ON audit_mac
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;
