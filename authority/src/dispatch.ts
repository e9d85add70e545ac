/**
 * From a client's frame to its handler and back: size and shape checks on the raw frame (a
 * malformed one is answered BAD_REQUEST, too many in a row close the connection), the gate
 * (who may make which request: every request type → its handler, and who may call it, is
 * the table below), the call, and the typed answer.
 */
import type { RawData } from 'ws';
import {
  CLOSE_CODES,
  failure,
  LIMITS,
  parseRequest,
  type ErrorCode,
  type Failure,
  type Params,
  type RequestType,
  type Result,
} from '../../shared/protocol/index.js';
import type { Connection } from './connection.js';
import { DEFERRED, type Answer, type FrameCounters, type Handler, type HandlerMap, type Services } from './context.js';
import * as accounts from './handlers/accounts.js';
import * as adminRooms from './handlers/admin-rooms.js';
import * as dms from './handlers/dms.js';
import * as friends from './handlers/friends.js';
import * as moderation from './handlers/moderation.js';
import * as privacy from './handlers/privacy.js';
import * as rooms from './handlers/rooms.js';

export const HANDLERS: HandlerMap = {
  authPolicy: accounts.authPolicy,
  registerStart: accounts.registerStart,
  registerFinish: accounts.registerFinish,
  loginStart: accounts.loginStart,
  loginFinish: accounts.loginFinish,
  legacyLogin: accounts.legacyLogin,
  resetStart: accounts.resetStart,
  reauthStart: accounts.reauthStart,
  resume: accounts.resume,
  logout: accounts.logout,
  changePassword: accounts.changePassword,
  deleteAccount: privacy.deleteAccount,
  listRooms: rooms.listRooms,
  requestAccess: rooms.requestAccess,
  postMessage: rooms.postMessage,
  fetchHistory: rooms.fetchHistory,
  syncRooms: rooms.syncRooms,
  listMembers: rooms.listMembers,
  listFriends: friends.listFriends,
  requestFriend: friends.requestFriend,
  acceptFriend: friends.acceptFriend,
  refuseFriend: friends.refuseFriend,
  removeFriend: friends.removeFriend,
  listAccessRequests: adminRooms.listAccessRequests,
  approveAccess: adminRooms.approveAccess,
  denyAccess: adminRooms.denyAccess,
  forceFriend: friends.forceFriend,
  adminListUsers: moderation.adminListUsers,
  adminBan: moderation.adminBan,
  adminUnban: moderation.adminUnban,
  adminKick: moderation.adminKick,
  adminGrant: adminRooms.adminGrant,
  adminRevoke: adminRooms.adminRevoke,
  adminCreateRoom: adminRooms.adminCreateRoom,
  publishKeys: dms.publishKeys,
  fetchKeys: dms.fetchKeys,
  keyLogHead: dms.keyLogHead,
  keyLogConsistency: dms.keyLogConsistency,
  keyLogMine: dms.keyLogMine,
  getIdentityBackup: dms.getIdentityBackup,
  putIdentityBackup: dms.putIdentityBackup,
  sendSignal: dms.sendSignal,
  relayDm: dms.relayDm,
  ackDms: dms.ackDms,
  resendStoredDms: dms.resendStoredDms,
  helloDevice: dms.helloDevice,
  listDevices: dms.listDevices,
  revokeDevice: dms.revokeDevice,
  syncDm: dms.syncDm,
};

/** Allowed before logging in. */
export const ANONYMOUS_REQUESTS: ReadonlySet<RequestType> = new Set([
  'authPolicy',
  'registerStart',
  'registerFinish',
  'loginStart',
  'loginFinish',
  'legacyLogin',
  'resetStart',
  'resume',
]);

/** Allowed while a one-time password must still be replaced. */
export const PASSWORD_CHANGE_REQUESTS: ReadonlySet<RequestType> = new Set([
  'authPolicy',
  'reauthStart',
  // The identity backup's key is sealed again under the new password in the same request.
  'getIdentityBackup',
  'changePassword',
  'logout',
]);

export const ADMIN_REQUESTS: ReadonlySet<RequestType> = new Set([
  'listAccessRequests',
  'approveAccess',
  'denyAccess',
  'forceFriend',
  'adminListUsers',
  'adminBan',
  'adminUnban',
  'adminKick',
  'adminGrant',
  'adminRevoke',
  'adminCreateRoom',
]);

/** Consecutive malformed frames tolerated before the connection is closed PROTOCOL_ABUSE. */
const MAX_BAD_FRAMES = 20;

/** Refusals that say when to try again (`until`). */
const REFUSALS: ReadonlySet<string> = new Set(['RATE_LIMITED', 'TOO_MANY_ATTEMPTS', 'BUSY']);
/**
 * Logins, registrations and resumes sent again before their refusal's `until`, in a row, tolerated
 * before the connection is closed IGNORED_RETRY_TIME: a client that honours `until` never comes near it; a loop that
 * ignores it (a login spray answered TOO_MANY_ATTEMPTS thousands of times a second) is cut, and
 * reconnecting is limited per address at accept. The grace allows for clocks a little apart.
 */
const MAX_EARLY_RETRIES = 10;
const RETRY_GRACE_MS = 500;

