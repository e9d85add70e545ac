/**
 * chandler-admin and the control socket: owner-only permissions (refused to another user),
 * exit codes, and what happens with no authority, a leftover socket, or a second authority.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, openDataDir, runAdminCli, spawnAuthority, type SpawnedAuthority } from './spawned.js';
import { processTestMs } from '../../helpers/timing.js';

/** An unprivileged account present on every Linux system. */
const NOBODY = 65534;

let a: SpawnedAuthority;

beforeAll(async () => {
  a = await spawnAuthority({ dataDir: openDataDir() });
});
afterAll(async () => {
  await a?.cleanup();
});

/** Tries to connect to the socket as the given uid; prints "connected" or the error code. */
function probe(path: string, uid?: number): Promise<string> {
  const code = `require('node:net').connect(${JSON.stringify(path)}).on('connect', function () { console.log('connected'); this.destroy(); }).on('error', (e) => console.log(e.code));`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
      ...(uid !== undefined && { uid, gid: uid }),
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', () => resolve(out.trim()));
  });
}

describe('control socket', () => {
  it('is owner-only, and refused to another user', async () => {
    const path = join(a.dataDir, 'admin.sock');
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.getuid!());
    // The data dir was made open to everyone; the authority made it owner-only at start, and the
    // socket is owner-only by its own mode as well.
    expect(statSync(a.dataDir).mode & 0o777).toBe(0o700);
    expect(await probe(path)).toBe('connected');
    if (process.getuid!() === 0) {
      expect(await probe(path, NOBODY)).toBe('EACCES');
    }
  });

  it('chandler-admin exits 0 on success and 1 on failure, with the reason on stderr', async () => {
    const ok = await a.admin(['rooms']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^Général\s+open/m);
    const unknown = await a.admin(['/frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown command \/frobnicate/);
    const missing = await a.admin(['/ban']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/usage: \/ban <user> \[reason…\]/);
    const nobody = await a.admin(['/kick', 'nobody_here', '60']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/UNKNOWN_USER/);
    const flag = await a.admin(['/rooms', '--everything']);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toMatch(/unknown option --everything/);
    const usage = await runAdminCli([]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/usage: npm run -s admin -- <command>/);
  }, processTestMs(6)); // six chandler-admin runs, one after the other

  it('says so when no authority runs on the data dir', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'chandler-none-'));
    try {
      const r = await runAdminCli(['/rooms', '--data', empty]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no authority is running on .*chandler-none-/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, processTestMs(1));

  it('refuses a second authority on the same data dir, and replaces a socket left by a crash', async () => {
    const second = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'authority/src/main.ts', '--port', '0', '--host', '127.0.0.1', '--data', a.dataDir, '--no-console'],
        { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another authority is running on .* \(pid \d+\)/);
    expect((await a.admin(['/rooms'])).code).toBe(0); // the first one is untouched

    // A crash leaves the socket file behind; the next start replaces it.
    process.kill(a.proc.pid!, 'SIGKILL');
    await a.exited;
    expect(statSync(join(a.dataDir, 'admin.sock')).isSocket()).toBe(true);
    const stale = await a.admin(['/rooms']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/is not running .* left over/);
    const dataDir = a.dataDir;
    a = await spawnAuthority({ dataDir });
    expect((await a.admin(['/rooms'])).code).toBe(0);
  }, processTestMs(5)); // a second authority, three chandler-admin runs and a restart
});
