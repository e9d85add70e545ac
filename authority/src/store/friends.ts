import type Database from 'better-sqlite3';

export interface FriendLink {
  user_id: number;
  username: string;
  state: 'friends' | 'incoming' | 'outgoing';
}

function ordered(a: number, b: number): [number, number] {
  return a < b ? [a, b] : [b, a];
}

/** Everyone linked to @uid: friends, and friend requests both ways, each with its state. */
const LINKS_OF = `
  SELECT u.id AS user_id, u.username, 'friends' AS state FROM friendships f
    JOIN users u ON u.id = CASE WHEN f.lo_id = @uid THEN f.hi_id ELSE f.lo_id END
    WHERE f.lo_id = @uid OR f.hi_id = @uid
  UNION ALL
  SELECT u.id, u.username, 'incoming' FROM friend_requests r JOIN users u ON u.id = r.from_id WHERE r.to_id = @uid
  UNION ALL
  SELECT u.id, u.username, 'outgoing' FROM friend_requests r JOIN users u ON u.id = r.to_id WHERE r.from_id = @uid`;

export class FriendRepo {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      addRequest: db.prepare<[number, number, number]>(
        'INSERT OR IGNORE INTO friend_requests (from_id, to_id, created_at) VALUES (?, ?, ?)',
      ),
      hasRequest: db.prepare<[number, number], { one: number }>(
        'SELECT 1 AS one FROM friend_requests WHERE from_id = ? AND to_id = ?',
      ),
      removeRequest: db.prepare<[number, number]>('DELETE FROM friend_requests WHERE from_id = ? AND to_id = ?'),
      addFriendship: db.prepare<[number, number, number]>(
        'INSERT OR IGNORE INTO friendships (lo_id, hi_id, created_at) VALUES (?, ?, ?)',
      ),
      areFriends: db.prepare<[number, number], { one: number }>(
        'SELECT 1 AS one FROM friendships WHERE lo_id = ? AND hi_id = ?',
      ),
      removeFriendship: db.prepare<[number, number]>('DELETE FROM friendships WHERE lo_id = ? AND hi_id = ?'),
      links: db.prepare<[{ uid: number }], FriendLink>(`SELECT * FROM (${LINKS_OF}) ORDER BY username COLLATE NOCASE`),
      linksPage: db.prepare<[{ uid: number; after: string; limit: number }], FriendLink>(
        `SELECT * FROM (${LINKS_OF}) WHERE username > @after COLLATE NOCASE ORDER BY username COLLATE NOCASE LIMIT @limit`,
      ),
      friendIds: db.prepare<[{ uid: number }], { id: number }>(
        'SELECT CASE WHEN lo_id = @uid THEN hi_id ELSE lo_id END AS id FROM friendships WHERE lo_id = @uid OR hi_id = @uid',
      ),
    };
  }

  hasRequest(fromId: number, toId: number): boolean {
    return this.q.hasRequest.get(fromId, toId) !== undefined;
  }

  addRequest(fromId: number, toId: number, now: number): void {
    this.q.addRequest.run(fromId, toId, now);
  }

  removeRequest(fromId: number, toId: number): boolean {
    return this.q.removeRequest.run(fromId, toId).changes > 0;
  }

  areFriends(a: number, b: number): boolean {
    return this.q.areFriends.get(...ordered(a, b)) !== undefined;
  }

  /** Makes the friendship and clears requests either way, atomically. */
  befriend(a: number, b: number, now: number): void {
    this.db.transaction(() => {
      this.q.addFriendship.run(...ordered(a, b), now);
      this.q.removeRequest.run(a, b);
      this.q.removeRequest.run(b, a);
    })();
  }

  unfriend(a: number, b: number): boolean {
    return this.db.transaction(() => {
      const removed = this.q.removeFriendship.run(...ordered(a, b)).changes > 0;
      const r1 = this.q.removeRequest.run(a, b).changes > 0;
      const r2 = this.q.removeRequest.run(b, a).changes > 0;
      return removed || r1 || r2;
    })();
  }

  linksOf(userId: number): FriendLink[] {
    return this.q.links.all({ uid: userId });
  }

  /** Up to `limit` of linksOf, those whose name sorts after `after` (names compare without case). */
  linksPage(userId: number, after: string, limit: number): FriendLink[] {
    return this.q.linksPage.all({ uid: userId, after, limit });
  }

  friendIdsOf(userId: number): number[] {
    return this.q.friendIds.all({ uid: userId }).map((r) => r.id);
  }
}
