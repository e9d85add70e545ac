/**
 * Rooms as a member sees them: listing, asking for access, posting, history and resume.
 * (An admin's decisions on rooms are handlers/admin-rooms.ts.)
 */
import { fail, isCleanText, LIMITS, ok, type RoomInfo, type RoomMessage } from '../../../shared/protocol/index.js';
import type { Connection } from '../connection.js';
import { DEFERRED, isRow, type Handler, type Services } from '../context.js';
import { findRoom, onePage } from '../lookup.js';
import { grantMembership } from '../membership.js';
import type { RoomRow } from '../store/index.js';
import { roomMessage } from '../wire.js';

/** Admins read and post everywhere; others where they are members. */
export function canRead(s: Services, c: Connection, room: RoomRow): boolean {
  if (!c.user) return false;
  return c.user.admin || c.rooms.has(room.id) || s.store.rooms.isMember(c.user.id, room.id);
}

/**
 * The room by name, as this user may know it: a closed room (by invitation only) exists only
 * for its members and the admins; to anyone else it is UNKNOWN_ROOM, like a room that does
 * not exist, so that its name, members and activity are not learnt by asking.
 */
export function findVisibleRoom(s: Services, c: Connection, name: string): ReturnType<typeof findRoom> {
  const room = findRoom(s, name);
  if (isRow(room) && room.policy === 'closed' && !canRead(s, c, room)) {
    return fail('UNKNOWN_ROOM', { message: `no room is named ${name}` });
  }
  return room;
}

export const listRooms: Handler<'listRooms'> = (s, c) => {
  const me = c.user!;
  const mine = s.store.rooms.roomIdsOf(me.id);
  const pending = s.store.rooms.pendingRoomIdsOf(me.id);
  const counts = s.store.rooms.memberCounts();
  const visible = s.store.rooms.all().filter((r) => r.policy !== 'closed' || me.admin || mine.has(r.id));
  const rooms: RoomInfo[] = visible.map((r) => ({
    name: r.name,
    policy: r.policy,
    access: me.admin || mine.has(r.id) ? 'member' : pending.has(r.id) ? 'pending' : 'none',
    lastSeq: s.store.messages.lastSeqOf(r.id),
    members: counts.get(r.id) ?? 0,
  }));
  return ok({ rooms });
};

function pendingCountOf(s: Services, userId: number): number {
  return s.store.rooms.pendingRoomIdsOf(userId).size;
}

export const requestAccess: Handler<'requestAccess'> = (s, c, p) => {
  const me = c.user!;
  const room = findVisibleRoom(s, c, p.room);
  if (!isRow(room)) return room;
  if (me.admin || s.store.rooms.isMember(me.id, room.id)) return fail('ALREADY_MEMBER');
  const user = s.store.users.byId(me.id)!;
  if (room.policy === 'open') {
    grantMembership(s, user, room);
    return ok({ access: 'member' as const });
  }
  // Asking again while the request waits changes nothing and notifies nobody.
  if (s.store.rooms.pendingRoomIdsOf(me.id).has(room.id)) return ok({ access: 'pending' as const });
  const now = s.now();
  const rate = s.throttles.requestsPerUser.take(me.id, now);
  if (!rate.ok) return fail('RATE_LIMITED', { until: rate.until });
  s.store.rooms.addRequest(me.id, room.id, now);
  const event = { username: me.username, room: room.name, ts: now, pendingFromUser: pendingCountOf(s, me.id) };
  for (const admin of s.store.users.admins()) s.hub.sendToUser(admin.id, 'accessRequested', event);
  s.log.info('access_requested', { user: me.username, room: room.name });
  return ok({ access: 'pending' as const });
};

export const postMessage: Handler<'postMessage'> = (s, c, p, requestId) => {
  const me = c.user!;
  const room = findVisibleRoom(s, c, p.room);
  if (!isRow(room)) return room;
  if (!canRead(s, c, room)) return fail('NOT_A_MEMBER');
  const text = p.text.normalize('NFC');
  if ([...text].length > LIMITS.maxMessageChars) {
    return fail('TEXT_TOO_LONG', { message: `messages are at most ${LIMITS.maxMessageChars} characters` });
  }
  if (!isCleanText(text)) return fail('INVALID_TEXT');
  const rate = s.throttles.messagesPerUser.take(me.id, s.now());
  if (!rate.ok) {
    // A resend of a stored message is answered even when the sender is over its rate. Otherwise
    // resends are found by the store's unique index as they are inserted (no lookup per message).
    const existing = s.store.messages.byClientId(me.id, p.clientId);
    if (existing) return ok({ seq: existing.seq, ts: existing.ts, duplicate: true });
    return fail('RATE_LIMITED', { until: rate.until });
  }
  s.committer.enqueue({
    msg: { roomId: room.id, authorId: me.id, authorName: me.username, clientId: p.clientId, text, ts: s.now() },
    roomName: room.name,
    conn: c,
    requestId,
  });
  return DEFERRED;
};

/**
 * A message's JSON, serialised once: measured against the byte budget, then joined into the
 * reply as it is (serialising a 256 KiB reply twice was half of what building it cost).
 */
function messageJson(roomName: string, row: Parameters<typeof roomMessage>[1]): { json: string; bytes: number } {
  const m: RoomMessage = roomMessage(roomName, row);
  const json = JSON.stringify(m);
  return { json, bytes: Buffer.byteLength(json) + 1 };
}

