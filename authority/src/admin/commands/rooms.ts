/**
 * Room commands: /rooms, /create_room, /requests, /approve, /deny, /grant, /revoke. The
 * operations are handlers/admin-rooms.ts; here, the words typed and the text printed.
 */
import {
  createRoom,
  decideAccess,
  grantRoom,
  listAccessRequestsFor,
  POLICIES,
  revokeRoom,
  type UserRoomOperation,
} from '../../handlers/admin-rooms.js';
import { localTime, plural, table } from './format.js';
import { done, refused, usage, type Command } from './types.js';

/** A user with this many pending requests at once stands out to admins (seed §4b). */
export const MANY_PENDING_REQUESTS = 3;

// ---------- commands ----------

const rooms: Command = {
  name: 'rooms',
  args: [],
  summary: 'rooms: policy, members, readers, messages',
  run({ services: s }) {
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
  run({ services: s, actor }, { args }) {
    if (args.length !== 2) return usage(createRoomCmd);
    const r = createRoom(s, actor, args[0]!, args[1]!);
    if (!r.ok) return refused(r.error);
    return done(`room ${r.value.room} created (${r.value.policy})`);
  },
};

const requests: Command = {
  name: 'requests',
  args: [],
  summary: 'pending access requests',
  run({ services: s }) {
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

/** A command on one user and one room, answered with the names as stored. */
function userRoomCommand(
  name: string,
  summary: string,
  operation: UserRoomOperation,
  said: (user: string, room: string) => string,
): Command {
  const cmd: Command = {
    name,
    args: [
      { name: 'user', kind: 'user' },
      { name: 'room', kind: 'room' },
    ],
    summary,
    run({ services: s, actor }, { args }) {
      if (args.length !== 2) return usage(cmd);
      const r = operation(s, actor, args[0]!, args[1]!);
      if (!r.ok) return refused(r.error);
      return done(said(r.value.user, r.value.room));
    },
  };
  return cmd;
}

const approve = userRoomCommand(
  'approve',
  'accept a pending access request',
  (s, actor, user, room) => decideAccess(s, actor, user, room, true),
  (user, room) => `approved: ${user} → ${room}`,
);
const deny = userRoomCommand(
  'deny',
  'refuse a pending access request',
  (s, actor, user, room) => decideAccess(s, actor, user, room, false),
  (user, room) => `denied: ${user} → ${room}`,
);
const grant = userRoomCommand('grant', 'make a user a member of a room', grantRoom, (user, room) => `${user} is now a member of ${room}`);
const revoke = userRoomCommand('revoke', 'remove a user from a room', revokeRoom, (user, room) => `${user} is no longer a member of ${room}`);

export const ROOM_COMMANDS: readonly Command[] = [rooms, createRoomCmd, requests, approve, deny, grant, revoke];
