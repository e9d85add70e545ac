/**
 * DMs with the CLI, as two new users would try them: real processes, each user with their
 * own CHANDLER_HOME (their own device), against a real authority.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { identityName } from '../../shared/client/dm/index.js';
import { generateIdentity, publicIdentity } from '../../shared/crypto/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, registered, startAuthority, tempDir, uniqueName, until, type TestAuthority } from '../helpers/authority.js';
import { ROOT, run, tsxArgs } from '../helpers/process.js';
import { PROCESS_MS, processTestMs } from '../helpers/timing.js';

let t: TestAuthority;
const homes: string[] = [];
const procs: ChildProcess[] = [];

beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await t.cleanup();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function home(): string {
  const h = tempDir('chandler-dm-cli-');
  homes.push(h);
  return h;
}

function cli(user: string, userHome: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return run('cli/main.ts', ['--url', t.url, '--fingerprint', t.fingerprint!, '--user', user, ...args], {
    CHANDLER_HOME: userHome,
    CHANDLER_PASSWORD: PASSWORD,
    ...env,
  });
}

/** `listen` in the background; resolves once its DM keys are unlocked. */
async function listen(user: string, userHome: string) {
  const proc = spawn(
    process.execPath,
    tsxArgs('cli/main.ts', ['--url', t.url, '--fingerprint', t.fingerprint!, '--user', user, 'listen', '--for', String(Math.ceil((4 * PROCESS_MS) / 1000))]),
    { cwd: ROOT, env: { ...process.env, CHANDLER_HOME: userHome, CHANDLER_PASSWORD: PASSWORD } },
  );
  procs.push(proc);
  const io = { out: '', err: '' };
  proc.stdout!.on('data', (d) => (io.out += d));
  proc.stderr!.on('data', (d) => (io.err += d));
  await until(() => io.err.includes('listening as'), 'listen started', PROCESS_MS);
  const lines = () =>
    io.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const stop = async () => {
    proc.kill('SIGINT');
    if (proc.exitCode === null) await new Promise((r) => proc.once('exit', r));
  };
  return { lines, stop, io };
}

