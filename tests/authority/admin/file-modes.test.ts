/**
 * The data dir holds password hashes, session hashes, the TLS and audit keys and backups: none of
 * it may be readable by other local accounts, even when the dir was made 0755 beforehand. A real
 * authority process started on such a dir, and one started on an old dir with a 0644 database.
 */
import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../../authority/src/store/index.js';
import { processTestMs } from '../../helpers/timing.js';
import { openDataDir, spawnAuthority, type SpawnedAuthority } from './spawned.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('modes of the data dir', () => {
  let a: SpawnedAuthority | undefined;
  afterEach(async () => {
    await a?.cleanup();
    a = undefined;
  });

  it('a dir made 0755 beforehand: the dir becomes 0700; database, -wal, -shm, keys, head, pid, socket and backups are 0600', async () => {
    const dir = openDataDir();
    expect(mode(dir)).toBe(0o755);
    a = await spawnAuthority({ dataDir: dir, extraArgs: ['--backup-time', 'off'] });
    await a.command('/create_room Secrets open', /created.*\n/);
    expect((await a.admin(['/backup'])).code).toBe(0);
    expect(mode(dir)).toBe(0o700);
    for (const name of ['chandler.db', 'chandler.db-wal', 'chandler.db-shm', 'audit.key', 'audit.head', 'tls-key.pem', 'authority.pid', 'admin.sock']) {
      expect(existsSync(join(dir, name)), name).toBe(true);
      expect(mode(join(dir, name)), name).toBe(0o600);
    }
    expect(mode(join(dir, 'backups'))).toBe(0o700);
    const backups = readdirSync(join(dir, 'backups'));
    expect(backups.length).toBe(1);
    expect(mode(join(dir, 'backups', backups[0]!))).toBe(0o600);
  }, processTestMs(4));

  it('an old dir with a 0644 database and backup: fixed at start, with a warning naming each file', async () => {
    const dir = openDataDir();
    Store.openInDir(dir).close();
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'chandler.db'), 0o644);
    writeFileSync(join(dir, 'old-backup.db'), 'x', { mode: 0o644 });
    chmodSync(join(dir, 'old-backup.db'), 0o644);
    a = await spawnAuthority({ dataDir: dir, extraArgs: ['--backup-time', 'off'] });
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'chandler.db'))).toBe(0o600);
    expect(mode(join(dir, 'old-backup.db'))).toBe(0o600);
    const log = a.errors() + a.output();
    expect(log).toMatch(new RegExp(`WARN file_mode_fixed path=${dir}/chandler\\.db was=0644`));
    expect(log).toMatch(/WARN file_mode_fixed path=\S+old-backup\.db was=0644/);
    expect(log).toMatch(/WARN file_mode_fixed path=\S+ was=0755/);
  }, processTestMs(3));
});