const LONE_SURROGATE = /\p{Surrogate}/u;

/** What the dispatcher reaches: the handlers' services, and the counters it keeps for /threads. */
export interface DispatchServices extends Services {
  readonly counters: FrameCounters;
}

/**
 * JSON lets a lone UTF-16 surrogate through ("\ud800"); UTF-8 storage cannot keep one (SQLite
 * would hold U+FFFD), so what was acknowledged or hashed would differ from what is stored.
 * Walks without recursion: params may nest deeply.
 */
function hasLoneSurrogate(value: unknown): boolean {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return true;
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) return true;
        stack.push(x);
      }
    }
  }
  return false;
}

/** One WebSocket message from a client: checked, parsed, gated, handed to its handler. */
export function onFrame(s: DispatchServices, conn: Connection, data: RawData, isBinary: boolean): void {
  if (conn.state === 'closed') return;
  s.counters.framesIn++;
  conn.messagesIn++;
  const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
  if (bytes > LIMITS.maxFrameBytes) {
    return conn.close(CLOSE_CODES.FRAME_TOO_LARGE, `frames are at most ${LIMITS.maxFrameBytes} bytes`);
  }
  if (isBinary) return badFrame(s, conn, null, 'binary frames are not part of the protocol');
  let json: unknown;
  try {
    json = JSON.parse(data.toString());
  } catch {
    return badFrame(s, conn, null, 'frame is not valid JSON');
  }
  const parsed = parseRequest(json);
  if (!parsed.ok) return badFrame(s, conn, parsed.id, parsed.reason);
  if (hasLoneSurrogate(parsed.params)) return badFrame(s, conn, parsed.id, 'strings must be well-formed Unicode (a lone surrogate)');
  conn.badFrames = 0;
  // parseRequest checked the params against the schema of `type`.
  dispatch(s, conn, parsed.id, parsed.type, parsed.params as Params<RequestType>);
}

function badFrame(s: DispatchServices, conn: Connection, id: number | null, reason: string): void {
  s.counters.badFrames++;
  conn.fail(id, 'BAD_REQUEST', { message: `bad request: ${reason}` });
  if (++conn.badFrames >= MAX_BAD_FRAMES) conn.close(CLOSE_CODES.PROTOCOL_ABUSE, 'too many malformed frames');
}

function dispatch<T extends RequestType>(s: DispatchServices, conn: Connection, id: number, type: T, params: Params<T>): void {
  if (ignoresRetryTime(s, conn, type)) return;
  const refusal = gate(s, conn, type);
  if (refusal) return conn.replyError(id, refusal);
  const handler: Handler<T> = HANDLERS[type];
  let a;
  try {
    a = handler(s, conn, params, id);
  } catch (err) {
    return handlerFailed(s, conn, id, type, err);
  }
  if (a instanceof Promise) {
    a.then(
      (settled) => answer<T>(conn, id, type, settled),
      (err: unknown) => handlerFailed(s, conn, id, type, err),
    );
  } else {
    answer<T>(conn, id, type, a);
  }
}

/** True when the connection was closed for asking again too early once too often. */
function ignoresRetryTime(s: Services, conn: Connection, type: RequestType): boolean {
  if (!ANONYMOUS_REQUESTS.has(type)) return false;
  const until = conn.refusedUntil.get(type);
  if (until === undefined) return false;
  if (s.now() >= until - RETRY_GRACE_MS) {
    conn.refusedUntil.delete(type);
    conn.earlyRetries = 0;
    return false;
  }
  if (++conn.earlyRetries < MAX_EARLY_RETRIES) return false;
  conn.close(CLOSE_CODES.IGNORED_RETRY_TIME, 'asked again before the time given, too often');
  return true;
}

/** Who may make this request now; null when they may. */
function gate(s: Services, conn: Connection, type: RequestType): Failure<ErrorCode> | null {
  if (ANONYMOUS_REQUESTS.has(type)) return null;
  if (conn.state !== 'authenticated' || !conn.user) return failure('NOT_AUTHENTICATED');
  if (conn.user.mustChangePassword && !PASSWORD_CHANGE_REQUESTS.has(type)) return failure('PASSWORD_CHANGE_REQUIRED');
  if (ADMIN_REQUESTS.has(type) && !conn.user.admin) return failure('NOT_ADMIN');
  if (s.isShuttingDown() && type === 'postMessage') return failure('SHUTTING_DOWN');
  return null;
}

function answer<T extends RequestType>(conn: Connection, id: number, type: T, a: Answer<Result<T>>): void {
  if (a === DEFERRED) return;
  if (a.ok) return conn.reply<T>(id, a.value);
  if (ANONYMOUS_REQUESTS.has(type) && REFUSALS.has(a.error.code) && a.error.until !== undefined) {
    conn.refusedUntil.set(type, Math.max(conn.refusedUntil.get(type) ?? 0, a.error.until));
  }
  conn.replyError(id, a.error);
}

function handlerFailed(s: DispatchServices, conn: Connection, id: number, type: string, err: unknown): void {
  s.counters.handlerErrors++;
  s.log.error('handler_failed', { type, conn: conn.id, error: (err as Error)?.message ?? String(err) });
  conn.fail(id, 'INTERNAL');
}
