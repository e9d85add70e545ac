/**
 * Issue 12, items 2–4 and part of 7, performed against a real authority: password checks
 * that nobody throttled, limits that fell to parallel requests, account enumeration and
 * lockouts of the owner, and sessions that outlived a logout or a kick.
 */
import { get } from 'node:https';
import WsClient from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../shared/protocol/index.js';
import { startLogin } from '../../shared/crypto/opaque.js';
import type { ChandlerClient } from '../../shared/client/index.js';
import { kickUser } from '../../authority/src/handlers/moderation.js';
import { EXPORT_PATH } from '../../authority/src/handlers/privacy.js';
import { newClient, PASSWORD, startAuthority, uniqueName, until, type TestAuthority } from '../helpers/authority.js';

const NEW_PASSWORD = 'another-horse-staple!';

let t: TestAuthority;
beforeAll(async () => {
  // The shipped limits (the helper raises the per-address ones for other files).
  t = await startAuthority({ limits: { loginFailuresPerIp: 30, registrationsPerIp: 20 } });
});
afterAll(async () => {
  await t.cleanup();
});

/** Password checks the pool has run so far (its workers' `done`, as /threads shows them). */
function hashesDone(): number {
  return t.authority.passwords.stats().workers.reduce((n, w) => n + w.done, 0);
}

async function registeredFrom(ip: string, name = uniqueName()): Promise<ChandlerClient> {
  const c = newClient(t, { localAddress: ip });
  const r = await c.register(name, PASSWORD);
  if (!r.ok) throw new Error(`register ${name} failed: ${r.error.code}`);
  return c;
}

function code(r: { ok: boolean; error?: { code: string } }): string {
  return r.ok ? 'ok' : r.error!.code;
}

