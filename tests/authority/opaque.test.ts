/**
 * Passwords never reach the authority (issue 13 §1): every login, registration, password change
 * and reset is an OPAQUE exchange; accounts made before it move to it at their next login; an
 * admin's reset is a one-time code. Attacks on the exchange itself (malformed, replayed or
 * abandoned messages) get clear errors, leave nothing behind, and cost the guesser an attempt.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishLogin, startLogin } from '../../shared/crypto/opaque.js';
import type { SocketFactory } from '../../shared/client/index.js';
import { ChandlerClient } from '../../shared/client/index.js';
import { pinnedSocketFactory } from '../../cli/node-socket.js';
import { resetPassword, RESET_CODE_TTL_MS } from '../../authority/src/handlers/moderation.js';
import { OPAQUE_SETUP_FILE } from '../../authority/src/opaque-setup.js';
import { RawConn } from '../reliability/support/raw.js';
import { newClient, PASSWORD, registered, startAuthority, uniqueName, until, type TestAuthority } from '../helpers/authority.js';
import { LOADED_MS } from '../helpers/timing.js';
import { DEFAULT_OPAQUE_KSF } from '../../shared/protocol/index.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await t.cleanup();
});

const ADMIN = { name: 'test-admin', origin: 'test' };

/** A client whose every frame sent is kept: what the authority received, word for word. */
function recordingClient(sent: string[]): ChandlerClient {
  const pinned = pinnedSocketFactory({ fingerprint: t.fingerprint });
  const factory: SocketFactory = (url) => {
    const socket = pinned(url);
    const send = socket.send.bind(socket);
    socket.send = (data: string) => {
      sent.push(data);
      send(data);
    };
    return socket;
  };
  return new ChandlerClient({ url: t.url, socketFactory: factory, clientVersion: 'test/1', requestTimeoutMs: LOADED_MS });
}

/** Every file of a directory tree, as bytes (the database, its WAL, backups, the setup file). */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, bytes: readFileSync(path) }));
}

const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);

