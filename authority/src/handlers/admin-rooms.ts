/**
 * An admin's decisions on rooms: create one, grant or revoke a membership, approve or deny a
 * pending access request. Each operation is shared by the console, the control socket and the
 * admin requests of clients (the handlers at the end), and each is audited.
 */
import { fail, LIMITS, ok, RoomName, RoomPolicy, type ErrorCode, type Outcome } from '../../../shared/protocol/index.js';
import { acknowledged, actorOf, isRow, type Actor, type Handler, type Services } from '../context.js';
import { findUserAndRoom, onePage } from '../lookup.js';
import type { RequestCursor } from '../store/rooms.js';
import { grantMembership, revokeMembership } from '../membership.js';

export const POLICIES = RoomPolicy.options;

/** An operation on one user and one room; it answers with both names as stored. */
export type UserRoomOperation = (
  s: Services,
  actor: Actor,
  username: string,
  roomName: string,
) => Outcome<{ user: string; room: string }, ErrorCode>;

export function createRoom(
  s: Services,
  actor: Actor,
  rawName: string,
  rawPolicy: string,
): Outcome<{ room: string; policy: string }, ErrorCode> {
  const name = RoomName.safeParse(rawName.normalize('NFC'));
  if (!name.success) return fail('INVALID_NAME', { message: 'room names are 1 to 48 characters, no control characters, no outer spaces' });
  const policy = RoomPolicy.safeParse(rawPolicy);
  if (!policy.success) return fail('BAD_REQUEST', { message: `the policy is one of ${POLICIES.join(', ')}` });
  if (s.store.rooms.byName(name.data)) return fail('ROOM_EXISTS', { message: `a room named ${name.data} exists` });
  const room = s.store.rooms.create(name.data, policy.data, s.now());
  for (const c of s.hub.connections) {
    if (!c.user || c.state !== 'authenticated') continue;
    if (c.user.admin) s.hub.subscribe(c, room.id); // admins read every room
    // A closed room exists only for its members (none yet) and the admins.
    if (c.user.admin || room.policy !== 'closed') c.send('roomCreated', { room: room.name, policy: room.policy });
  }
  s.audit(actor, 'create_room', room.name, `policy: ${room.policy}`);
  return ok({ room: room.name, policy: room.policy });
}

/** Makes a user a member without a request (an invitation, for closed rooms). */
export const grantRoom: UserRoomOperation = (s, actor, username, roomName) => {
  const found = findUserAndRoom(s, username, roomName);
  if (!isRow(found)) return found;
  const { user, room } = found;
  if (s.store.rooms.isMember(user.id, room.id)) {
    return fail('ALREADY_MEMBER', { message: `${user.username} is already a member of ${room.name}` });
  }
  grantMembership(s, user, room);
  s.audit(actor, 'grant', user.username, `room: ${room.name}`);
  return ok({ user: user.username, room: room.name });
};

export const revokeRoom: UserRoomOperation = (s, actor, username, roomName) => {
  const found = findUserAndRoom(s, username, roomName);
  if (!isRow(found)) return found;
  const { user, room } = found;
  if (!revokeMembership(s, user, room)) {
    return fail('NOT_A_MEMBER', { message: `${user.username} is not a member of ${room.name}` });
  }
  s.audit(actor, 'revoke', user.username, `room: ${room.name}`);
  return ok({ user: user.username, room: room.name });
};

/** Every pending access request, with how many each requester has pending in all. */
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

/** Approve or deny a pending request; the requester is told live. */
export function decideAccess(
  s: Services,
  actor: Actor,
  username: string,
  roomName: string,
  granted: boolean,
): Outcome<{ user: string; room: string }, ErrorCode> {
  const found = findUserAndRoom(s, username, roomName);
  if (!isRow(found)) return found;
  const { user, room } = found;
  const had = s.store.rooms.removeRequest(user.id, room.id);
  if (!had) return fail('NO_SUCH_REQUEST', { message: `${user.username} has not asked for ${room.name}` });
  if (granted) grantMembership(s, user, room);
  s.hub.sendToUser(user.id, 'accessDecided', { room: room.name, granted, by: actor.name });
  s.audit(actor, granted ? 'approve' : 'deny', user.username, `room: ${room.name}`);
  return ok({ user: user.username, room: room.name });
}

// ---------- the admin requests of clients ----------

/** The pending requests a page at a time, oldest first; the cursor is "ts.userId.roomId". */
export const listAccessRequests: Handler<'listAccessRequests'> = (s, _c, p) => {
  let after: RequestCursor | null = null;
  if (p.after !== undefined) {
    const at = /^(\d{1,15})\.(\d{1,15})\.(\d{1,15})$/.exec(p.after);
    if (!at) return fail('BAD_REQUEST', { message: 'after takes the next of a previous page' });
    after = { ts: Number(at[1]), userId: Number(at[2]), roomId: Number(at[3]) };
  }
  const rows = s.store.rooms.requestsPage(after, LIMITS.listPageSize + 1);
  const { items, next } = onePage(rows, (r) => `${r.created_at}.${r.user_id}.${r.room_id}`);
  const requests = items.map((r) => ({ username: r.username, room: r.room, ts: r.created_at, pendingFromUser: r.pending }));
  return ok({ requests, next });
};

export const approveAccess: Handler<'approveAccess'> = (s, c, p) => acknowledged(decideAccess(s, actorOf(c), p.username, p.room, true));

export const denyAccess: Handler<'denyAccess'> = (s, c, p) => acknowledged(decideAccess(s, actorOf(c), p.username, p.room, false));

export const adminGrant: Handler<'adminGrant'> = (s, c, p) => acknowledged(grantRoom(s, actorOf(c), p.username, p.room));

export const adminRevoke: Handler<'adminRevoke'> = (s, c, p) => acknowledged(revokeRoom(s, actorOf(c), p.username, p.room));

export const adminCreateRoom: Handler<'adminCreateRoom'> = (s, c, p) => acknowledged(createRoom(s, actorOf(c), p.name, p.policy));
