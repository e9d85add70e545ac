import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from 'node:https';
import { CLOSE_CODES } from '../../shared/protocol/index.js';
import { EXPORT_PATH, eraseAccount } from '../../authority/src/handlers/privacy.js';
import { newClient, PASSWORD, registered, startAuthority, until, type TestAuthority } from '../helpers/authority.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await t.cleanup();
});

function fetchExport(token: string | null): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const url = new URL(EXPORT_PATH, t.url.replace(/^wss/, 'https'));
  return new Promise((resolve, reject) => {
    get(url, { rejectUnauthorized: false, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    }).on('error', reject);
  });
}

describe('GDPR', () => {
  it('exports everything the authority holds about the user, and nothing about others', async () => {
    const a = await registered(t);
    const b = await registered(t);
    await a.requestAccess('Blabla');
    await a.requestAccess('Marketing');
    await a.settled(a.post('Général', 'my own words'));
    await b.settled(b.post('Général', 'someone else'));
    await a.call('requestFriend', { username: b.username! });
    await b.call('acceptFriend', { username: a.username! });
    const r = await fetchExport(a.session!.token);
    expect(r.status).toBe(200);
    expect(String(r.headers['content-disposition'])).toContain('attachment');
    const data = JSON.parse(r.body);
    expect(data.format).toBe('chandler-export-v1');
    expect(data.server.account.username).toBe(a.username);
    expect(data.server.rooms.map((x: { room: string }) => x.room)).toEqual(['Général', 'Blabla']);
    expect(data.server.pendingAccessRequests.map((x: { room: string }) => x.room)).toEqual(['Marketing']);
    expect(data.server.friends.map((f: { username: string }) => f.username)).toEqual([b.username]);
    expect(data.server.roomMessages.map((m: { text: string }) => m.text)).toEqual(['my own words']);
    expect(data.server.addresses[0].ip).toBe('127.0.0.1');
    expect(r.body).not.toContain('someone else');
    expect(r.body).not.toContain('scrypt$');
    expect((await fetchExport(null)).status).toBe(401);
    expect((await fetchExport('x'.repeat(40))).status).toBe(401);
    a.close();
    b.close();
  });

  it('deletes an account: sessions end, friends are told, data is gone, the name is free again', async () => {
    const a = await registered(t);
    const b = await registered(t);
    await a.call('requestFriend', { username: b.username! });
    await b.call('acceptFriend', { username: a.username! });
    await until(() => b.friends.some((f) => f.username === a.username), 'friends');
    await a.settled(a.post('Général', 'erase me please'));
    const other = newClient(t);
    await other.login(a.username!, PASSWORD);
    const wrong = await a.deleteAccount('not-my-password!');
    expect(!wrong.ok && wrong.error.code).toBe('WRONG_PASSWORD');
    const r = await a.deleteAccount(PASSWORD);
    expect(r.ok).toBe(true);
    await until(() => other.status === 'closed', 'other session ended');
    expect(other.closeInfo?.code).toBe(CLOSE_CODES.ACCOUNT_DELETED);
    await until(() => !b.friends.some((f) => f.username === a.username), 'friend told');
    expect(t.authority.store.users.byName(a.username!)).toBeUndefined();
    const left = t.authority.store.db.prepare("SELECT COUNT(*) AS n FROM messages WHERE text = 'erase me please'").get() as { n: number };
    expect(left.n).toBe(0);
    const again = newClient(t);
    expect((await again.register(a.username!, PASSWORD)).ok).toBe(true);
    again.close();
    b.close();
  });

  it('lets an admin erase a user on request', async () => {
    const a = await registered(t);
    const r = eraseAccount(t.authority, t.authority.store.users.byName(a.username!)!.id, 'admin-console');
    expect(r.ok).toBe(true);
    await until(() => a.status === 'closed', 'session ended');
    expect(t.authority.store.users.byName(a.username!)).toBeUndefined();
  });
});
