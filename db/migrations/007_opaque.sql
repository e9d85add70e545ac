-- Issue 13: passwords never reach the authority (OPAQUE, RFC 9807).
-- opaque_record: the account's registration record (the client's envelope and public key; with
--   the authority's OPAQUE key, an offline guess costs one run of the key stretching below).
-- opaque_ksf: the key stretching (Argon2id) parameters the record was made with, as JSON: the
--   client needs the same at every login, and the server's default may change later.
-- pass_hash: '' once the account has a record (the scrypt hash of before is deleted); accounts
--   made before this version keep theirs until their next login, which migrates them.
-- reset_code_hash / reset_expires: an admin's reset (/change_password) leaves a one-time code
--   (its SHA-256 only) with which the user registers a new record before it expires.
ALTER TABLE users ADD COLUMN opaque_record TEXT;
ALTER TABLE users ADD COLUMN opaque_ksf TEXT;
ALTER TABLE users ADD COLUMN reset_code_hash TEXT;
ALTER TABLE users ADD COLUMN reset_expires INTEGER;
