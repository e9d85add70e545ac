/**
 * Data protection (GDPR): the export of what the authority holds about a user (theirs over
 * HTTP, or an admin's to a file on request), and the erasure of an account — by its owner
 * or by an admin on request (audited).
 */
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute, join } from 'node:path';
import { CLOSE_CODES, fail, LIMITS, ok, type ErrorCode, type Outcome } from '../../../shared/protocol/index.js';
import { hashToken } from '../accounts-policy.js';
import { isRow, type Actor, type Handler, type Services } from '../context.js';
import { findUser } from '../lookup.js';
import { checkOwnPassword } from '../password-checks.js';
import type { UserExport } from '../store/privacy.js';

export const EXPORT_PATH = '/api/export';
export const EXPORT_FORMAT = 'chandler-export-v1';

export interface ExportFile {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  server: UserExport;
}

export function exportUserData(s: Services, userId: number): ExportFile | null {
  const data = s.store.privacy.exportUser(userId);
  return data && { format: EXPORT_FORMAT, exportedAt: new Date(s.now()).toISOString(), server: data };
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
export function exportUserToFile(
  s: Services,
  actor: Actor,
  username: string,
  fileName: string | undefined,
): Outcome<{ user: string; file: string; data: ExportFile }, ErrorCode> {
  const user = findUser(s, username);
  if (!isRow(user)) return user;
  const data = exportUserData(s, user.id);
  if (!data) return fail('UNKNOWN_USER', { message: `no user is named ${username}` });
  const name = fileName ?? `export-${user.username}-${new Date(s.now()).toISOString().slice(0, 10)}.json`;
  const file = isAbsolute(name) ? name : join(s.config.dataDir, name);
  try {
    writeFileSync(file, JSON.stringify(data, null, 2), { mode: 0o600 });
  } catch (err) {
    return fail('INTERNAL', { message: (err as Error).message, cause: err });
  }
  s.audit(actor, 'export_user', user.username, file);
  return ok({ user: user.username, file, data });
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
  const row = s.store.users.byId(me.id);
  if (!row) return fail('UNKNOWN_USER');
  const checked = await checkOwnPassword(s, me.id, p.password, row.pass_hash);
  if (!checked.ok) return checked;
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
  const data = usable ? exportUserData(s, user.id) : null;
  if (!data) {
    res.writeHead(401, { ...headers, 'Content-Type': 'application/json' }).end('{"error":"INVALID_SESSION"}');
    return;
  }
  res
    .writeHead(200, {
      ...headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Disposition': `attachment; filename="chandler-${data.server.account.username}.json"`,
    })
    .end(JSON.stringify(data, null, 2));
}
