/** The CLI end to end, as scripts use it: real processes against a real authority, exit codes included. */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, PASSWORD, registered, startAuthority, tempDir, uniqueName, until, type TestAuthority } from '../helpers/authority.js';
import { ROOT, run, tsxArgs } from '../helpers/process.js';
import { resetPassword } from '../../authority/src/handlers/moderation.js';
import { PROCESS_MS, processTestMs } from '../helpers/timing.js';

let t: TestAuthority;
let home: string;
let admin: string;
beforeAll(async () => {
  t = await startAuthority();
  home = tempDir('chandler-cli-home-');
  const a = await adminClient(t);
  admin = a.username!;
  a.close();
});
afterAll(async () => {
  await t.cleanup();
});

function cli(user: string, args: string[], extra: { password?: string; pin?: boolean } = {}) {
  const pin = extra.pin === false ? [] : ['--fingerprint', t.fingerprint!];
  return run('cli/main.ts', ['--url', t.url, ...pin, '--user', user, ...args], {
    CHANDLER_HOME: home,
    CHANDLER_PASSWORD: extra.password ?? PASSWORD,
  });
}

describe('cli', () => {
  it('runs every foundation command with the right output and exit codes', async () => {
    const alice = uniqueName('alice');
    const bob = uniqueName('bob');
    expect((await cli(alice, ['register'])).stdout).toContain(`registered and logged in as ${alice}`);
    expect((await cli(bob, ['register'])).code).toBe(0);

    const taken = await cli(alice, ['register']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^error USERNAME_TAKEN: /m);
    const wrong = await cli(alice, ['login'], { password: 'not-the-password!' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error WRONG_CREDENTIALS: /m);

    const rooms = await cli(alice, ['rooms']);
    expect(rooms.stdout).toMatch(/Général\s+member\s+open/);
    expect(rooms.stdout).toMatch(/Comptabilité\s+none\s+approval/);
    expect((await cli(alice, ['request', 'Blabla'])).stdout).toContain('member of Blabla');
    expect((await cli(alice, ['request', 'Comptabilité'])).stdout).toContain('request sent');
    const json = JSON.parse((await cli(alice, ['--json', 'rooms'])).stdout);
    expect(json.rooms.find((r: { name: string }) => r.name === 'Comptabilité').access).toBe('pending');

    const notAdmin = await cli(alice, ['requests']);
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toMatch(/^error NOT_ADMIN: /m);
    expect((await cli(admin, ['requests'])).stdout).toMatch(new RegExp(`${alice}\\s+Comptabilité`));
    expect((await cli(admin, ['approve', alice, 'Comptabilité'])).code).toBe(0);
    expect((await cli(alice, ['send', 'Comptabilité', 'bilan', 'du', 'mois'])).stdout).toMatch(/sent to Comptabilité as #\d+/);
    const denied = await cli(bob, ['send', 'Comptabilité', 'intrus']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^error NOT_A_MEMBER: /m);
    expect((await cli(alice, ['history', 'Comptabilité'])).stdout).toMatch(new RegExp(`#\\d+ .* ${alice}: bilan du mois`));

    expect((await cli(alice, ['befriend', bob])).stdout).toContain('friend request sent');
    expect((await cli(bob, ['friends'])).stdout).toMatch(new RegExp(`${alice}\\s+asks you`));
    expect((await cli(bob, ['accept', alice])).code).toBe(0);
    expect(JSON.parse((await cli(alice, ['--json', 'friends'])).stdout).friends[0]).toMatchObject({ username: bob, state: 'friends' });
    expect((await cli(alice, ['unfriend', bob])).code).toBe(0);
    expect((await cli(bob, ['befriend', alice])).code).toBe(0);
    expect((await cli(alice, ['refuse', bob])).code).toBe(0);
    expect((await cli(admin, ['force-friend', alice, bob])).stdout).toContain('are now friends');
    const deny = await cli(admin, ['deny', bob, 'Marketing']);
    expect(deny.code).toBe(1);
    expect(deny.stderr).toMatch(/^error NO_SUCH_REQUEST: /m);

    const usage = await cli(alice, ['send', 'Général']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('usage: send <room> <text>');
    const unknown = await cli(alice, ['fly']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error USAGE: unknown command/m);
  }, processTestMs(25)); // 25 CLI runs, one after the other

  it('pages history with --before and --limit', async () => {
    const u = uniqueName('pager');
    await cli(u, ['register']);
    for (let i = 0; i < 3; i++) await cli(u, ['send', 'Général', `page-${i}`]);
    const last = JSON.parse((await cli(u, ['--json', 'history', 'Général', '--limit', '2'])).stdout);
    expect(last.messages.map((m: { text: string }) => m.text)).toEqual(['page-1', 'page-2']);
    expect(last.hasMore).toBe(true);
    const older = JSON.parse((await cli(u, ['--json', 'history', 'Général', '--before', String(last.messages[0].seq), '--limit', '1'])).stdout);
    expect(older.messages.map((m: { text: string }) => m.text)).toEqual(['page-0']);
  }, processTestMs(6));

  it('listen prints live events as JSON lines', async () => {
    const listener = uniqueName('ear');
    const talker = uniqueName('mouth');
    await cli(listener, ['register']);
    await cli(talker, ['register']);
    const proc = spawn(process.execPath, tsxArgs('cli/main.ts', ['--url', t.url, '--fingerprint', t.fingerprint!, '--user', listener, 'listen', '--for', String(Math.ceil((2 * PROCESS_MS) / 1000))]), {
      cwd: ROOT,
      env: { ...process.env, CHANDLER_HOME: home, CHANDLER_PASSWORD: PASSWORD },
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    await until(() => err.includes('listening as'), 'listen started', PROCESS_MS);
    expect((await cli(talker, ['send', 'Général', 'can you hear me'])).code).toBe(0);
    await until(() => out.includes('can you hear me'), 'the listener prints the message');
    proc.kill('SIGINT');
    await new Promise((r) => proc.once('exit', r));
    const line = out.split('\n').find((l) => l.includes('can you hear me'))!;
    expect(JSON.parse(line)).toMatchObject({ ev: 'messagePosted', room: 'Général', author: talker, text: 'can you hear me' });
  }, processTestMs(4));

  it('prints bidi controls as markers and no terminal control from a message or a room name; --json keeps the exact text', async () => {
    const u = uniqueName('spoof');
    await cli(u, ['register']);
    const text = 'see https://files.example/\u202egnp.exe now \u009b31m red \u2067שלום\u2069';
    expect((await cli(u, ['send', 'Général', text])).code).toBe(0);
    const plain = (await cli(u, ['history', 'Général', '--limit', '1'])).stdout;
    expect(plain).toContain(`${u}: see https://files.example/[U+202E]gnp.exe now �31m red [U+2067]שלום[U+2069]`);
    expect(plain).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
    const raw = (await cli(u, ['--json', 'history', 'Général', '--limit', '1'])).stdout;
    expect(raw).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(JSON.parse(raw).messages[0].text).toBe(text);

    const a = await adminClient(t);
    const room = `ops\u2067x\u2069${u}`;
    expect((await a.call('adminCreateRoom', { name: room, policy: 'open' })).ok).toBe(true);
    a.close();
    const rooms = (await cli(u, ['rooms'])).stdout;
    expect(rooms).toContain(`ops[U+2067]x[U+2069]${u}`);
    expect(rooms).not.toMatch(/[\u2066-\u2069]/);
  }, processTestMs(5));

  it('indents the later lines of a message, so that none passes for a message of its own', async () => {
    const m = await registered(t, uniqueName('forger'));
    const fake = `#999 2026-01-01 00:00:00 ${admin}: the server moves to https://evil.example`;
    expect((await m.settled(m.post('Général', `hello\n${fake}`))).status).toBe('sent');
    m.close();
    const lines = (await cli(admin, ['history', 'Général', '--limit', '1'])).stdout.split('\n');
    expect(lines).toContain(`    ${fake}`);
    expect(lines.filter((l) => l.startsWith('#'))).toHaveLength(1);
  }, processTestMs(3));

  it('exports my data (server side and this device\'s DMs) and deletes my account', async () => {
    const me = uniqueName('gdpr');
    const friend = uniqueName('pal');
    await cli(me, ['register']);
    await cli(friend, ['register']);
    await cli(me, ['befriend', friend]);
    await cli(friend, ['accept', me]);
    expect((await cli(me, ['send', 'Général', 'my public words'])).code).toBe(0);
    const dm = await cli(me, ['dm', friend, 'my private words']);
    expect(dm.code).toBe(0);
    const file = `${home}/export-${me}.json`;
    const ex = await cli(me, ['export', '--out', file]);
    expect(ex.code).toBe(0);
    const data = JSON.parse(readFileSync(file, 'utf8'));
    expect(data.server.account.username).toBe(me);
    expect(data.server.roomMessages.map((m: { text: string }) => m.text)).toContain('my public words');
    expect(JSON.stringify(data.device.directMessages)).toContain('my private words');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const unsure = await cli(me, ['delete-account']);
    expect(unsure.code).toBe(1);
    expect(unsure.stderr).toMatch(/^error USAGE: .*--yes/m);
    expect((await cli(me, ['delete-account', '--yes'])).stdout).toContain('erased');
    const gone = await cli(me, ['login']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^error WRONG_CREDENTIALS/m);
  }, processTestMs(10));

  it('reset-password sets a new password with the reset code an admin gave; the old password and the used code stop working', async () => {
    const NEW_PASSWORD = 'Glacier-lanterne-57!';
    const u = uniqueName('forgot');
    expect((await cli(u, ['register'])).code).toBe(0);
    const reset = resetPassword(t.authority, { name: 'console', origin: 'console' }, u);
    if (!reset.ok) throw new Error(`reset failed: ${JSON.stringify(reset.error)}`);
    const code = reset.value.code;

    const usage = await cli(u, ['reset-password'], { password: NEW_PASSWORD });
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('usage: reset-password <code>');
    const wrong = await cli(u, ['reset-password', 'abcd-efgh-jkmn-pqrs'], { password: NEW_PASSWORD });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error WRONG_CREDENTIALS: /m);
    // The policy is checked before the code is spent: a weak password leaves the code usable.
    const weak = await cli(u, ['reset-password', code], { password: 'motdepasse' });
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/^error WEAK_PASSWORD: /m);

    const done = await cli(u, ['reset-password', code], { password: NEW_PASSWORD });
    expect(done.code).toBe(0);
    expect(done.stdout).toContain(`new password set; logged in as ${u}`);
    // This device's DM keys were sealed with the old password: new ones replace them.
    expect(done.stderr).toContain('replacing ones this password cannot open');

    const old = await cli(u, ['login']);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/^error WRONG_CREDENTIALS: /m);
    expect((await cli(u, ['login'], { password: NEW_PASSWORD })).stdout).toContain(`logged in as ${u}`);
    const reused = await cli(u, ['reset-password', code], { password: 'Un-autre-secret-93!' });
    expect(reused.code).toBe(1);
    expect(reused.stderr).toMatch(/^error WRONG_CREDENTIALS: /m);
  }, processTestMs(8));

  it('pins the certificate: refuses an unknown one with its fingerprint, trusts on --trust, refuses a wrong pin', async () => {
    const u = uniqueName('pin');
    const ownHome = tempDir('chandler-cli-pin-');
    const env = { CHANDLER_HOME: ownHome, CHANDLER_PASSWORD: PASSWORD };
    const unknown = await run('cli/main.ts', ['--url', t.url, '--user', u, 'register'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error CERT_UNKNOWN');
    expect(unknown.stderr).toContain(t.fingerprint!);
    expect(unknown.stderr).toContain('--trust');
    expect(t.authority.store.users.byName(u)).toBeUndefined(); // nothing was sent
    const trusted = await run('cli/main.ts', ['--url', t.url, '--trust', '--user', u, 'register'], env);
    expect(trusted.code).toBe(0);
    const remembered = await run('cli/main.ts', ['--url', t.url, '--user', u, 'login'], env);
    expect(remembered.code).toBe(0);
    const wrongPin = 'AB:'.repeat(31) + 'AB';
    const wrong = await run('cli/main.ts', ['--url', t.url, '--fingerprint', wrongPin, '--user', u, 'login'], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('error CERT_MISMATCH');
    expect(wrong.stderr).toContain(t.fingerprint!);
  }, processTestMs(4));
});
