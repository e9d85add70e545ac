-- Issue 13 §3: the key directory as an append-only log (key transparency). Each row is a leaf of
-- the Merkle tree the authority signs heads of (shared/crypto/key-log.ts): a binding of a name
-- to an identity key, as announced, never changed or removed (an erased account's bindings stay,
-- as its name stays in the audit log: the log proves what the authority announced).
-- idx: the leaf's position, from 0. user_id: the account that published it (for its own
-- monitoring); no foreign key, so that erasing the account leaves the leaf.
CREATE TABLE key_log (
  idx         INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  user_id     INTEGER NOT NULL,
  key_id      TEXT NOT NULL,
  box_pk      TEXT NOT NULL,
  sign_pk     TEXT NOT NULL,
  signature   TEXT NOT NULL,
  at          INTEGER NOT NULL
);
CREATE INDEX key_log_by_name ON key_log(name, idx);

CREATE TRIGGER key_log_no_update BEFORE UPDATE ON key_log
BEGIN
  SELECT RAISE(ABORT, 'the key log is append-only');
END;

CREATE TRIGGER key_log_no_delete BEFORE DELETE ON key_log
BEGIN
  SELECT RAISE(ABORT, 'the key log is append-only');
END;
