/** Rooms: list, create, pending access requests and their decisions, direct grants and revocations. */
import { RoomName, RoomPolicy } from '../../../../shared/protocol/index.js';
import { fail, ok, type Actor, type Outcome, type Services } from '../../context.js';
import { decideAccess, grantMembership, listAccessRequestsFor, revokeMembership } from '../../handlers/rooms.js';
import type { RoomRow } from '../../store/index.js';
import { localTime, plural, table } from './format.js';
import { done, failure, usage, type Command } from './types.js';
import { findUser, isRow, type Failure } from './users.js';

/** A user with this many pending requests at once stands out to admins (seed §4b). */
export const MANY_PENDING_REQUESTS = 3;
const POLICIES = RoomPolicy.options;

export function findRoom(s: Services, name: string): RoomRow | Failure {
  return s.store.rooms.byName(name) ?? fail('UNKNOWN_ROOM', { message: `no room is named ${name}` });
}

export function createRoom(
  s: Services,
  actor: Actor,
  rawName: string,
  rawPolicy: string,
): Outcome<{ room: string; policy: string }> {
  const name = RoomName.safeParse(rawName.normalize('NFC'));
  if (!name.success) return fail('INVALID_NAME', { message: 'room names are 1 to 48 characters, no control characters, no outer spaces' });
  const policy = RoomPolicy.safeParse(rawPolicy);
  if (!policy.success) return fail('BAD_REQUEST', { message: `the policy is one of ${POLICIES.join(', ')}` });
  if (s.store.rooms.byName(name.data)) return fail('ROOM_EXISTS', { message: `a room named ${name.data} exists` });
  const room = s.store.rooms.create(name.data, policy.data, s.now());
  for (const c of s.hub.connections) {
    if (!c.user || c.state !== 'authenticated') continue;
    if (c.user.admin) s.hub.subscribe(c, room.id); // admins read every room
    c.send({ ev: 'roomCreated', room: room.name, policy: room.policy });
  }
  s.audit(actor, 'create_room', room.name, `policy: ${room.policy}`);
  return ok({ room: room.name, policy: room.policy });
}

/** Makes a user a member without a request (an invitation, for closed rooms). */
export function grantRoom(s: Services, actor: Actor, username: string, roomName: string): Outcome<{ user: string; room: string }> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  const room = findRoom(s, roomName);
  if (!isRow(room)) return room;
  if (s.store.rooms.isMember(user.id, room.id)) {
    return fail('ALREADY_MEMBER', { message: `${user.username} is already a member of ${room.name}` });
  }
  grantMembership(s, user, room);
  s.audit(actor, 'grant', user.username, `room: ${room.name}`);
  return ok({ user: user.username, room: room.name });
}

export function revokeRoom(s: Services, actor: Actor, username: string, roomName: string): Outcome<{ user: string; room: string }> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  const room = findRoom(s, roomName);
  if (!isRow(room)) return room;
  if (!revokeMembership(s, user, room)) {
    return fail('NOT_A_MEMBER', { message: `${user.username} is not a member of ${room.name}` });
  }
  s.audit(actor, 'revoke', user.username, `room: ${room.name}`);
  return ok({ user: user.username, room: room.name });
}

// ---------- commands ----------

const rooms: Command = {
  name: 'rooms',
  args: [],
  summary: 'rooms: policy, members, readers, messages',
  run({ authority: s }) {
    const counts = s.store.rooms.memberCounts();
    const pending = new Map<string, number>();
    for (const r of s.store.rooms.allRequests()) pending.set(r.room, (pending.get(r.room) ?? 0) + 1);
    const rows = s.store.rooms.all().map((r) => [
      r.name,
      r.policy,
      counts.get(r.id) ?? 0,
      s.hub.readersOf(r.id).size,
      s.store.messages.lastSeqOf(r.id),
      pending.get(r.name) ?? 0,
    ]);
    return done(table(['ROOM', 'POLICY', 'MEMBERS', 'READING NOW', 'MESSAGES', 'PENDING'], rows));
  },
};

const createRoomCmd: Command = {
  name: 'create_room',
  args: [
    { name: 'name', kind: 'word' },
    { name: 'policy', kind: 'policy', choices: POLICIES },
  ],
  summary: `policy: ${POLICIES.join(', ')}`,
  run({ authority: s, actor }, { args }) {
    if (args.length !== 2) return usage(createRoomCmd);
    const r = createRoom(s, actor, args[0]!, args[1]!);
    if (!r.ok) return failure(r.error);
    return done(`room ${r.value.room} created (${r.value.policy})`);
  },
};

const requests: Command = {
  name: 'requests',
  args: [],
  summary: 'pending access requests',
  run({ authority: s }) {
    const list = listAccessRequestsFor(s);
    if (list.length === 0) return done('no pending access request');
    const rows = list.map((r) => [
      r.username,
      r.room,
      localTime(r.ts),
      r.pendingFromUser >= MANY_PENDING_REQUESTS ? `${r.pendingFromUser}  <- many at once` : r.pendingFromUser,
    ]);
    return done(
      `${table(['USER', 'ROOM', 'ASKED', 'PENDING FROM USER'], rows)}\n` +
        `${plural(list.length, 'request')}: /approve <user> <room> or /deny <user> <room>`,
    );
  },
};

function decision(granted: boolean): Command {
  const cmd: Command = {
    name: granted ? 'approve' : 'deny',
    args: [
      { name: 'user', kind: 'user' },
      { name: 'room', kind: 'room' },
    ],
    summary: granted ? 'accept a pending access request' : 'refuse a pending access request',
    run({ authority: s, actor }, { args }) {
      if (args.length !== 2) return usage(cmd);
      const user = s.store.users.byName(args[0]!.normalize('NFC'));
      const r = decideAccess(s, actor, args[0]!, args[1]!, granted);
      if (!r.ok) return failure(r.error);
      const room = s.store.rooms.byName(args[1]!);
      return done(`${granted ? 'approved' : 'denied'}: ${user?.username ?? args[0]} → ${room?.name ?? args[1]}`);
    },
  };
  return cmd;
}

function membership(grant: boolean): Command {
  const cmd: Command = {
    name: grant ? 'grant' : 'revoke',
    args: [
      { name: 'user', kind: 'user' },
      { name: 'room', kind: 'room' },
    ],
    summary: grant ? 'make a user a member of a room' : 'remove a user from a room',
    run({ authority: s, actor }, { args }) {
      if (args.length !== 2) return usage(cmd);
      const r = (grant ? grantRoom : revokeRoom)(s, actor, args[0]!, args[1]!);
      if (!r.ok) return failure(r.error);
      return done(`${r.value.user} ${grant ? 'is now a member of' : 'is no longer a member of'} ${r.value.room}`);
    },
  };
  return cmd;
}

export const ROOM_COMMANDS: readonly Command[] = [
  rooms,
  createRoomCmd,
  requests,
  decision(true),
  decision(false),
  membership(true),
  membership(false),
];
