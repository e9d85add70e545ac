import type Database from 'better-sqlite3';

export type RoomPolicyValue = 'open' | 'approval' | 'closed';

export interface RoomRow {
  id: number;
  name: string;
  policy: RoomPolicyValue;
  created_at: number;
}

export interface AccessRequestRow {
  user_id: number;
  username: string;
  room_id: number;
  room: string;
  created_at: number;
}

/** Where a page of access requests stopped. */
export interface RequestCursor {
  ts: number;
  userId: number;
  roomId: number;
}

/** The room every new account joins. */
export const DEFAULT_ROOM = 'Général';

/**
 * The key a room name is found by: SQLite's NOCASE folds ASCII letters only, and names are
 * stored NFC-normalised, so the same here ("Général" and "général" are one room).
 */
function nameKey(name: string): string {
  return name.normalize('NFC').replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

export class RoomRepo {
  private readonly q;
  /**
   * Rooms by name, as read from the database: every room message looks its room up, and that
   * query was a fifth of the authority's time per message. Filled only outside transactions (a
   * row read inside one could still roll back); emptied by every change to the rooms table.
   */
  private readonly byNameCache = new Map<string, RoomRow>();

  constructor(private readonly db: Database.Database) {
    this.q = {
      all: db.prepare<[], RoomRow>('SELECT * FROM rooms ORDER BY id'),
      byName: db.prepare<[string], RoomRow>('SELECT * FROM rooms WHERE name = ?'),
      insert: db.prepare<[string, string, number]>('INSERT INTO rooms (name, policy, created_at) VALUES (?, ?, ?)'),
      setPolicy: db.prepare<[string, number]>('UPDATE rooms SET policy = ? WHERE id = ?'),
      isMember: db.prepare<[number, number], { one: number }>(
        'SELECT 1 AS one FROM memberships WHERE user_id = ? AND room_id = ?',
      ),
      addMember: db.prepare<[number, number, number]>(
        'INSERT OR IGNORE INTO memberships (user_id, room_id, joined_at) VALUES (?, ?, ?)',
      ),
      removeMember: db.prepare<[number, number]>('DELETE FROM memberships WHERE user_id = ? AND room_id = ?'),
      roomsOf: db.prepare<[number], { room_id: number }>('SELECT room_id FROM memberships WHERE user_id = ?'),
      memberCounts: db.prepare<[], { room_id: number; n: number }>(
        'SELECT room_id, COUNT(*) AS n FROM memberships GROUP BY room_id',
      ),
      addRequest: db.prepare<[number, number, number]>(
        'INSERT OR IGNORE INTO access_requests (user_id, room_id, created_at) VALUES (?, ?, ?)',
      ),
      removeRequest: db.prepare<[number, number]>('DELETE FROM access_requests WHERE user_id = ? AND room_id = ?'),
      requestsOf: db.prepare<[number], { room_id: number }>('SELECT room_id FROM access_requests WHERE user_id = ?'),
      membersPage: db.prepare<[number, string, number], { user_id: number; username: string; is_admin: number }>(
        `SELECT u.id AS user_id, u.username, u.is_admin FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.room_id = ? AND u.username > ? ORDER BY u.username LIMIT ?`,
      ),
      requestsPage: db.prepare<[number, number, number, number], AccessRequestRow & { pending: number }>(
        `SELECT r.user_id, u.username, r.room_id, o.name AS room, r.created_at,
                (SELECT COUNT(*) FROM access_requests x WHERE x.user_id = r.user_id) AS pending
         FROM access_requests r JOIN users u ON u.id = r.user_id JOIN rooms o ON o.id = r.room_id
         WHERE (r.created_at, r.user_id, r.room_id) > (?, ?, ?)
         ORDER BY r.created_at, r.user_id, r.room_id LIMIT ?`,
      ),
      allRequests: db.prepare<[], AccessRequestRow>(
        `SELECT r.user_id, u.username, r.room_id, o.name AS room, r.created_at
         FROM access_requests r JOIN users u ON u.id = r.user_id JOIN rooms o ON o.id = r.room_id
         ORDER BY r.created_at, u.username`,
      ),
    };
  }

  all(): RoomRow[] {
    return this.q.all.all();
  }

  byName(name: string): RoomRow | undefined {
    const key = nameKey(name);
    const cached = this.byNameCache.get(key);
    if (cached) return { ...cached };
    const row = this.q.byName.get(name.normalize('NFC'));
    if (row && !this.db.inTransaction) this.byNameCache.set(key, { ...row });
    return row;
  }

  create(name: string, policy: RoomPolicyValue, now: number): RoomRow {
    this.byNameCache.clear();
    this.q.insert.run(name.normalize('NFC'), policy, now);
    const row = this.byName(name);
    if (!row) throw new Error('room vanished after insert');
    return row;
  }

  setPolicy(roomId: number, policy: RoomPolicyValue): void {
    this.byNameCache.clear();
    this.q.setPolicy.run(policy, roomId);
  }

  isMember(userId: number, roomId: number): boolean {
    return this.q.isMember.get(userId, roomId) !== undefined;
  }

  /** Adds the membership and clears any pending request for it, atomically. */
  addMember(userId: number, roomId: number, now: number): void {
    this.db.transaction(() => {
      this.q.addMember.run(userId, roomId, now);
      this.q.removeRequest.run(userId, roomId);
    })();
  }

  removeMember(userId: number, roomId: number): boolean {
    return this.q.removeMember.run(userId, roomId).changes > 0;
  }

  roomIdsOf(userId: number): Set<number> {
    return new Set(this.q.roomsOf.all(userId).map((r) => r.room_id));
  }

  /** Up to `limit` members whose name sorts after `after` (names compare without case). */
  membersPage(roomId: number, after: string, limit: number): { user_id: number; username: string; is_admin: number }[] {
    return this.q.membersPage.all(roomId, after, limit);
  }

  /** Up to `limit` pending requests after the one at `after`, oldest first, each with its user's pending count. */
  requestsPage(after: RequestCursor | null, limit: number): (AccessRequestRow & { pending: number })[] {
    return this.q.requestsPage.all(after?.ts ?? -1, after?.userId ?? -1, after?.roomId ?? -1, limit);
  }

  memberCounts(): Map<number, number> {
    return new Map(this.q.memberCounts.all().map((r) => [r.room_id, r.n]));
  }

  addRequest(userId: number, roomId: number, now: number): void {
    this.q.addRequest.run(userId, roomId, now);
  }

  removeRequest(userId: number, roomId: number): boolean {
    return this.q.removeRequest.run(userId, roomId).changes > 0;
  }

  pendingRoomIdsOf(userId: number): Set<number> {
    return new Set(this.q.requestsOf.all(userId).map((r) => r.room_id));
  }

  allRequests(): AccessRequestRow[] {
    return this.q.allRequests.all();
  }
}
