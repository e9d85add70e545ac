import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupManager, checkDatabase, listBackups, msUntil, parseTimeOfDay, restoreBackup } from '../../authority/src/backup.js';
import { writePidFile } from '../../authority/src/pidfile.js';
import { newClient, PASSWORD, registered, startAuthority, tempDir, type TestAuthority } from '../helpers/authority.js';

/** Every row of every table, in a stable order: "identical data" made checkable. */
function dump(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
    const out: Record<string, unknown[]> = {};
    for (const { name } of tables) out[name] = db.prepare(`SELECT * FROM "${name}" ORDER BY 1, 2`).all();
    return out;
  } finally {
    db.close();
  }
}

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority({ limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } });
});
afterAll(async () => {
  await t.cleanup();
});

describe('backups', () => {
  it('takes an online backup while messages flow, with progress, and restores identical data', async () => {
    const a = await registered(t);
    await Promise.all(Array.from({ length: 200 }, (_, i) => a.settled(a.post('Général', `before backup ${i}`))));
    const manager = new BackupManager(t.authority.store, t.dataDir);
    const progress: number[] = [];
    // Messages keep flowing during the backup: it must not block the authority.
    const during = Array.from({ length: 50 }, (_, i) => a.post('Général', `during backup ${i}`));
    const result = await manager.backupNow((done) => progress.push(done));
    await Promise.all(during.map((m) => a.settled(m)));
    expect(existsSync(result.file)).toBe(true);
    expect(progress.length).toBeGreaterThan(0);
    expect(checkDatabase(result.file).schemaVersion).toBeGreaterThanOrEqual(2);
    const snapshot = dump(result.file);
    expect((snapshot.messages as { text: string }[]).filter((m) => m.text.startsWith('before backup')).length).toBe(200);
    a.close();

    // Restore into a stopped authority's data dir: identical to the backup, old file kept aside;
    // the audit log gains one entry, the restore itself (and its MAC).
    await t.stop();
    const { previous } = restoreBackup(t.dataDir, result.file);
    expect(previous && existsSync(previous)).toBeTruthy();
    const { audit_log: log, audit_mac: macs, ...rest } = dump(join(t.dataDir, 'chandler.db'));
    const { audit_log: logBefore, audit_mac: macsBefore, ...restBefore } = snapshot;
    expect(rest).toEqual(restBefore);
    expect(log!.slice(0, -1)).toEqual(logBefore);
    expect(log!.at(-1)).toMatchObject({ action: 'restore', origin: 'restore' });
    expect(macs!.length).toBe(macsBefore!.length + 1);
    t = await startAuthority({}, t.dataDir);
    const b = newClient(t);
    expect((await b.login(a.username!, PASSWORD)).ok).toBe(true);
    const h = await b.history('Général', undefined, 5);
    expect(h.ok && h.value.messages.length).toBe(5);
    b.close();
  });

  it('keeps the newest seven backups', async () => {
    const manager = new BackupManager(t.authority.store, t.dataDir);
    for (let i = 0; i < 9; i++) await manager.backupNow();
    const kept = listBackups(t.dataDir);
    expect(kept.length).toBe(7);
    expect(new Set(kept.map((b) => b.file)).size).toBe(7);
  });

  it('refuses to restore over a running authority or from a file that is not a sound backup', async () => {
    const manager = new BackupManager(t.authority.store, t.dataDir);
    const good = await manager.backupNow();
    writePidFile(t.dataDir); // this test process is alive: like a running authority
    expect(() => restoreBackup(t.dataDir, good.file)).toThrow(/running/);
    const junk = join(tempDir(), 'junk.db');
    writeFileSync(junk, 'this is not a database');
    expect(() => restoreBackup(tempDir(), junk)).toThrow();
    expect(() => restoreBackup(tempDir(), join(tempDir(), 'missing.db'))).toThrow(/no such backup/);
    expect(readdirSync(t.dataDir)).toContain('chandler.db');
  });

  it('schedules the daily backup at the configured local time', () => {
    expect(parseTimeOfDay('03:30')).toEqual({ hour: 3, minute: 30 });
    expect(parseTimeOfDay('24:00')).toBeNull();
    expect(parseTimeOfDay('3h')).toBeNull();
    const now = new Date(2026, 10, 24, 2, 0, 0);
    expect(msUntil({ hour: 3, minute: 30 }, now)).toBe(90 * 60_000);
    expect(msUntil({ hour: 1, minute: 0 }, now)).toBe(23 * 3600_000);
  });
});
