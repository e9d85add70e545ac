-- Issue 13 §2: one identity per user on every device. The identity's secret keys, sealed on the
-- client under a random backup key, which is itself sealed under a key derived from OPAQUE's
-- export key (shared/crypto/identity-backup.ts): the authority holds ciphertext it cannot open.
-- key_id names the identity inside, so that two devices making one at once do not overwrite
-- each other (putIdentityBackup replaces only the backup the client read). Erased with the account.
CREATE TABLE identity_backups (
  user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  key_id      TEXT NOT NULL,
  wrap        TEXT NOT NULL,
  sealed      TEXT NOT NULL,
  updated_at  INTEGER NOT NULL
);
