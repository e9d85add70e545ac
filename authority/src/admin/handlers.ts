/**
 * The admin requests of a client (an admin's desktop panel): the console's operations, with
 * the admin's username and address as the actor in the audit log.
 */
import { fail, ok, type Actor, type Handler } from '../context.js';
import type { Connection } from '../connection.js';
import { createRoom, grantRoom, revokeRoom } from './commands/rooms.js';
import { banUser, kickUser, listUsers, unbanUser } from './commands/users.js';

function actorOf(c: Connection): Actor {
  return { name: c.user!.username, origin: c.ip };
}

function isSelf(c: Connection, username: string): boolean {
  return c.user!.username.toLowerCase() === username.normalize('NFC').toLowerCase();
}

const OK = { ok: true as const };

export const adminListUsers: Handler<'adminListUsers'> = (s) => ok({ users: listUsers(s) });

export const adminBan: Handler<'adminBan'> = (s, c, p) => {
  if (isSelf(c, p.username)) return fail('CANNOT_TARGET_SELF');
  const r = banUser(s, actorOf(c), p.username, p.reason?.trim() || null);
  return r.ok ? ok(OK) : r;
};

export const adminUnban: Handler<'adminUnban'> = (s, c, p) => {
  const r = unbanUser(s, actorOf(c), p.username);
  return r.ok ? ok(OK) : r;
};

export const adminKick: Handler<'adminKick'> = (s, c, p) => {
  if (isSelf(c, p.username)) return fail('CANNOT_TARGET_SELF');
  const r = kickUser(s, actorOf(c), p.username, p.seconds);
  return r.ok ? ok(OK) : r;
};

export const adminGrant: Handler<'adminGrant'> = (s, c, p) => {
  const r = grantRoom(s, actorOf(c), p.username, p.room);
  return r.ok ? ok(OK) : r;
};

export const adminRevoke: Handler<'adminRevoke'> = (s, c, p) => {
  const r = revokeRoom(s, actorOf(c), p.username, p.room);
  return r.ok ? ok(OK) : r;
};

export const adminCreateRoom: Handler<'adminCreateRoom'> = (s, c, p) => {
  const r = createRoom(s, actorOf(c), p.name, p.policy);
  return r.ok ? ok(OK) : r;
};
