/**
 * A user or room named in a request or a console command, or the typed failure that says
 * there is none (UNKNOWN_USER, UNKNOWN_ROOM): the one lookup every handler and command uses.
 */
import { fail, LIMITS, type ErrorCode, type Failure } from '../../shared/protocol/index.js';
import { isRow, type Services } from './context.js';
import type { RoomRow, UserRow } from './store/index.js';

/** The failure a lookup returns in place of the row. */
export interface NotFound {
  ok: false;
  error: Failure<ErrorCode>;
}

/** Usernames are compared in NFC (and without case, by the store). */
export function findUser(s: Services, name: string): UserRow | NotFound {
  return s.store.users.byName(name.normalize('NFC')) ?? fail('UNKNOWN_USER', { message: `no user is named ${name}` });
}

export function findRoom(s: Services, name: string): RoomRow | NotFound {
  return s.store.rooms.byName(name) ?? fail('UNKNOWN_ROOM', { message: `no room is named ${name}` });
}

/** The two a membership operation names (a grant, a revocation, a decision on a request). */
export function findUserAndRoom(s: Services, username: string, roomName: string): { user: UserRow; room: RoomRow } | NotFound {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  const room = findRoom(s, roomName);
  if (!isRow(room)) return room;
  return { user, room };
}

/**
 * One page of a list read with one row more than LIMITS.listPageSize: the page, and the cursor
 * of the next one (null when that extra row is not there).
 */
export function onePage<T>(rows: T[], cursorOf: (last: T) => string): { items: T[]; next: string | null } {
  if (rows.length <= LIMITS.listPageSize) return { items: rows, next: null };
  const items = rows.slice(0, LIMITS.listPageSize);
  return { items, next: cursorOf(items.at(-1)!) };
}
