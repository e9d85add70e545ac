/**
 * The audit log's hash chain on a real SQLite file: every kind of tampering is named by entry,
 * and `/audit verify` on the running authority reports an edited row (exit 1 over the socket).
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditHash, GENESIS_HASH, type AuditRow } from '../../../authority/src/store/audit.js';
import { Store } from '../../../authority/src/store/index.js';
import { tempDir } from '../../helpers/authority.js';
import { run } from '../../helpers/process.js';
import { spawnAuthority, type SpawnedAuthority } from './spawned.js';
import { processTestMs } from '../../helpers/timing.js';

const ENTRY = { actor: 'root', origin: 'console', action: 'ban', target: 'mallory', detail: 'reason: spam' };

function withEntries(n: number): { store: Store; dir: string } {
  const dir = tempDir('chandler-audit-');
  const store = Store.openInDir(dir);
  for (let i = 1; i <= n; i++) store.audit.append({ ...ENTRY, ts: 1_700_000_000_000 + i, target: `user${i}` });
  return { store, dir };
}

/** What someone with the database file can do: drop the append-only triggers first. */
function tamper(store: Store, sql: string): void {
  store.db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
  store.db.exec(sql);
}

describe('audit log chain', () => {
  const opened: { store: Store; dir: string }[] = [];
  const open = (n: number) => {
    const x = withEntries(n);
    opened.push(x);
    return x.store;
  };
  afterEach(() => {
    for (const { store, dir } of opened.splice(0)) {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('links each entry to the one before with SHA-256 over its canonical form', () => {
    const store = open(3);
    const rows = store.audit.recent(10);
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(rows[0]!.prev_hash).toBe(GENESIS_HASH);
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
    expect(rows[2]!.hash).toBe(auditHash(3, rows[2]!, rows[1]!.hash));
    expect(store.audit.verify()).toEqual({ ok: true, entries: 3, head: rows[2]!.hash, anchored: true });
  });

  it('refuses UPDATE and DELETE through SQL while the triggers stand', () => {
    const store = open(2);
    expect(() => store.db.exec("UPDATE audit_log SET detail = 'x' WHERE id = 1")).toThrow(/append-only/);
    expect(() => store.db.exec('DELETE FROM audit_log WHERE id = 1')).toThrow(/append-only/);
    expect(store.audit.verify().ok).toBe(true);
  });

  it('names an edited entry', () => {
    const store = open(5);
    tamper(store, "UPDATE audit_log SET detail = 'reason: none' WHERE id = 3");
    expect(store.audit.verify()).toMatchObject({ ok: false, id: 3, problem: 'entry 3 was edited: its contents no longer match its hash' });
  });

  it('names a deleted entry in the middle, and at the start', () => {
    const middle = open(5);
    tamper(middle, 'DELETE FROM audit_log WHERE id = 2');
    expect(middle.audit.verify()).toMatchObject({ ok: false, id: 2, problem: 'entry 2 is missing (deleted)' });
    const start = open(4);
    tamper(start, 'DELETE FROM audit_log WHERE id IN (1, 2)');
    expect(start.audit.verify()).toMatchObject({ ok: false, id: 1, problem: 'entries 1–2 are missing (deleted)' });
  });

  it('names an entry rewritten with a freshly computed hash (the next one still points at the old)', () => {
    const store = open(4);
    const row = store.audit.recent(4)[1]!; // id 2
    const forged = { ...row, target: 'someone else' };
    tamper(store, `UPDATE audit_log SET target = 'someone else', hash = '${auditHash(2, forged, row.prev_hash)}' WHERE id = 2`);
    expect(store.audit.verify()).toMatchObject({ ok: false, id: 2, problem: 'entry 2 was rewritten: entry 3 holds a different hash for it' });
  });

  it('names the newest entries deleted while the authority runs', () => {
    const store = open(4);
    tamper(store, 'DELETE FROM audit_log WHERE id >= 3');
    expect(store.audit.verify()).toMatchObject({ ok: false, id: 3, problem: 'entries 3–4 were deleted (this authority wrote up to 4)' });
  });
});

describe('/audit on the running authority', () => {
  let a: SpawnedAuthority;
  beforeAll(async () => {
    a = await spawnAuthority();
  });
  afterAll(async () => {
    await a?.cleanup();
  });

  it('lists who did what from where, and /audit verify catches an edited row', async () => {
    await a.command('/create_room Archives closed', /created.*\n/);
    expect((await a.admin(['/create_room', 'Direction', 'approval'])).code).toBe(0);
    await a.command('/create_room Atelier open', /created.*\n/);
    const list = await a.command('/audit', /entries.*\n/);
    expect(list).toMatch(/^ID\s+WHEN\s+WHO\s+FROM\s+ACTION\s+TARGET\s+DETAIL$/m);
    expect(list).toMatch(/^1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\S+\s+console\s+create_room\s+Archives\s+policy: closed$/m);
    expect(list).toMatch(/^2\s+.*\s+control socket\s+create_room\s+Direction\s+policy: approval$/m);
    expect(list).toMatch(/3 of 3 entries/);
    const good = await a.admin(['/audit', 'verify']);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/audit log intact: 3 entries, chain head [0-9a-f]{16}…/);

    // Someone with the database file rewrites who did entry 2.
    const db = new Database(join(a.dataDir, 'chandler.db'));
    try {
      db.exec('DROP TRIGGER audit_log_no_update');
      db.prepare("UPDATE audit_log SET actor = 'nobody' WHERE id = 2").run();
    } finally {
      db.close();
    }
    const bad = await a.admin(['/audit', 'verify']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/audit log TAMPERED at entry 2: entry 2 was edited/);
    expect(await a.command('/audit verify', /audit log.*\n/)).toMatch(/TAMPERED at entry 2/);
  }, processTestMs(3));
});

/**
 * The attacks of someone who has the database file but not the audit key, on a real data dir
 * with the authority stopped: rewrite an entry and recompute the chain exactly as the code
 * does, or cut the newest entries; the restarted authority's `/audit verify` names both.
 */
describe('the audit log anchored outside the database', () => {
  let a: SpawnedAuthority | undefined;
  afterEach(async () => {
    await a?.cleanup();
    a = undefined;
  });

  async function withFiveEntries(): Promise<SpawnedAuthority> {
    const s = await spawnAuthority({ extraArgs: ['--backup-time', 'off'] });
    for (const name of ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo']) await s.command(`/create_room ${name} open`, /created.*\n/);
    return s;
  }

  async function stop(s: SpawnedAuthority): Promise<void> {
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  }

  /** Opens the stopped authority's database without the triggers, runs `fn`, puts the triggers back. */
  function offline(dataDir: string, fn: (db: Database.Database) => void): void {
    const db = new Database(join(dataDir, 'chandler.db'));
    try {
      const triggers = db
        .prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
        .all();
      for (const t of ['audit_log_no_update', 'audit_log_no_delete']) db.exec(`DROP TRIGGER ${t}`);
      fn(db);
      for (const t of triggers) db.exec(t.sql);
    } finally {
      db.close();
    }
  }

  it('an entry edited and the chain recomputed without the key: verify after a restart says rewritten at entry 3', async () => {
    a = await withFiveEntries();
    expect((await a.admin(['/audit', 'verify'])).stdout).toMatch(/audit log intact: 5 entries/);
    await stop(a);
    offline(a.dataDir, (db) => {
      db.prepare("UPDATE audit_log SET detail = 'policy: closed' WHERE id = 3").run();
      const rows = db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY id').all();
      let prev = GENESIS_HASH;
      for (const r of rows) {
        const hash = auditHash(r.id, r, prev);
        db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?').run(prev, hash, r.id);
        prev = hash;
      }
    });
    a = await spawnAuthority({ dataDir: a.dataDir, extraArgs: ['--backup-time', 'off'] });
    const bad = await a.admin(['/audit', 'verify']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/audit log TAMPERED at entry 3: rewritten: entry 3 does not carry the MAC of the audit key/);
  }, processTestMs(6));

  it('the newest entries deleted: verify after a restart says truncated, naming the count the head file recorded', async () => {
    a = await withFiveEntries();
    await stop(a);
    offline(a.dataDir, (db) => db.prepare('DELETE FROM audit_log WHERE id >= 4').run());
    a = await spawnAuthority({ dataDir: a.dataDir, extraArgs: ['--backup-time', 'off'] });
    const bad = await a.admin(['/audit', 'verify']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/TAMPERED at entry 4: truncated: the log ends at entry 3 but the head file recorded 6 entries/); // five rooms and the audited shutdown
    expect(await a.command('/audit verify', /audit log.*\n/)).toMatch(/truncated/);
  }, processTestMs(5));

  it('a missing key file is reported, and no fresh key replaces it', async () => {
    a = await withFiveEntries();
    await stop(a);
    rmSync(join(a.dataDir, 'audit.key'));
    a = await spawnAuthority({ dataDir: a.dataDir, extraArgs: ['--backup-time', 'off'] });
    const bad = await a.admin(['/audit', 'verify']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/audit log CANNOT BE CHECKED: the audit key file \S+audit\.key is missing/);
    expect(existsSync(join(a.dataDir, 'audit.key'))).toBe(false);
  }, processTestMs(5));

  it('a restore resets the head to the restored chain, keeps the old head file, and is the newest entry', async () => {
    a = await withFiveEntries();
    expect((await a.admin(['/backup'])).code).toBe(0);
    await a.command('/create_room Foxtrot open', /created.*\n/);
    await stop(a);
    const backup = readdirSync(join(a.dataDir, 'backups')).find((n) => n.endsWith('.db'))!;
    const restored = await run('authority/src/main.ts', ['--data', a.dataDir, '--restore', join(a.dataDir, 'backups', backup)]);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/audit head reset to the restored log's chain \(the old head file is kept as \S+audit\.head\.before-restore-/);
    a = await spawnAuthority({ dataDir: a.dataDir, extraArgs: ['--backup-time', 'off'] });
    const good = await a.admin(['/audit', 'verify']);
    expect(good.stdout).toMatch(/audit log intact: 6 entries/); // the five in the backup, then the restore
    expect(good.code).toBe(0);
    expect((await a.admin(['/audit', '1'])).stdout).toMatch(/^6\s+.*\s+restore\s+restore\s+-\s+from chandler-\S+\.db; replaced log's head/m);
  }, processTestMs(8));
});

describe('upgrade of an unanchored log', () => {
  it('MACs the entries already there once, when the key is first made (0600), and writes the head', () => {
    const dir = tempDir('chandler-audit-');
    try {
      const old = new Store(join(dir, 'chandler.db')); // as before: no key, no head
      for (let i = 1; i <= 3; i++) old.audit.append({ ...ENTRY, ts: 1_700_000_000_000 + i });
      old.close();
      const upgraded = Store.openInDir(dir);
      expect(upgraded.audit.verify()).toMatchObject({ ok: true, entries: 3, anchored: true });
      upgraded.close();
      expect(readFileSync(join(dir, 'audit.head'), 'utf8').trim().split('\n')).toHaveLength(1);
      expect(statSync(join(dir, 'audit.key')).mode & 0o777).toBe(0o600);
      const again = Store.openInDir(dir);
      expect(again.audit.verify()).toMatchObject({ ok: true, entries: 3 });
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
