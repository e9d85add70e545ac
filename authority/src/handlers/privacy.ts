/**
 * Data protection (GDPR): the export of what the authority holds about a user (theirs over
 * HTTP, or an admin's to a file on request), and the erasure of an account — by its owner
 * or by an admin on request (audited).
 */
import { createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute, join } from 'node:path';
import { CLOSE_CODES, fail, LIMITS, ok, type ErrorCode, type Outcome } from '../../../shared/protocol/index.js';
import { hashToken } from '../accounts-policy.js';
import { isRow, type Actor, type Handler, type Services } from '../context.js';
import { findUser } from '../lookup.js';
import { provePassword } from '../password-checks.js';
import type { UserExport } from '../store/privacy.js';

export const EXPORT_PATH = '/api/export';
export const EXPORT_FORMAT = 'chandler-export-v1';

/** Messages read per piece of an export: one piece is read and written in one turn of the loop. */
const EXPORT_PAGE_MESSAGES = 500;

/** What the export file holds (written piece by piece, never built whole). */
export interface ExportFile {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  server: UserExport;
}

export interface ExportPieces {
  /** The JSON text of an ExportFile, in pieces; each page of messages is read when its piece is taken. */
  pieces: Iterable<string>;
  /** Filled in as the pieces are taken. */
  counts: { roomMessages: number; friends: number; rooms: number };
}

/**
 * A user's export as JSON text in pieces: the account and its lists first, then the room
 * messages a page at a time, so that a user with a million messages neither stalls the event
 * loop nor fills the memory (the reader yields between pieces). Null for no such user.
 */
export function exportPieces(s: Services, userId: number): ExportPieces | null {
  const head = s.store.privacy.exportUser(userId);
  if (!head) return null;
  const file: ExportFile = { format: EXPORT_FORMAT, exportedAt: new Date(s.now()).toISOString(), server: { ...head, roomMessages: [] } };
  const text = JSON.stringify(file, null, 2);
  const open = '"roomMessages": [';
  const at = text.lastIndexOf(open) + open.length;
  const counts = { roomMessages: 0, friends: head.friends.length, rooms: head.rooms.length };
  function* pieces(): Generator<string> {
    yield text.slice(0, at);
    let after = null;
    do {
      const page = s.store.privacy.messagesPage(userId, after, EXPORT_PAGE_MESSAGES);
      let piece = '';
      for (const m of page.messages) piece += `${counts.roomMessages++ === 0 ? '' : ','}\n    ${JSON.stringify(m)}`;
      if (piece) yield piece;
      after = page.next;
    } while (after);
    yield `${counts.roomMessages > 0 ? '\n  ' : ''}${text.slice(at)}`;
  }
  return { pieces: pieces(), counts };
}

/**
 * Writes the pieces to `out` as a stream: one piece read ahead at most, the next taken only when
 * `out` has room (a slow reader is waited for, not queued for in memory); `out` is ended, or
 * destroyed on failure.
 */
export function writeExport(pieces: Iterable<string>, out: Writable): Promise<void> {
  return pipeline(Readable.from(pieces, { objectMode: true, highWaterMark: 1 }), out);
}

/** Erases the account (policy in store/privacy.ts); friends are told, live sessions end. */
export function eraseAccount(
  s: Services,
  userId: number,
  by: string,
): Outcome<{ username: string; messagesDeleted: number }, ErrorCode> {
  const user = s.store.users.byId(userId);
  if (!user) return fail('UNKNOWN_USER');
  const friends = s.store.friends.linksOf(userId);
  s.hub.closeUser(userId, CLOSE_CODES.ACCOUNT_DELETED, 'account deleted');
  const messagesDeleted = s.store.privacy.deleteUser(userId);
  for (const f of friends) {
    s.hub.sendToUser(f.user_id, 'friendsChanged', { username: user.username, state: 'none', online: false });
  }
  s.log.info('account_deleted', { user: user.username, by, messages: messagesDeleted });
  return ok({ username: user.username, messagesDeleted });
}

