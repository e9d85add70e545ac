/** Rooms: listing, access requests and their decisions, posting, history and resume. */
import {
  isCleanText,
  LIMITS,
  type RoomInfo,
  type RoomMessage,
} from '../../../shared/protocol/index.js';
import type { Connection } from '../connection.js';
import { DEFERRED, fail, isRow, ok, type Actor, type Handler, type Outcome, type Services } from '../context.js';
import type { MessageRow, RoomRow, UserRow } from '../store/index.js';

function toWire(roomName: string, m: MessageRow): RoomMessage {
  return { room: roomName, seq: m.seq, clientId: m.client_id, author: m.author_name, text: m.text, ts: m.ts };
}

/** Admins read and post everywhere; others where they are members. */
export function canRead(s: Services, c: Connection, room: RoomRow): boolean {
  if (!c.user) return false;
  return c.user.admin || c.rooms.has(room.id) || s.store.rooms.isMember(c.user.id, room.id);
}

function needRoom(s: Services, name: string): RoomRow | Outcome<never> {
  return s.store.rooms.byName(name) ?? fail('UNKNOWN_ROOM', { message: `no room is named ${name}` });
}

export const listRooms: Handler<'listRooms'> = (s, c) => {
  const me = c.user!;
  const mine = s.store.rooms.roomIdsOf(me.id);
  const pending = s.store.rooms.pendingRoomIdsOf(me.id);
  const counts = s.store.rooms.memberCounts();
  const rooms: RoomInfo[] = s.store.rooms.all().map((r) => ({
    name: r.name,
    policy: r.policy,
    access: me.admin || mine.has(r.id) ? 'member' : pending.has(r.id) ? 'pending' : 'none',
    lastSeq: s.store.messages.lastSeqOf(r.id),
    members: counts.get(r.id) ?? 0,
  }));
  return ok({ rooms });
};

/** Makes a user a member and tells their live connections (used by open rooms, approvals, grants). */
export function grantMembership(s: Services, user: UserRow, room: RoomRow): void {
  s.store.rooms.addMember(user.id, room.id, s.now());
  for (const conn of s.hub.connectionsOf(user.id)) s.hub.subscribe(conn, room.id);
  s.hub.sendToUser(user.id, { ev: 'accessGranted', room: room.name });
}

export function revokeMembership(s: Services, user: UserRow, room: RoomRow): boolean {
  const removed = s.store.rooms.removeMember(user.id, room.id);
  if (user.is_admin !== 1) for (const conn of s.hub.connectionsOf(user.id)) s.hub.unsubscribe(conn, room.id);
  if (removed) s.hub.sendToUser(user.id, { ev: 'accessRevoked', room: room.name });
  return removed;
}

function pendingCountOf(s: Services, userId: number): number {
  return s.store.rooms.pendingRoomIdsOf(userId).size;
}

export const requestAccess: Handler<'requestAccess'> = (s, c, p) => {
  const me = c.user!;
  const room = needRoom(s, p.room);
  if (!isRow(room)) return room;
  if (me.admin || s.store.rooms.isMember(me.id, room.id)) return fail('ALREADY_MEMBER');
  const user = s.store.users.byId(me.id)!;
  if (room.policy === 'open') {
    grantMembership(s, user, room);
    return ok({ access: 'member' as const });
  }
  if (room.policy === 'closed') return fail('ROOM_CLOSED');
  const now = s.now();
  s.store.rooms.addRequest(me.id, room.id, now);
  const event = {
    ev: 'accessRequested',
    username: me.username,
    room: room.name,
    ts: now,
    pendingFromUser: pendingCountOf(s, me.id),
  };
  for (const admin of s.store.users.admins()) s.hub.sendToUser(admin.id, event);
  s.log.info('access_requested', { user: me.username, room: room.name });
  return ok({ access: 'pending' as const });
};

export function listAccessRequestsFor(s: Services) {
  const rows = s.store.rooms.allRequests();
  const perUser = new Map<number, number>();
  for (const r of rows) perUser.set(r.user_id, (perUser.get(r.user_id) ?? 0) + 1);
  return rows.map((r) => ({
    username: r.username,
    room: r.room,
    ts: r.created_at,
    pendingFromUser: perUser.get(r.user_id) ?? 0,
  }));
}

/** Approve or deny a pending request; the requester is told live. Shared by clients and the console. */
export function decideAccess(
  s: Services,
  actor: Actor,
  username: string,
  roomName: string,
  granted: boolean,
): Outcome<{ ok: true }> {
  const user = s.store.users.byName(username);
  if (!user) return fail('UNKNOWN_USER', { message: `no user is named ${username}` });
  const room = needRoom(s, roomName);
  if (!isRow(room)) return room;
  const had = s.store.rooms.removeRequest(user.id, room.id);
  if (!had) return fail('NO_SUCH_REQUEST', { message: `${user.username} has not asked for ${room.name}` });
  if (granted) grantMembership(s, user, room);
  s.hub.sendToUser(user.id, { ev: 'accessDecided', room: room.name, granted, by: actor.name });
  s.audit(actor, granted ? 'approve' : 'deny', user.username, `room: ${room.name}`);
  return ok({ ok: true as const });
}

export const approveAccess: Handler<'approveAccess'> = (s, c, p) =>
  decideAccess(s, { name: c.user!.username, origin: c.ip }, p.username, p.room, true);

export const denyAccess: Handler<'denyAccess'> = (s, c, p) =>
  decideAccess(s, { name: c.user!.username, origin: c.ip }, p.username, p.room, false);

export const listAccessRequests: Handler<'listAccessRequests'> = (s) => ok({ requests: listAccessRequestsFor(s) });

export const postMessage: Handler<'postMessage'> = (s, c, p, requestId) => {
  const me = c.user!;
  const room = needRoom(s, p.room);
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

export const fetchHistory: Handler<'fetchHistory'> = (s, c, p) => {
  const room = needRoom(s, p.room);
  if (!isRow(room)) return room;
  if (!canRead(s, c, room)) return fail('NOT_A_MEMBER');
  const limit = p.limit ?? LIMITS.defaultPageSize;
  const before = p.before ?? s.store.messages.lastSeqOf(room.id) + 1;
  const rows = s.store.messages.page(room.id, before, limit + 1);
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(1) : rows;
  return ok({ messages: page.map((m) => toWire(room.name, m)), hasMore });
};

export const syncRooms: Handler<'syncRooms'> = (s, c, p) => {
  const limit = p.limit ?? LIMITS.maxPageSize;
  const rooms = [];
  for (const [name, after] of Object.entries(p.cursors)) {
    const room = s.store.rooms.byName(name);
    if (!room || !canRead(s, c, room)) continue;
    const rows = s.store.messages.after(room.id, after, limit + 1);
    const hasMore = rows.length > limit;
    rooms.push({ room: room.name, messages: rows.slice(0, limit).map((m) => toWire(room.name, m)), hasMore });
  }
  return ok({ rooms });
};

export const listMembers: Handler<'listMembers'> = (s, c, p) => {
  const room = needRoom(s, p.room);
  if (!isRow(room)) return room;
  if (!canRead(s, c, room)) return fail('NOT_A_MEMBER');
  const members = s.store.rooms.membersOf(room.id).map((m) => ({
    username: m.username,
    online: s.hub.isOnline(m.user_id),
    admin: m.is_admin === 1,
  }));
  return ok({ members });
};
