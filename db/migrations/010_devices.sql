-- Issue 13 §2: a user's devices. Each DM engine names itself with a random id (not a secret) at
-- every session start (helloDevice): the user sees and revokes them, and a stored envelope is
-- kept until each of the user's devices has it (stored_dm_acks), not only the first.
CREATE TABLE devices (
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  device_id   TEXT NOT NULL,
  name        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  last_seen   INTEGER NOT NULL,
  PRIMARY KEY (user_id, device_id)
);

-- Which device a session belongs to (set by helloDevice): revoking a device ends its sessions.
ALTER TABLE sessions ADD COLUMN device_id TEXT;

-- A stored envelope that some of the recipient's devices have: deleted with the envelope once all have it.
CREATE TABLE stored_dm_acks (
  dm_id       INTEGER NOT NULL REFERENCES stored_dms(id) ON DELETE CASCADE,
  device_id   TEXT NOT NULL,
  PRIMARY KEY (dm_id, device_id)
);