/** RATE_LIMITED when the user's read budget (config limits.readBytesPerSecond) is spent; null when they may read. */
function readBudgetSpent(s: Services, c: Connection) {
  const admitted = s.throttles.readBytesPerUser.admit(c.user!.id, s.now());
  return admitted.ok ? null : fail('RATE_LIMITED', { until: admitted.until, message: 'reading history too fast, try again shortly' });
}

/** A refused turn's retry time: the waiting turns of one user are served within a few loop turns each. */
const TURN_RETRY_MS = 250;

/**
 * Waits for the user's turn to build a large reply (read-turns.ts), and for the connection's send
 * queue to have room for one (a turn taken while it had none is given back, and taken again once
 * it drained); a refusal when the user already waits for as many as allowed, or when the
 * connection ended meanwhile. Everything the reply depends on (access, the read budget) is
 * checked after it.
 */
async function readTurn(s: Services, c: Connection) {
  const user = c.user!.id;
  for (;;) {
    const turn = s.readTurns.take(user);
    if (!turn) return fail('RATE_LIMITED', { until: s.now() + TURN_RETRY_MS, message: 'too many reads waiting, try again shortly' });
    await turn;
    // The session may have ended while the turn came (a logout on this connection, a kick).
    if (c.closed || c.user?.id !== user) return fail('INVALID_SESSION');
    if (s.isShuttingDown()) return fail('SHUTTING_DOWN');
    if (c.hasRoomFor(LIMITS.maxReplyBytes)) return null;
    const release = s.readTurns.hold(user);
    try {
      await c.whenRoomFor(LIMITS.maxReplyBytes);
    } finally {
      release();
    }
  }
}

export const fetchHistory: Handler<'fetchHistory'> = async (s, c, p, requestId) => {
  const waited = await readTurn(s, c);
  if (waited) return waited;
  const room = findVisibleRoom(s, c, p.room);
  if (!isRow(room)) return room;
  if (!canRead(s, c, room)) return fail('NOT_A_MEMBER');
  const spent = readBudgetSpent(s, c);
  if (spent) return spent;
  const limit = p.limit ?? LIMITS.defaultPageSize;
  const before = p.before ?? s.store.messages.lastSeqOf(room.id) + 1;
  // Newest first, row by row, until the page or the byte budget is full.
  const page: string[] = [];
  let bytes = 0;
  let hasMore = false;
  for (const row of s.store.messages.iterateBefore(room.id, before, limit + 1)) {
    const m = messageJson(room.name, row);
    if (page.length === limit || (page.length > 0 && bytes + m.bytes > LIMITS.maxReplyBytes)) {
      hasMore = true;
      break;
    }
    page.push(m.json);
    bytes += m.bytes;
  }
  s.throttles.readBytesPerUser.spend(c.user!.id, bytes, s.now());
  // Result<'fetchHistory'>: { messages, hasMore }, oldest first.
  c.replyJson(requestId, `{"messages":[${page.reverse().join(',')}],"hasMore":${hasMore}}`);
  return DEFERRED;
};

/**
 * What a client missed, per room, within one byte budget for the whole reply: the room where
 * the budget runs out and every room after it answer hasMore (the client asks again from its
 * new cursors). Two cursors naming one room (names match without case, in NFC) refuse the
 * request before anything is read.
 */
export const syncRooms: Handler<'syncRooms'> = async (s, c, p, requestId) => {
  const waited = await readTurn(s, c);
  if (waited) return waited;
  const spent = readBudgetSpent(s, c);
  if (spent) return spent;
  const limit = p.limit ?? LIMITS.maxPageSize;
  const wanted: { room: RoomRow; after: number }[] = [];
  const seen = new Set<number>();
  for (const [name, after] of Object.entries(p.cursors)) {
    const room = s.store.rooms.byName(name);
    if (!room) continue;
    if (seen.has(room.id)) return fail('DUPLICATE_ROOM', { message: `${name} names ${room.name} again` });
    seen.add(room.id);
    if (canRead(s, c, room)) wanted.push({ room, after });
  }
  const rooms: string[] = [];
  let bytes = 0;
  let full = false;
  for (const { room, after } of wanted) {
    const messages: string[] = [];
    let hasMore = s.store.messages.lastSeqOf(room.id) > after;
    if (!full && hasMore) {
      hasMore = false;
      for (const row of s.store.messages.iterateAfter(room.id, after, limit + 1)) {
        const m = messageJson(room.name, row);
        if (messages.length === limit) {
          hasMore = true;
          break;
        }
        if (bytes + m.bytes > LIMITS.maxReplyBytes && bytes > 0) {
          hasMore = true;
          full = true;
          break;
        }
        messages.push(m.json);
        bytes += m.bytes;
      }
    }
    rooms.push(`{"room":${JSON.stringify(room.name)},"messages":[${messages.join(',')}],"hasMore":${hasMore}}`);
  }
  s.throttles.readBytesPerUser.spend(c.user!.id, bytes, s.now());
  // Result<'syncRooms'>: { rooms: [{ room, messages, hasMore }] }.
  c.replyJson(requestId, `{"rooms":[${rooms.join(',')}]}`);
  return DEFERRED;
};

/** A room's members a page at a time, by name; `next` is the last name of a full page. */
export const listMembers: Handler<'listMembers'> = (s, c, p) => {
  const room = findVisibleRoom(s, c, p.room);
  if (!isRow(room)) return room;
  if (!canRead(s, c, room)) return fail('NOT_A_MEMBER');
  const { items, next } = onePage(s.store.rooms.membersPage(room.id, p.after ?? '', LIMITS.listPageSize + 1), (m) => m.username);
  const members = items.map((m) => ({ username: m.username, online: s.hub.isOnline(m.user_id), admin: m.is_admin === 1 }));
  return ok({ members, next });
};
