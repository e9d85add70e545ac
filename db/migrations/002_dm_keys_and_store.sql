-- Direct messages: the public key directory and ciphertext waiting for offline friends.
-- The authority never holds DM plaintext: envelopes are NaCl boxes it cannot open.

CREATE TABLE identity_keys (
  user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  key_id      TEXT NOT NULL,
  box_pk      TEXT NOT NULL,
  sign_pk     TEXT NOT NULL,
  signature   TEXT NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE stored_dms (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  to_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  from_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  envelope    TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX stored_dms_to ON stored_dms(to_id, id);
