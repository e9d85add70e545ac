-- CHandler authority schema, version 1, and the five default rooms.
-- Later changes go in db/migrations/NNN_name.sql; PRAGMA user_version holds the number applied.

CREATE TABLE users (
  id                   INTEGER PRIMARY KEY,
  username             TEXT NOT NULL UNIQUE COLLATE NOCASE,
  pass_hash            TEXT NOT NULL,
  is_admin             INTEGER NOT NULL DEFAULT 0,
  must_change_password INTEGER NOT NULL DEFAULT 0,
  created_at           INTEGER NOT NULL,
  banned_at            INTEGER,
  ban_reason           TEXT,
  kicked_until         INTEGER
);

CREATE TABLE sessions (
  token_hash  TEXT PRIMARY KEY,           -- SHA-256 of the token: a stolen database opens no session
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  last_seen   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE rooms (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
  policy      TEXT NOT NULL CHECK (policy IN ('open', 'approval', 'closed')),
  created_at  INTEGER NOT NULL
);

CREATE TABLE memberships (
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  room_id     INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  joined_at   INTEGER NOT NULL,
  PRIMARY KEY (user_id, room_id)
) WITHOUT ROWID;
CREATE INDEX memberships_room ON memberships(room_id);

CREATE TABLE access_requests (
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  room_id     INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (user_id, room_id)
) WITHOUT ROWID;

CREATE TABLE messages (
  room_id     INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  author_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
  author_name TEXT NOT NULL,
  client_id   TEXT NOT NULL,
  text        TEXT NOT NULL,
  ts          INTEGER NOT NULL,
  PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;
-- A resend of the same client id by the same author is the same message.
CREATE UNIQUE INDEX messages_dedupe ON messages(author_id, client_id);

CREATE TABLE friend_requests (
  from_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  to_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (from_id, to_id)
) WITHOUT ROWID;
CREATE INDEX friend_requests_to ON friend_requests(to_id);

-- One row per friendship, the lower user id first.
CREATE TABLE friendships (
  lo_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  hi_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (lo_id, hi_id),
  CHECK (lo_id < hi_id)
) WITHOUT ROWID;
CREATE INDEX friendships_hi ON friendships(hi_id);

-- Every address an account logged in or registered from: a ban blocks them all (seed).
CREATE TABLE user_ips (
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  ip          TEXT NOT NULL,
  last_seen   INTEGER NOT NULL,
  PRIMARY KEY (user_id, ip)
) WITHOUT ROWID;

CREATE TABLE ip_bans (
  ip          TEXT PRIMARY KEY,
  user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
  created_at  INTEGER NOT NULL
);

INSERT INTO rooms (name, policy, created_at) VALUES
  ('Général',      'open',     0),
  ('Blabla',       'open',     0),
  ('Comptabilité', 'approval', 0),
  ('Informatique', 'approval', 0),
  ('Marketing',    'approval', 0);
