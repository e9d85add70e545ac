import type Database from 'better-sqlite3';

export interface UserExport {
  account: { username: string; admin: boolean; createdAt: number; banned: boolean; kickedUntil: number | null };
  rooms: { room: string; joinedAt: number }[];
  pendingAccessRequests: { room: string; requestedAt: number }[];
  friends: { username: string; since: number }[];
  friendRequests: { from: string; to: string; at: number }[];
  addresses: { ip: string; lastSeen: number }[];
  sessions: { createdAt: number; lastSeen: number }[];
  publicIdentity: { keyId: string; boxPublicKey: string; signPublicKey: string; updatedAt: number } | null;
  /** Ciphertext waiting for this user: the authority cannot read it, so only the count is theirs to see here. */
  waitingDirectMessages: number;
  /** The sealed identity kept for the user's devices: which key, since when (its ciphertext opens only with the password). */
  identityBackup: { keyId: string; updatedAt: number } | null;
  /** The devices the user's DM engines named (helloDevice). */
  devices: { name: string; createdAt: number; lastSeen: number }[];
  roomMessages: ExportedMessage[];
}

export interface ExportedMessage {
  room: string;
  seq: number;
  text: string;
  ts: number;
}

/** Where a page of a user's messages stopped: the next page starts after it. */
export interface MessageCursor {
  roomId: number;
  seq: number;
}

/**
 * The personal data the authority holds about one user (GDPR access), and its erasure.
 * Erasure policy: the account, its sessions, memberships, requests, friendships, keys, stored
 * ciphertext and recorded addresses are deleted; the user's room messages are deleted too
 * (their sequence numbers stay as gaps). The audit log keeps the username of past admin
 * actions, as the record of what admins did must stay tamper-evident.
 */