describe('the password never reaches the authority', () => {
  it('is in no frame the client sent, nor in the database, its WAL, a backup or the log, through register, login, change and erase', async () => {
    const marker = `Marqueur-${process.pid}-Zq8!vR2#`;
    const marker2 = `Autre-marqueur-${process.pid}-tL9$`;
    const sent: string[] = [];
    const name = uniqueName('opaque');
    const a = recordingClient(sent);
    expect(code(await a.register(name, marker))).toBe('ok');
    await a.logout();
    a.close();
    const b = recordingClient(sent);
    expect(code(await b.login(name, marker))).toBe('ok');
    expect(code(await b.changePassword(marker, marker2))).toBe('ok');
    await t.authority.backups.backupNow();
    const types = sent.map((f) => (JSON.parse(f) as { type: string }).type);
    expect(types).toEqual(expect.arrayContaining(['registerStart', 'registerFinish', 'loginStart', 'loginFinish', 'reauthStart', 'changePassword']));
    const forms = (p: string) => [p, Buffer.from(p).toString('base64'), Buffer.from(p).toString('base64url'), Buffer.from(p).toString('hex')];
    for (const p of [marker, marker2]) {
      for (const form of forms(p)) {
        expect(sent.some((f) => f.includes(form)), `a frame holds ${form}`).toBe(false);
        expect(t.logs.some((l) => l.includes(form)), `the log holds ${form}`).toBe(false);
        for (const file of filesUnder(t.dataDir)) expect(file.bytes.includes(form), `${file.path} holds ${form}`).toBe(false);
      }
    }
    b.close();
  });

  it('keeps its OPAQUE secret in an owner-only file of the data dir, and refuses to start without it once accounts need it', async () => {
    const file = join(t.dataDir, OPAQUE_SETUP_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await registered(t).then((c) => c.close());
    const other = await startAuthority();
    const dataDir = other.dataDir;
    await registered(other).then((c) => c.close());
    await other.stop();
    const { rmSync } = await import('node:fs');
    rmSync(join(dataDir, OPAQUE_SETUP_FILE));
    await expect(startAuthority({}, dataDir)).rejects.toThrow(/opaque-setup\.key is missing, and 1 account\(s\) need it/);
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('one answer for a wrong name or a wrong password', () => {
  it('gives an unknown name a login response like a real one, which no password opens', async () => {
    const c = await registered(t);
    const known = c.username!;
    c.close();
    const responses: Record<string, { loginResponse: string; ksf: unknown }> = {};
    for (const name of [known, uniqueName('nobody')]) {
      const raw = await RawConn.open(t.url);
      const started = await startLogin('not-the-password!');
      const r = await raw.request(1, 'loginStart', { username: name, startLoginRequest: started.request });
      expect(r.ok).toBe(true);
      responses[name] = r.result as { loginResponse: string; ksf: unknown };
      const ksf = responses[name]!.ksf as Parameters<typeof finishLogin>[3];
      expect(await finishLogin(started, responses[name]!.loginResponse, 'not-the-password!', ksf)).toBeNull();
      raw.close();
    }
    const [mine, stranger] = Object.values(responses);
    expect(stranger!.loginResponse.length).toBe(mine!.loginResponse.length);
    expect(stranger!.ksf).toEqual(mine!.ksf);
    // The client core says the same for both, and ends each exchange at once: logged alike.
    const nobody = uniqueName('nobody');
    for (const name of [known, nobody]) {
      const d = newClient(t);
      expect(code(await d.login(name, 'not-the-password!'))).toBe('WRONG_CREDENTIALS');
      d.close();
    }
    const logged = (name: string) => t.logs.find((l) => l.includes('login_failed') && l.includes(`user=${name} `));
    expect(logged(known)).toMatch(/known=true/);
    expect(logged(nobody)).toMatch(/known=false/);
  });
});

describe('the key stretching a client accepts', () => {
  it('a client with a floor (the desktop app: the default) refuses an authority that asks for less, before sending anything of the password', async () => {
    const c = await registered(t); // made with the tests' cheap stretching
    const name = c.username!;
    c.close();
    const strict = new ChandlerClient({
      url: t.url,
      socketFactory: pinnedSocketFactory({ fingerprint: t.fingerprint }),
      clientVersion: 'test/1',
      requestTimeoutMs: LOADED_MS,
      minKsf: DEFAULT_OPAQUE_KSF,
    });
    expect(code(await strict.login(name, PASSWORD))).toBe('WEAK_KEY_STRETCHING');
    expect(code(await strict.register(uniqueName('strict'), PASSWORD))).toBe('WEAK_KEY_STRETCHING');
    strict.close();
  });
});

describe('attacks on the exchange', () => {
  it('answers malformed OPAQUE messages INVALID_AUTH_MESSAGE or BAD_REQUEST, and keeps serving', async () => {
    const raw = await RawConn.open(t.url);
    const name = uniqueName('fuzz');
    const random = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 97 + 13) & 0xff)).toString('base64url');
    const answers = [
      await raw.request(1, 'loginStart', { username: name, startLoginRequest: 'AAAA' }),
      await raw.request(2, 'loginStart', { username: name, startLoginRequest: random(96) }),
      await raw.request(3, 'registerStart', { username: name, registrationRequest: random(32) }),
      await raw.request(4, 'registerStart', { username: name, registrationRequest: 'not base64url!' }),
      await raw.request(5, 'loginFinish', { finishLoginRequest: random(64) }),
      await raw.request(6, 'registerFinish', { registrationRecord: random(192) }),
      await raw.request(7, 'loginStart', { username: name, startLoginRequest: 'A'.repeat(5000) }),
    ];
    expect(answers.map(code)).toEqual([
      'INVALID_AUTH_MESSAGE',
      'INVALID_AUTH_MESSAGE',
      'INVALID_AUTH_MESSAGE',
      'BAD_REQUEST',
      'NO_AUTH_EXCHANGE', // a finish with no start
      'NO_AUTH_EXCHANGE',
      'BAD_REQUEST',
    ]);
    raw.close();
    const c = await registered(t);
    expect(c.status).toBe('ready');
    c.close();
  });

  it('refuses a record of the wrong size, and the name stays free', async () => {
    const raw = await RawConn.open(t.url);
    const name = uniqueName('short');
    const { startRegistration } = await import('../../shared/crypto/opaque.js');
    const started = await startRegistration(PASSWORD);
    expect(code(await raw.request(1, 'registerStart', { username: name, registrationRequest: started.request }))).toBe('ok');
    const bad = await raw.request(2, 'registerFinish', { registrationRecord: Buffer.alloc(64).toString('base64url') });
    expect(code(bad)).toBe('INVALID_AUTH_MESSAGE');
    expect(t.authority.store.users.byName(name)).toBeUndefined();
    raw.close();
  });

  it('does not let a finish seen on the wire log anyone in again', async () => {
    const sent: string[] = [];
    const c = await registered(t);
    const name = c.username!;
    c.close();
    const victim = recordingClient(sent);
    expect(code(await victim.login(name, PASSWORD))).toBe('ok');
    const finish = sent.map((f) => JSON.parse(f) as { type: string; finishLoginRequest?: string }).find((f) => f.type === 'loginFinish')!;
    victim.close();
    // Replayed alone, on a connection of its own: there is no exchange to finish.
    const raw = await RawConn.open(t.url);
    expect(code(await raw.request(1, 'loginFinish', { finishLoginRequest: finish.finishLoginRequest }))).toBe('NO_AUTH_EXCHANGE');
    // Replayed after a fresh start of the attacker's: bound to the other exchange, it proves nothing.
    const started = await startLogin('attacker-does-not-know!');
    expect(code(await raw.request(2, 'loginStart', { username: name, startLoginRequest: started.request }))).toBe('ok');
    expect(code(await raw.request(3, 'loginFinish', { finishLoginRequest: finish.finishLoginRequest }))).toBe('WRONG_CREDENTIALS');
    // And a finish is good once: the exchange is gone after it.
    expect(code(await raw.request(4, 'loginFinish', { finishLoginRequest: finish.finishLoginRequest }))).toBe('NO_AUTH_EXCHANGE');
    raw.close();
  });

  it('counts a login left half-way as a failed attempt: five starts never finished, and the sixth is refused', async () => {
    const c = await registered(t);
    const name = c.username!;
    c.close();
    const started = await startLogin('a-guess-never-finished!');
    for (let i = 0; i < 5; i++) {
      // A new connection each time: closing it drops the exchange, which keeps its slot.
      const raw = await RawConn.open(t.url, { localAddress: '127.0.0.9' });
      expect(code(await raw.request(1, 'loginStart', { username: name, startLoginRequest: started.request }))).toBe('ok');
      raw.close();
    }
    const raw = await RawConn.open(t.url, { localAddress: '127.0.0.9' });
    await until(() => t.logs.filter((l) => l.includes('login_failed') && l.includes(name) && l.includes('127.0.0.9')).length >= 5, 'five logged');
    expect(code(await raw.request(1, 'loginStart', { username: name, startLoginRequest: started.request }))).toBe('TOO_MANY_ATTEMPTS');
    raw.close();
    // The owner, from their own address, still gets in.
    const owner = newClient(t);
    expect(code(await owner.login(name, PASSWORD))).toBe('ok');
    owner.close();
  });
});

describe('accounts made before OPAQUE', () => {
  /** An account as version 6 left it: a scrypt hash, no record. */
  async function legacyAccount(password: string): Promise<string> {
    const c = await registered(t);
    const name = c.username!;
    c.close();
    const hashed = await t.authority.passwords.hash(password, 'test');
    if (!hashed.ok) throw new Error('pool busy');
    t.authority.store.db
      .prepare('UPDATE users SET pass_hash = ?, opaque_record = NULL, opaque_ksf = NULL WHERE username = ?')
      .run(hashed.value, name);
    return name;
  }

  it('move to OPAQUE at their next login: the scrypt hash is deleted, and the next login is an OPAQUE one', async () => {
    const name = await legacyAccount(PASSWORD);
    const wrong = newClient(t);
    expect(code(await wrong.login(name, 'not-the-password!'))).toBe('WRONG_CREDENTIALS');
    wrong.close();
    expect(t.authority.store.users.byName(name)!.opaque_record).toBeNull();
    const sent: string[] = [];
    const c = recordingClient(sent);
    expect(code(await c.login(name, PASSWORD))).toBe('ok');
    const row = t.authority.store.users.byName(name)!;
    expect(row.pass_hash).toBe('');
    expect(Buffer.from(row.opaque_record!, 'base64url')).toHaveLength(192);
    expect(sent.map((f) => (JSON.parse(f) as { type: string }).type)).toContain('legacyLogin');
    c.close();
    sent.length = 0;
    const d = recordingClient(sent);
    expect(code(await d.login(name, PASSWORD))).toBe('ok');
    expect(sent.some((f) => f.includes(PASSWORD))).toBe(false);
    expect(sent.map((f) => (JSON.parse(f) as { type: string }).type)).toEqual(expect.arrayContaining(['loginStart', 'loginFinish']));
    d.close();
    expect(t.logs.some((l) => l.includes('account_migrated') && l.includes(name))).toBe(true);
  });
});

describe("an admin's reset: a one-time code", () => {
  it('locks the old password out; the code, once, sets a new one the authority never sees', async () => {
    const c = await registered(t);
    const name = c.username!;
    const reset = resetPassword(t.authority, ADMIN, name);
    expect(reset.ok).toBe(true);
    if (!reset.ok) return;
    await until(() => c.status === 'closed', 'the session ended');
    expect(reset.value.code).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect(reset.value.expires - Date.now()).toBeGreaterThan(RESET_CODE_TTL_MS - 60_000);
    const row = t.authority.store.users.byName(name)!;
    expect(row.reset_code_hash).not.toContain(reset.value.code.replace(/-/g, ''));

    const old = newClient(t);
    expect(code(await old.login(name, PASSWORD))).toBe('WRONG_CREDENTIALS');
    old.close();
    const wrongCode = newClient(t);
    expect(code(await wrongCode.resetPassword(name, 'aaaa-bbbb-cccc-dddd', 'Nouveau-mot-de-passe-42'))).toBe('WRONG_CREDENTIALS');
    wrongCode.close();
    const weak = newClient(t);
    expect(code(await weak.resetPassword(name, reset.value.code, 'password123!'))).toBe('WEAK_PASSWORD');
    weak.close();
    const sent: string[] = [];
    const u = recordingClient(sent);
    // Typed as the admin read it out: upper case and spaces do not matter.
    const typed = reset.value.code.toUpperCase().replace(/-/g, ' ');
    expect(code(await u.resetPassword(name, typed, 'Nouveau-mot-de-passe-42'))).toBe('ok');
    expect(sent.some((f) => f.includes('Nouveau-mot-de-passe-42'))).toBe(false);
    u.close();
    const again = newClient(t);
    expect(code(await again.resetPassword(name, reset.value.code, 'Encore-un-autre-secret-7'))).toBe('WRONG_CREDENTIALS');
    again.close();
    const back = newClient(t);
    expect(code(await back.login(name, 'Nouveau-mot-de-passe-42'))).toBe('ok');
    back.close();
  });

  it('refuses an expired code', async () => {
    const c = await registered(t);
    const name = c.username!;
    c.close();
    const reset = resetPassword(t.authority, ADMIN, name);
    if (!reset.ok) throw new Error(reset.error.code);
    t.authority.store.db.prepare('UPDATE users SET reset_expires = ? WHERE username = ?').run(Date.now() - 1, name);
    const u = newClient(t);
    expect(code(await u.resetPassword(name, reset.value.code, 'Nouveau-mot-de-passe-42'))).toBe('WRONG_CREDENTIALS');
    u.close();
  });
});
