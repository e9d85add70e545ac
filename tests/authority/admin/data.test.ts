/** /backup, /export_user, /delete_user through chandler-admin, and `npm start -- --restore` on the stopped authority. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newClient, PASSWORD, uniqueName } from '../../helpers/authority.js';
import { run } from '../../helpers/process.js';
import { spawnAuthority, type SpawnedAuthority } from './spawned.js';
import { processTestMs } from '../../helpers/timing.js';

/** The banned account's own loopback address: 127.0.0.1 is the console's, which a ban never blocks. */
const BANNED_FROM = '127.0.0.6';
let a: SpawnedAuthority;
beforeAll(async () => {
  a = await spawnAuthority({ extraArgs: ['--backup-time', 'off'] });
});
afterAll(async () => {
  await a?.cleanup();
});

describe('data commands', () => {
  it('backs up on demand, lists backups, exports and erases a user, all audited; restore brings the data back', async () => {
    const name = uniqueName('gdpr');
    const c = newClient(a);
    expect((await c.register(name, PASSWORD)).ok).toBe(true);
    expect((await c.settled(c.post('Général', 'a message to keep in the backup'))).status).toBe('sent');

    const b = await a.admin(['/backup']);
    expect(b.code).toBe(0);
    const file = /backup written: (\S+)/.exec(b.stdout)?.[1];
    expect(file && existsSync(file)).toBeTruthy();
    expect((await a.admin(['/backup', '--list'])).stdout).toContain(file!);

    const ex = await a.admin(['/export_user', name, 'gdpr-export.json']);
    expect(ex.code).toBe(0);
    const exported = JSON.parse(readFileSync(join(a.dataDir, 'gdpr-export.json'), 'utf8'));
    expect(exported.server.account.username).toBe(name);
    expect(exported.server.roomMessages.map((m: { text: string }) => m.text)).toEqual(['a message to keep in the backup']);
    expect((await a.admin(['/export_user', 'ghost_user'])).stderr).toContain('UNKNOWN_USER');

    const refused = await a.admin(['/delete_user', name]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--yes');
    const del = await a.admin(['/delete_user', name, '--yes']);
    expect(del.code).toBe(0);
    expect(del.stdout).toMatch(/erased \S+ \(1 room message deleted, sessions ended\)/);
    const again = newClient(a);
    const login = await again.login(name, PASSWORD);
    expect(!login.ok && login.error.code).toBe('WRONG_CREDENTIALS');
    // A banned account that is erased leaves its address ban (it protects the others); it can be lifted by address.
    const banned = uniqueName('banned');
    const bc = newClient(a, { localAddress: BANNED_FROM });
    expect((await bc.register(banned, PASSWORD)).ok).toBe(true);
    bc.close();
    expect((await a.admin(['/ban', banned, 'spam'])).code).toBe(0);
    expect((await a.admin(['/delete_user', banned, '--yes'])).code).toBe(0);
    expect((await a.admin(['/banned_ips'])).stdout).toMatch(/127\.0\.0\.6\s+\(account erased\)/);
    const blocked = newClient(a, { localAddress: BANNED_FROM });
    const refused2 = await blocked.register(uniqueName('next'), PASSWORD);
    expect(!refused2.ok && refused2.error.code).toBe('BANNED');
    blocked.close();
    expect((await a.admin(['/unban_ip', BANNED_FROM])).code).toBe(0);
    expect((await a.admin(['/unban_ip', BANNED_FROM])).stderr).toContain('NO_SUCH_BAN');
    const free = newClient(a, { localAddress: BANNED_FROM });
    expect((await free.register(uniqueName('next'), PASSWORD)).ok).toBe(true);
    free.close();

    const audit = await a.admin(['/audit', '10']);
    for (const action of ['backup', 'export_user', 'delete_user', 'unban_ip']) expect(audit.stdout).toContain(action);
    c.close();
    again.close();

    // Restore refuses while the authority runs, then works once it is stopped.
    const busy = await run('authority/src/main.ts', ['--data', a.dataDir, '--restore', file!]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/RESTORE_FAILED: .*running/);
    a.type('kill\n');
    expect(await a.exited).toBe(0);
    const restored = await run('authority/src/main.ts', ['--data', a.dataDir, '--restore', file!]);
    expect(restored.code).toBe(0);
    a = await spawnAuthority({ dataDir: a.dataDir, extraArgs: ['--backup-time', 'off'] });
    const back = newClient(a);
    expect((await back.login(name, PASSWORD)).ok).toBe(true);
    back.close();
  }, processTestMs(15)); // twelve chandler-admin runs, two restores and a restart
});
