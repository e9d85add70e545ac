-- Look-alike usernames (store/name-skeleton.ts): each name's confusable skeleton (Unicode TS #39),
-- indexed so that registration finds an existing name that looks the same. Not UNIQUE: a
-- database made before this step may already hold two look-alikes; both stay, no new one is made.
-- name_skeleton() is the TypeScript function, registered on the connection before migrating.

ALTER TABLE users ADD COLUMN name_skeleton TEXT;
UPDATE users SET name_skeleton = name_skeleton(username);
CREATE INDEX users_name_skeleton ON users (name_skeleton);