export class PrivacyRepo {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      user: db.prepare<[number], { username: string; is_admin: number; created_at: number; banned_at: number | null; kicked_until: number | null }>(
        'SELECT username, is_admin, created_at, banned_at, kicked_until FROM users WHERE id = ?',
      ),
      rooms: db.prepare<[number], { room: string; joined_at: number }>(
        'SELECT r.name AS room, m.joined_at FROM memberships m JOIN rooms r ON r.id = m.room_id WHERE m.user_id = ? ORDER BY r.id',
      ),
      requests: db.prepare<[number], { room: string; created_at: number }>(
        'SELECT r.name AS room, a.created_at FROM access_requests a JOIN rooms r ON r.id = a.room_id WHERE a.user_id = ?',
      ),
      friends: db.prepare<[{ uid: number }], { username: string; created_at: number }>(
        `SELECT u.username, f.created_at FROM friendships f
         JOIN users u ON u.id = CASE WHEN f.lo_id = @uid THEN f.hi_id ELSE f.lo_id END
         WHERE f.lo_id = @uid OR f.hi_id = @uid ORDER BY u.username`,
      ),
      friendRequests: db.prepare<[{ uid: number }], { from_name: string; to_name: string; created_at: number }>(
        `SELECT a.username AS from_name, b.username AS to_name, r.created_at FROM friend_requests r
         JOIN users a ON a.id = r.from_id JOIN users b ON b.id = r.to_id WHERE r.from_id = @uid OR r.to_id = @uid`,
      ),
      ips: db.prepare<[number], { ip: string; last_seen: number }>('SELECT ip, last_seen FROM user_ips WHERE user_id = ?'),
      sessions: db.prepare<[number], { created_at: number; last_seen: number }>(
        'SELECT created_at, last_seen FROM sessions WHERE user_id = ?',
      ),
      keys: db.prepare<[number], { key_id: string; box_pk: string; sign_pk: string; updated_at: number }>(
        'SELECT key_id, box_pk, sign_pk, updated_at FROM identity_keys WHERE user_id = ?',
      ),
      devices: db.prepare<[number], { name: string; created_at: number; last_seen: number }>(
        'SELECT name, created_at, last_seen FROM devices WHERE user_id = ? ORDER BY created_at',
      ),
      backup: db.prepare<[number], { key_id: string; updated_at: number }>('SELECT key_id, updated_at FROM identity_backups WHERE user_id = ?'),
      waiting: db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM stored_dms WHERE to_id = ?'),
      messagesPage: db.prepare<[number, number, number, number], ExportedMessage & { room_id: number }>(
        `SELECT r.name AS room, m.room_id, m.seq, m.text, m.ts FROM messages m JOIN rooms r ON r.id = m.room_id
         WHERE m.author_id = ? AND (m.room_id, m.seq) > (?, ?) ORDER BY m.room_id, m.seq LIMIT ?`,
      ),
      deleteMessages: db.prepare<[number]>('DELETE FROM messages WHERE author_id = ?'),
      deleteUser: db.prepare<[number]>('DELETE FROM users WHERE id = ?'),
      unlinkIpBans: db.prepare<[number]>('UPDATE ip_bans SET user_id = NULL WHERE user_id = ?'),
    };
  }

  /** Everything but the room messages, which messagesPage reads a page at a time. */
  exportUser(userId: number): Omit<UserExport, 'roomMessages'> | null {
    const u = this.q.user.get(userId);
    if (!u) return null;
    const keys = this.q.keys.get(userId);
    const backup = this.q.backup.get(userId);
    return {
      account: {
        username: u.username,
        admin: u.is_admin === 1,
        createdAt: u.created_at,
        banned: u.banned_at !== null,
        kickedUntil: u.kicked_until,
      },
      rooms: this.q.rooms.all(userId).map((r) => ({ room: r.room, joinedAt: r.joined_at })),
      pendingAccessRequests: this.q.requests.all(userId).map((r) => ({ room: r.room, requestedAt: r.created_at })),
      friends: this.q.friends.all({ uid: userId }).map((f) => ({ username: f.username, since: f.created_at })),
      friendRequests: this.q.friendRequests.all({ uid: userId }).map((r) => ({ from: r.from_name, to: r.to_name, at: r.created_at })),
      addresses: this.q.ips.all(userId).map((r) => ({ ip: r.ip, lastSeen: r.last_seen })),
      sessions: this.q.sessions.all(userId).map((s) => ({ createdAt: s.created_at, lastSeen: s.last_seen })),
      publicIdentity: keys
        ? { keyId: keys.key_id, boxPublicKey: keys.box_pk, signPublicKey: keys.sign_pk, updatedAt: keys.updated_at }
        : null,
      waitingDirectMessages: this.q.waiting.get(userId)?.n ?? 0,
      identityBackup: backup ? { keyId: backup.key_id, updatedAt: backup.updated_at } : null,
      devices: this.q.devices.all(userId).map((d) => ({ name: d.name, createdAt: d.created_at, lastSeen: d.last_seen })),
    };
  }

  /** Up to `limit` of the user's room messages after `after`, by room then sequence. */
  messagesPage(userId: number, after: MessageCursor | null, limit: number): { messages: ExportedMessage[]; next: MessageCursor | null } {
    const rows = this.q.messagesPage.all(userId, after?.roomId ?? -1, after?.seq ?? -1, limit);
    const last = rows.at(-1);
    return {
      messages: rows.map(({ room, seq, text, ts }) => ({ room, seq, text, ts })),
      next: rows.length === limit && last ? { roomId: last.room_id, seq: last.seq } : null,
    };
  }

  /**
   * Erases the user (see the policy above) in one transaction. An IP ban made because of this
   * account stays in force (it protects the others) but no longer points at the account.
   * Returns the number of room messages deleted.
   */
  deleteUser(userId: number): number {
    return this.db.transaction(() => {
      const n = this.q.deleteMessages.run(userId).changes;
      this.q.unlinkIpBans.run(userId);
      this.q.deleteUser.run(userId); // ON DELETE CASCADE removes the rest
      return n;
    })();
  }
}
