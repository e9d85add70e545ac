/**
 * Data protection (GDPR): a user's export of what the authority holds about them, and the
 * deletion of their account — by themselves or by an admin on request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLOSE_CODES, LIMITS } from '../../../shared/protocol/index.js';
import { fail, ok, type Handler, type Outcome, type Services } from '../context.js';
import type { UserExport } from '../store/privacy.js';
import { hashToken } from './accounts.js';

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
export function eraseAccount(s: Services, userId: number, by: string): Outcome<{ username: string; messagesDeleted: number }> {
  const user = s.store.users.byId(userId);
  if (!user) return fail('UNKNOWN_USER');
  const friends = s.store.friends.linksOf(userId);
  s.hub.closeUser(userId, CLOSE_CODES.ACCOUNT_DELETED, 'account deleted');
  const messagesDeleted = s.store.privacy.deleteUser(userId);
  for (const f of friends) {
    s.hub.sendToUser(f.user_id, { ev: 'friendsChanged', username: user.username, state: 'none', online: false });
  }
  s.log.info('account_deleted', { user: user.username, by, messages: messagesDeleted });
  return ok({ username: user.username, messagesDeleted });
}

export const deleteAccount: Handler<'deleteAccount'> = async (s, c, p) => {
  const me = c.user!;
  const row = s.store.users.byId(me.id);
  if (!row) return fail('UNKNOWN_USER');
  if (!(await s.passwords.verify(p.password, row.pass_hash))) return fail('WRONG_PASSWORD');
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
  const session = s.store.users.session(hashToken(token));
  const data = session ? exportUserData(s, session.user_id) : null;
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
