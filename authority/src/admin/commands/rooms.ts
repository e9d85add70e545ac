/**
 * Room commands: /rooms, /create_room, /requests, /approve, /deny, /grant, /revoke. The
 * operations are handlers/admin-rooms.ts; here, the words typed and the text printed.
 */
import { createRoom, decideAccess, grantRoom, listAccessRequestsFor, POLICIES, revokeRoom } from '../../handlers/admin-rooms.js';
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

function decision(granted: boolean): Command {
  const cmd: Command = {
    name: granted ? 'approve' : 'deny',
    args: [
      { name: 'user', kind: 'user' },
      { name: 'room', kind: 'room' },
    ],
    summary: granted ? 'accept a pending access request' : 'refuse a pending access request',
    run({ services: s, actor }, { args }) {
      if (args.length !== 2) return usage(cmd);
      const r = decideAccess(s, actor, args[0]!, args[1]!, granted);
      if (!r.ok) return refused(r.error);
      return done(`${granted ? 'approved' : 'denied'}: ${r.value.user} → ${r.value.room}`);
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
    run({ services: s, actor }, { args }) {
      if (args.length !== 2) return usage(cmd);
      const r = (grant ? grantRoom : revokeRoom)(s, actor, args[0]!, args[1]!);
      if (!r.ok) return refused(r.error);
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
