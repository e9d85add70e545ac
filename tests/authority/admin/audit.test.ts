/**
 * The audit log's hash chain on a real SQLite file: every kind of tampering is named by entry,
 * and `/audit verify` on the running authority reports an edited row (exit 1 over the socket).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditHash, GENESIS_HASH } from '../../../authority/src/store/audit.js';
import { Store } from '../../../authority/src/store/index.js';
import { tempDir } from '../../helpers/authority.js';
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
    expect(store.audit.verify()).toEqual({ ok: true, entries: 3, head: rows[2]!.hash });
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
