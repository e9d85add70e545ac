-- A user's own room messages in (room, seq) order, a page at a time: the data export reads them
-- in bounded pages (handlers/privacy.ts) instead of all at once.
CREATE INDEX messages_by_author ON messages (author_id, room_id, seq);
