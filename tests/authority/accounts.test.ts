import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLogin } from '../../shared/crypto/opaque.js';
import { newClient, PASSWORD, reconnectedAfterCut, registered, startAuthority, uniqueName, until, type TestAuthority } from '../helpers/authority.js';
import { kickUser } from '../../authority/src/handlers/moderation.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await t.cleanup();
});

describe('accounts', () => {
  it('registers, logs out and logs back in', async () => {
    const name = uniqueName('alice');
    const a = newClient(t);
    const r = await a.register(name, PASSWORD);
    expect(r.ok).toBe(true);
    expect(a.status).toBe('ready');
    expect(a.session?.user).toEqual({ username: name, admin: false, mustChangePassword: false });
    await a.logout();
    const b = newClient(t);
    const again = await b.login(name.toUpperCase(), PASSWORD);
    expect(again.ok).toBe(true);
    expect(b.username).toBe(name);
    b.close();
  });

  it('answers each registration error with its code', async () => {
    const c = newClient(t);
    const bad = async (u: string, p: string) => {
      const r = await c.register(u, p);
      return r.ok ? 'ok' : r.error.code;
    };
    expect(await bad('ab', PASSWORD)).toBe('INVALID_USERNAME');
    expect(await bad('x'.repeat(33), PASSWORD)).toBe('INVALID_USERNAME');
    expect(await bad('bad name', PASSWORD)).toBe('INVALID_USERNAME');
    expect(await bad('evil\u0007bell', PASSWORD)).toBe('INVALID_USERNAME');
    expect(await bad('élodie', PASSWORD)).toBe('INVALID_USERNAME');
    const name = uniqueName('weak');
    expect(await bad(name, 'short!1')).toBe('WEAK_PASSWORD');
    expect(await bad(name, 'longenoughbutplain1')).toBe('WEAK_PASSWORD');
    const taken = await registered(t);
    expect(await bad(taken.username!.toUpperCase(), PASSWORD)).toBe('USERNAME_TAKEN');
    taken.close();
    c.close();
  });

  it('answers each login error with its code', async () => {
    const user = await registered(t);
    const name = user.username!;
    user.close();
    const c = newClient(t);
    const r1 = await c.login('nobody_here', PASSWORD);
    expect(!r1.ok && r1.error.code).toBe('WRONG_CREDENTIALS');
    const r2 = await c.login(name, 'wrong-password-!!');
    expect(!r2.ok && r2.error.code).toBe('WRONG_CREDENTIALS');
    const r3 = await c.login('a', PASSWORD);
    expect(!r3.ok && r3.error.code).toBe('INVALID_USERNAME');
    c.close();
  });

  it('throttles repeated wrong passwords per account and address', async () => {
    const user = await registered(t);
    const name = user.username!;
    user.close();
    const c = newClient(t);
    const codes: string[] = [];
    for (let i = 0; i < t.config.limits.loginFailuresPerAccount + 1; i++) {
      const r = await c.login(name, `wrong-password-${i}!`);
      codes.push(r.ok ? 'ok' : r.error.code);
    }
    expect(codes.slice(0, -1).every((x) => x === 'WRONG_CREDENTIALS')).toBe(true);
    expect(codes.at(-1)).toBe('TOO_MANY_ATTEMPTS');
    const right = await c.login(name, PASSWORD);
    expect(!right.ok && right.error.code).toBe('TOO_MANY_ATTEMPTS');
    expect(!right.ok && right.error.until).toBeGreaterThan(Date.now());
    c.close();
  });

  it('refuses requests before login and a second login on one connection', async () => {
    const c = newClient(t);
    await c.connect();
    const r = await c.call('listRooms', {});
    expect(!r.ok && r.error.code).toBe('NOT_AUTHENTICATED');
    const name = uniqueName();
    expect((await c.register(name, PASSWORD)).ok).toBe(true);
    const again = await c.call('loginStart', { username: name, startLoginRequest: (await startLogin(PASSWORD)).request });
    expect(!again.ok && again.error.code).toBe('ALREADY_AUTHENTICATED');
    c.close();
  });

  it('resumes a session with its token, and not after logout', async () => {
    const a = await registered(t);
    const token = a.session!.token;
    const b = newClient(t);
    const r = await b.resume(token);
    expect(r.ok).toBe(true);
    expect(b.username).toBe(a.username);
    await a.logout();
    const c = newClient(t);
    const dead = await c.resume(token);
    expect(!dead.ok && dead.error.code).toBe('INVALID_SESSION');
    b.close();
    c.close();
  });

  it('stores only a hash of session tokens, and of a password only its OPAQUE record', async () => {
    const a = await registered(t);
    const token = a.session!.token;
    const rows = t.authority.store.db.prepare('SELECT token_hash FROM sessions').all() as { token_hash: string }[];
    expect(rows.some((r) => r.token_hash === token)).toBe(false);
    const user = t.authority.store.users.byName(a.username!)!;
    expect(user.pass_hash).toBe(''); // no scrypt hash: the authority never had the password
    expect(Buffer.from(user.opaque_record!, 'base64url')).toHaveLength(192);
    expect(JSON.parse(user.opaque_ksf!)).toEqual(t.config.opaqueKsf);
    a.close();
  });
});

describe('bans at connect', () => {
  it('tells a client from a banned address that it is banned, not merely disconnected', async () => {
    const own = await startAuthority();
    try {
      const victim = await registered(own);
      const row = own.authority.store.users.byName(victim.username!)!;
      own.authority.store.users.ban(row.id, 'test', Date.now()); // bans 127.0.0.1, the address it used
      const c = newClient(own);
      const r = await c.register(uniqueName('fresh'), PASSWORD);
      expect(!r.ok && r.error.code).toBe('BANNED');
      c.close();
      victim.close();
    } finally {
      await own.cleanup();
    }
  });
});

describe('a live session ended by an admin', () => {
  it('tells the user they were kicked and until when, and does not reconnect', async () => {
    const own = await startAuthority();
    try {
      const victim = await registered(own);
      const r = kickUser(own.authority, { name: 'test-admin', origin: 'test' }, victim.username!, 60);
      expect(r.ok).toBe(true);
      await until(() => victim.status === 'closed', 'session ended');
      const why = victim.closeInfo?.error;
      expect(why?.code).toBe('KICKED');
      expect(why?.until).toBeGreaterThan(Date.now() + 50_000);
      // No reconnect loop against a kick: a client cut the ordinary way, with the same backoff, is back first.
      const control = await registered(own);
      await reconnectedAfterCut(own, control);
      control.close();
      expect(victim.status).toBe('closed');
      expect(own.authority.hub.connectionsOf(own.authority.store.users.byName(victim.username!)!.id).size).toBe(0);
    } finally {
      await own.cleanup();
    }
  });
});
