/**
 * Room membership as it changes: the store row, the live connections' subscriptions, and the
 * event the user hears. Shared by open rooms (requestAccess), approvals and an admin's grants.
 */
import type { Services } from './context.js';
import type { RoomRow, UserRow } from './store/index.js';

/** Makes a user a member and tells their live connections. */
export function grantMembership(s: Services, user: UserRow, room: RoomRow): void {
  s.store.rooms.addMember(user.id, room.id, s.now());
  for (const conn of s.hub.connectionsOf(user.id)) s.hub.subscribe(conn, room.id);
  s.hub.sendToUser(user.id, 'accessGranted', { room: room.name });
}

/** False when the user was not a member. Admins keep reading the room (they read every room). */
export function revokeMembership(s: Services, user: UserRow, room: RoomRow): boolean {
  const removed = s.store.rooms.removeMember(user.id, room.id);
  if (user.is_admin !== 1) for (const conn of s.hub.connectionsOf(user.id)) s.hub.unsubscribe(conn, room.id);
  if (removed) s.hub.sendToUser(user.id, 'accessRevoked', { room: room.name });
  return removed;
}