describe('DMs with the CLI', () => {
  it('direct, relayed and stored paths, safety numbers, a key change and trust', async () => {
    // Accounts and friendship as the foundation CLI makes them (tested there): here, directly.
    const alice = uniqueName('alice');
    const bob = uniqueName('bob');
    const aliceHome = home();
    const bobHome = home();
    const [ca, cb] = [await registered(t, alice), await registered(t, bob)];
    expect((await ca.call('requestFriend', { username: bob })).ok).toBe(true);
    expect((await cb.call('acceptFriend', { username: alice })).ok).toBe(true);
    ca.close();
    cb.close();

    // Both online: direct, with the receipt. Each device makes its keys at its first DM login.
    const ear = await listen(bob, bobHome);
    expect(ear.io.err).toContain("created this device's direct-message keys");
    const direct = await cli(alice, aliceHome, ['dm', bob, 'hello', 'over', 'WebRTC']);
    expect(direct.code).toBe(0);
    expect(direct.stderr).toContain("created this device's direct-message keys");
    expect(direct.stdout.trim()).toBe('direct, delivered');
    await until(() => ear.lines().some((l) => l.ev === 'dm' && l.text === 'hello over WebRTC'), 'bob sees the DM');
    expect(ear.lines().find((l) => l.ev === 'dm')).toMatchObject({ from: alice, path: 'direct' });

    // WebRTC blocked on alice's side: relayed by the authority.
    const relayed = await cli(alice, aliceHome, ['--json', 'dm', bob, 'through the relay'], { CHANDLER_ICE_TRANSPORT_POLICY: 'relay' });
    expect(JSON.parse(relayed.stdout)).toMatchObject({ ok: true, path: 'relayed', status: 'delivered' });
    await until(() => ear.lines().some((l) => l.ev === 'dm' && l.text === 'through the relay'), 'bob sees the relayed DM');
    expect(ear.lines().find((l) => l.text === 'through the relay')).toMatchObject({ path: 'relayed' });
    await ear.stop();

    // Bob offline: stored until his next login.
    const stored = await cli(alice, aliceHome, ['dm', bob, 'while you were away']);
    expect(stored.stdout).toContain('stored');
    const history = await cli(bob, bobHome, ['dms', alice, '--limit', '10']);
    expect(history.stdout).toMatch(new RegExp(`${alice}: hello over WebRTC {2}\\(direct\\)`));
    expect(history.stdout).toMatch(new RegExp(`${alice}: through the relay {2}\\(relayed\\)`));
    expect(history.stdout).toMatch(new RegExp(`${alice}: while you were away {2}\\(stored\\)`));

    // The same safety number on both sides.
    const digits = (out: string) => out.match(/\d{5}/g)?.join(' ');
    const fromAlice = digits((await cli(alice, aliceHome, ['safety', bob])).stdout);
    const fromBob = digits((await cli(bob, bobHome, ['safety', alice])).stdout);
    expect(fromAlice).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(fromAlice).toBe(fromBob);

    // Both devices print the key log head they verified: the same log, the same root.
    const headOf = (out: string) => /head: size (\d+), root (\S+)/.exec(out)?.slice(1).join(' ');
    const aliceLog = await cli(alice, aliceHome, ['keylog']);
    expect(aliceLog.code).toBe(0);
    expect(headOf(aliceLog.stdout)).toBe(headOf((await cli(bob, bobHome, ['keylog'])).stdout));

    // Bob on a second device (--home beats CHANDLER_HOME): the same identity, nothing changes for alice.
    const second = home();
    const unused = `${second}-not-used`;
    expect((await cli(bob, unused, ['--home', second, 'login'])).code).toBe(0);
    expect(existsSync(join(second, 'dm', identityName(bob)))).toBe(true);
    expect(existsSync(unused)).toBe(false);
    const same = await cli(alice, aliceHome, ['dm', bob, 'same bob, other desk']);
    expect(same.code).toBe(0);
    expect(same.stderr).not.toContain('key changed');

    // Bob starts over with no identity kept for his account (as after an admin's reset): a new
    // key. Alice is warned and blocked until she trusts it.
    t.authority.store.dms.deleteBackup(t.authority.store.users.byName(bob)!.id);
    expect((await cli(bob, home(), ['login'])).code).toBe(0);
    const blocked = await cli(alice, aliceHome, ['dm', bob, 'are you really bob']);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toMatch(/^error KEY_CHANGED: /m);
    expect(blocked.stderr).toContain(`warning: ${bob}'s key changed`);
    const trusted = await cli(alice, aliceHome, ['trust', bob]);
    expect(trusted.stdout).toContain(`trusted ${bob}'s new key`);
    expect((await cli(alice, aliceHome, ['dm', bob, 'now I know it is you'])).stdout).toContain('stored');

    // The local history can be exported (the receipt for the stored DM came back meanwhile), then erased.
    const exported = JSON.parse((await cli(alice, aliceHome, ['--json', 'dm-export'])).stdout);
    expect(exported.messages.find((m: { text: string }) => m.text === 'while you were away')).toMatchObject({ path: 'stored', status: 'delivered' });
    expect((await cli(alice, aliceHome, ['dm-erase', bob])).stdout).toMatch(/^erased 5 direct message\(s\) with /);

    // Last: bob's first device, at its next login, takes the account's new identity (and says so);
    // the new key in the log is its own now, so the key log raises no alarm.
    const watched = await cli(bob, bobHome, ['keylog']);
    expect(watched.code).toBe(0);
    expect(watched.stderr).toContain('warning IDENTITY_ADOPTED: this device now uses your account');
    expect(watched.stderr).not.toContain('ALARM');
    // A key the operator logs for bob, which none of his devices made: the alarm, and exit 1.
    t.authority.keyLog.publish(t.authority.store.users.byName(bob)!.id, bob, publicIdentity(generateIdentity()), Date.now());
    const alarmed = await cli(bob, bobHome, ['keylog']);
    expect(alarmed.code).toBe(1);
    expect(alarmed.stderr).toMatch(/ALARM \(key log, unknownBinding\): the server announced another key for your account/);
  }, processTestMs(20)); // twenty CLI runs, one after the other
});