/**
 * An admin's export of a user's data to a JSON file (owner-only), by default
 * export-<user>-<date>.json in the data directory; a relative name is taken from there too.
 * A file that cannot be written is an INTERNAL failure carrying the error as its cause.
 */
export async function exportUserToFile(
  s: Services,
  actor: Actor,
  username: string,
  fileName: string | undefined,
): Promise<Outcome<{ user: string; file: string; counts: ExportPieces['counts'] }, ErrorCode>> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  const data = exportPieces(s, user.id);
  if (!data) return fail('UNKNOWN_USER', { message: `no user is named ${username}` });
  const name = fileName ?? `export-${user.username}-${new Date(s.now()).toISOString().slice(0, 10)}.json`;
  const file = isAbsolute(name) ? name : join(s.config.dataDir, name);
  try {
    await writeExport(data.pieces, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    return fail('INTERNAL', { message: (err as Error).message, cause: err });
  }
  s.audit(actor, 'export_user', user.username, file);
  return ok({ user: user.username, file, counts: data.counts });
}

/** An admin's erasure of an account on request; audited. */
export function deleteUser(
  s: Services,
  actor: Actor,
  username: string,
): Outcome<{ username: string; messagesDeleted: number }, ErrorCode> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  const r = eraseAccount(s, user.id, actor.name);
  if (r.ok) s.audit(actor, 'delete_user', r.value.username, `${r.value.messagesDeleted} messages`);
  return r;
}

export const deleteAccount: Handler<'deleteAccount'> = async (s, c, p) => {
  const me = c.user!;
  const proven = await provePassword(s, c, p.finishLoginRequest);
  if (!proven.ok) return proven;
  // Reply first, then cut: the client learns it worked before its socket closes.
  setImmediate(() => eraseAccount(s, me.id, me.username));
  return ok({ ok: true as const });
};

/**
 * GET /api/export with `Authorization: Bearer <session token>`: the user's data as a JSON
 * download. Over HTTP rather than the socket because it can be large.
 */
export function handleExportRequest(s: Services, req: IncomingMessage, res: ServerResponse): void {
  const headers = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
  const auth = req.headers.authorization ?? '';
  const token = /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(auth)?.[1];
  if (req.method !== 'GET' || !token || token.length > LIMITS.maxTokenChars) {
    res.writeHead(401, { ...headers, 'Content-Type': 'application/json' }).end('{"error":"INVALID_SESSION"}');
    return;
  }
  // The same session rules as resume: not idle past its limit, not a banned or kicked account.
  const session = s.store.users.session(hashToken(token));
  const user = session && session.last_seen >= s.now() - s.config.limits.sessionIdleMs ? s.store.users.byId(session.user_id) : undefined;
  const usable = user && user.banned_at === null && !(user.kicked_until !== null && user.kicked_until > s.now());
  const data = usable ? exportPieces(s, user.id) : null;
  if (!user || !data) {
    res.writeHead(401, { ...headers, 'Content-Type': 'application/json' }).end('{"error":"INVALID_SESSION"}');
    return;
  }
  // One export at a time per user: a second one, asked while the first is written, waits its turn.
  const running = exportsRunning(s);
  if (running.has(user.id)) {
    res.writeHead(429, { ...headers, 'Content-Type': 'application/json', 'Retry-After': '5' }).end('{"error":"BUSY"}');
    return;
  }
  running.add(user.id);
  res.writeHead(200, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Disposition': `attachment; filename="chandler-${user.username}.json"`,
  });
  writeExport(data.pieces, res)
    .catch((err: NodeJS.ErrnoException) => {
      // The reader going away is not a failure of ours.
      if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') s.log.error('export_failed', { user: user.username, error: err.message });
    })
    .finally(() => running.delete(user.id));
}

const runningExports = new WeakMap<Services, Set<number>>();

function exportsRunning(s: Services): Set<number> {
  let set = runningExports.get(s);
  if (!set) runningExports.set(s, (set = new Set()));
  return set;
}