function fetchExport(token: string): Promise<number> {
  const url = new URL(EXPORT_PATH, t.url.replace(/^wss/, 'https'));
  return new Promise((resolve, reject) => {
    get(url, { rejectUnauthorized: false, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

describe('password checks with a session (changePassword, deleteAccount)', () => {
  for (const request of ['changePassword', 'deleteAccount'] as const) {
    it(`${request}: 40 wrong passwords at once are mostly refused at once, a bystander logs in, guessing stops`, async () => {
      const bystander = await registeredFrom('127.0.0.3');
      const name = bystander.username!;
      bystander.close();
      const attacker = await registeredFrom('127.0.0.2');
      const guess = (i: number) =>
        request === 'changePassword'
          ? attacker.changePassword(`wrong-guess-${i}!`, NEW_PASSWORD)
          : attacker.deleteAccount(`wrong-guess-${i}!`);
      const flood = Promise.all(Array.from({ length: 40 }, (_, i) => guess(i)));
      const other = newClient(t, { localAddress: '127.0.0.3' });
      const login = await other.login(name, PASSWORD);
      const codes = (await flood).map(code);
      expect(login.ok).toBe(true);
      const checked = codes.filter((x) => x === 'WRONG_PASSWORD').length;
      expect(checked).toBeLessThanOrEqual(t.config.limits.passwordChecksPerUser);
      expect(codes.every((x) => ['WRONG_PASSWORD', 'BUSY', 'TOO_MANY_ATTEMPTS'].includes(x))).toBe(true);
      // One by one the guesses run out: then not even the right password is checked.
      const later: string[] = [];
      for (let i = 0; i < t.config.limits.passwordChecksPerUser + 1; i++) later.push(code(await guess(100 + i)));
      expect(later.at(-1)).toBe('TOO_MANY_ATTEMPTS');
      expect(checked + later.filter((x) => x === 'WRONG_PASSWORD').length).toBe(t.config.limits.passwordChecksPerUser);
      const before = hashesDone();
      const right =
        request === 'changePassword'
          ? await attacker.changePassword(PASSWORD, NEW_PASSWORD)
          : await attacker.deleteAccount(PASSWORD);
      expect(code(right)).toBe('TOO_MANY_ATTEMPTS');
      expect(hashesDone()).toBe(before);
      expect(t.authority.store.users.byName(attacker.username!)).toBeDefined();
      attacker.close();
      other.close();
    });
  }
});

describe('limits hold against parallel requests', () => {
  it('60 parallel logins from one address get at most the limit of passwords checked', async () => {
    const owner = await registeredFrom('127.0.0.10');
    const name = owner.username!;
    owner.close();
    const before = hashesDone();
    const clients = Array.from({ length: 60 }, () => newClient(t, { localAddress: '127.0.0.4' }));
    const codes = (await Promise.all(clients.map((c, i) => c.login(name, `wrong-guess-${i}!`)))).map(code);
    expect(codes.every((x) => ['WRONG_CREDENTIALS', 'BUSY', 'TOO_MANY_ATTEMPTS'].includes(x))).toBe(true);
    // A guess is two steps in the pool (the response, then the client's proof that fails).
    expect(hashesDone() - before).toBeLessThanOrEqual(2 * t.config.limits.loginFailuresPerAccount);
    expect(codes.filter((x) => x === 'WRONG_CREDENTIALS').length).toBeLessThanOrEqual(t.config.limits.loginFailuresPerAccount);
    for (const c of clients) c.close();
  });

  it('35 parallel registrations from one address make at most the limit of accounts', async () => {
    const names = Array.from({ length: 35 }, () => uniqueName('flood'));
    const clients = names.map(() => newClient(t, { localAddress: '127.0.0.7' }));
    const codes = (await Promise.all(clients.map((c, i) => c.register(names[i]!, PASSWORD)))).map(code);
    const made = names.filter((n) => t.authority.store.users.byName(n)).length;
    expect(made).toBeLessThanOrEqual(t.config.limits.registrationsPerIp);
    expect(codes.filter((x) => x === 'ok').length).toBe(made);
    // Past the limit, even a name that is taken is answered by the limit, not "taken".
    const late = newClient(t, { localAddress: '127.0.0.7' });
    const taken = await late.register(names[0]!, PASSWORD);
    expect(code(taken)).toBe('TOO_MANY_ATTEMPTS');
    for (const c of [...clients, late]) c.close();
  });
});

describe('no account enumeration, no lockout of the owner', () => {
  it('answers an unknown name and a wrong password alike, after the same work', async () => {
    const user = await registeredFrom('127.0.0.11');
    const name = user.username!;
    user.close();
    const c = newClient(t, { localAddress: '127.0.0.11' });
    const before = hashesDone();
    const unknown = await c.login(uniqueName('nobody'), PASSWORD);
    const perAttempt = hashesDone() - before;
    expect(perAttempt).toBe(2); // OPAQUE's (fake) response, then the proof that fails
    const wrong = await c.login(name, 'not-the-password!');
    expect(hashesDone()).toBe(before + 2 * perAttempt);
    expect(code(unknown)).toBe('WRONG_CREDENTIALS');
    expect(code(wrong)).toBe('WRONG_CREDENTIALS');
    expect(!unknown.ok && !wrong.ok && unknown.error.message).toBe(!wrong.ok && wrong.error.message);
    expect(t.logs.some((l) => l.includes('login_failed') && l.includes('known=false'))).toBe(true);
    c.close();
  });

  it('tells a banned or kicked account so only after the right password', async () => {
    const banned = await registeredFrom('127.0.0.12');
    const kicked = await registeredFrom('127.0.0.12');
    banned.close();
    kicked.close();
    const bannedRow = t.authority.store.users.byName(banned.username!)!;
    t.authority.store.users.ban(bannedRow.id, 'spam', Date.now()); // bans 127.0.0.12, not .13
    kickUser(t.authority, { name: 'test-admin', origin: 'test' }, kicked.username!, 600);
    const c = newClient(t, { localAddress: '127.0.0.13' });
    expect(code(await c.login(banned.username!, 'not-the-password!'))).toBe('WRONG_CREDENTIALS');
    expect(code(await c.login(kicked.username!, 'not-the-password!'))).toBe('WRONG_CREDENTIALS');
    const b = await c.login(banned.username!, PASSWORD);
    expect(!b.ok && b.error.code).toBe('BANNED');
    expect(!b.ok && b.error.message).toContain('spam');
    const k = await c.login(kicked.username!, PASSWORD);
    expect(!k.ok && k.error.code).toBe('KICKED');
    expect(!k.ok && k.error.until).toBeGreaterThan(Date.now());
    c.close();
  });

  it("a stranger's wrong passwords slow the stranger, not the owner at an address they used", async () => {
    const owner = await registeredFrom('127.0.0.6');
    const name = owner.username!;
    owner.close();
    const stranger = newClient(t, { localAddress: '127.0.0.5' });
    const codes: string[] = [];
    for (let i = 0; i < t.config.limits.loginFailuresPerAccount + 1; i++) codes.push(code(await stranger.login(name, `guess-${i}!!`)));
    expect(codes.at(-1)).toBe('TOO_MANY_ATTEMPTS');
    expect(code(await stranger.login(name, PASSWORD))).toBe('TOO_MANY_ATTEMPTS');
    const back = newClient(t, { localAddress: '127.0.0.6' });
    const r = await back.login(name, PASSWORD);
    expect(r.ok).toBe(true);
    stranger.close();
    back.close();
  });
});

describe('sessions end where they should', () => {
  it('logout ends every connection of the session; log out everywhere ends every session', async () => {
    const a = await registeredFrom('127.0.0.14');
    const name = a.username!;
    const sameSession = newClient(t, { localAddress: '127.0.0.14' });
    expect((await sameSession.resume(a.session!.token)).ok).toBe(true);
    const otherSession = newClient(t, { localAddress: '127.0.0.14' });
    expect((await otherSession.login(name, PASSWORD)).ok).toBe(true);
    await a.logout();
    await until(() => sameSession.status === 'closed', 'the session closed on its other connection');
    expect(sameSession.closeInfo?.code).toBe(CLOSE_CODES.SESSION_ENDED);
    expect((await otherSession.call('listRooms', {})).ok).toBe(true);

    const third = newClient(t, { localAddress: '127.0.0.14' });
    expect((await third.login(name, PASSWORD)).ok).toBe(true);
    const thirdToken = third.session!.token;
    await otherSession.logout({ everywhere: true });
    await until(() => third.status === 'closed', 'every session closed');
    expect(third.closeInfo?.code).toBe(CLOSE_CODES.SESSION_ENDED);
    const again = newClient(t, { localAddress: '127.0.0.14' });
    expect(code(await again.resume(thirdToken))).toBe('INVALID_SESSION');
    again.close();
  });

  it("a kick ends the user's sessions: the old token resumes nothing and exports nothing", async () => {
    const victim = await registeredFrom('127.0.0.15');
    const token = victim.session!.token;
    expect(await fetchExport(token)).toBe(200);
    kickUser(t.authority, { name: 'test-admin', origin: 'test' }, victim.username!, 1);
    await until(() => victim.status === 'closed', 'kicked');
    expect(await fetchExport(token)).toBe(401);
    // Once the kick has run out, the old token is still no session.
    await until(() => (t.authority.store.users.byName(victim.username!)!.kicked_until ?? 0) < Date.now(), 'kick over');
    const c = newClient(t, { localAddress: '127.0.0.15' });
    expect(code(await c.resume(token))).toBe('INVALID_SESSION');
    expect(await fetchExport(token)).toBe(401);
    c.close();
  });
});

describe('a client that ignores the time it was given', () => {
  it('is cut after ten logins sent again before their until, answered cheaply meanwhile', async () => {
    const victim = await registeredFrom('127.0.0.41');
    const name = victim.username!;
    victim.close();
    const ws = new WsClient(t.url, { rejectUnauthorized: false, localAddress: '127.0.0.42' });
    const replies: { error?: { code: string; until?: number } }[] = [];
    let waiting: ((v: unknown) => void) | null = null;
    ws.on('message', (d) => {
      replies.push(JSON.parse(d.toString()));
      waiting?.(null);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    let sent = 0;
    let closedCode: number | null = null;
    void closed.then((c) => (closedCode = c));
    // A spray loop: the next guess as soon as the answer comes, whatever it says. With OPAQUE a
    // guess is a loginStart (its reply tells the guesser alone whether the password was right).
    const { request } = await startLogin('not-the-password!');
    while (closedCode === null && sent < 40) {
      const answered = new Promise((resolve) => (waiting = resolve));
      ws.send(JSON.stringify({ id: ++sent, type: 'loginStart', username: name, startLoginRequest: request }));
      await Promise.race([answered, closed]);
    }
    expect(await closed).toBe(CLOSE_CODES.IGNORED_RETRY_TIME);
    const codes = replies.map((r) => r.error?.code);
    // Five answered (the per-account-and-address limit: each one a guess), then refusals with until, then the cut.
    expect(codes.slice(0, 5)).toEqual(Array(5).fill(undefined));
    expect(codes.slice(5).every((c) => c === 'TOO_MANY_ATTEMPTS')).toBe(true);
    expect(replies[5]?.error?.until).toBeGreaterThan(Date.now());
    expect(sent).toBeLessThanOrEqual(5 + 1 + 10);
  });
});
