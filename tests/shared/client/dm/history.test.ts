/** The local DM history: real sql.js, real files, encrypted at rest, shared safely between processes. */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { afterEach, describe, expect, it } from 'vitest';
import { FileDmStorage, loadNodeSql } from '../../../../cli/dm/index.js';
import { DmHistory, type DmRecord } from '../../../../shared/client/dm/index.js';
import { generateIdentity, publicIdentity } from '../../../../shared/crypto/index.js';
import { tempDir } from '../../../helpers/authority.js';

const NAME = 'dm-history-alice.sealed';
const dirs: string[] = [];
const opened: DmHistory[] = [];

afterEach(async () => {
  for (const h of opened.splice(0)) await h.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function storage(): FileDmStorage {
  const dir = tempDir('chandler-history-');
  dirs.push(dir);
  return new FileDmStorage(dir);
}

async function open(store: FileDmStorage, key: Uint8Array) {
  const o = await DmHistory.open({ sql: await loadNodeSql(), storage: store, name: NAME, key, saveDelayMs: 1, onSaveError: (e) => { throw e; } });
  opened.push(o.history);
  return o;
}

let n = 0;
function dm(text: string, extra: Partial<DmRecord> = {}): DmRecord {
  n++;
  return { id: `msg-id-${String(n).padStart(6, '0')}`, peer: 'Bob', direction: 'out', author: 'alice', text, ts: 1_700_000_000_000 + n, path: 'direct', status: 'sent', ...extra };
}

describe('DM history', () => {
  it('is encrypted at rest and reads back with the same key', async () => {
    const store = storage();
    const key = nacl.randomBytes(32);
    const { history } = await open(store, key);
    expect(history.insert(dm('a very private sentence'), Date.now())).toBe(true);
    expect(history.insert(dm('and its answer', { direction: 'in', author: 'Bob', status: 'received' }), Date.now())).toBe(true);
    await history.flush();
    const bytes = readFileSync(join(store.dir, NAME));
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('CHDM');
    expect(bytes.includes(Buffer.from('very private'))).toBe(false);
    expect(bytes.includes(Buffer.from('SQLite format'))).toBe(false);

    const again = await open(store, key);
    expect(again.setAside).toBeNull();
    expect(again.history.conversation('bob', 10).map((r) => r.text)).toEqual(['a very private sentence', 'and its answer']);
  });

  it('refuses duplicates by id and pages the latest messages oldest first', async () => {
    const { history } = await open(storage(), nacl.randomBytes(32));
    const records = Array.from({ length: 5 }, (_, i) => dm(`m${i}`));
    for (const r of records) history.insert(r, Date.now());
    expect(history.insert(records[2]!, Date.now())).toBe(false);
    expect(history.conversation('BOB', 2).map((r) => r.text)).toEqual(['m3', 'm4']);
    expect(history.conversation('bob', 2, records[3]!.ts).map((r) => r.text)).toEqual(['m1', 'm2']);
  });

  it('keeps a history it cannot read (another key, damage) aside instead of destroying it', async () => {
    const store = storage();
    const first = await open(store, nacl.randomBytes(32));
    first.history.insert(dm('old'), Date.now());
    await first.history.close();
    const before = readFileSync(join(store.dir, NAME));
    const other = await open(store, nacl.randomBytes(32));
    expect(other.setAside).toMatch(/^dm-history-alice\.sealed\.unreadable-\d+$/);
    expect(readFileSync(join(store.dir, other.setAside!))).toEqual(before);
    expect(other.history.conversation('bob', 10)).toEqual([]);
  });

  it('merges what another process of the same user saved, the furthest status winning', async () => {
    const store = storage();
    const key = nacl.randomBytes(32);
    const p1 = (await open(store, key)).history;
    await p1.flush();
    const p2 = (await open(store, key)).history;
    const shared = dm('sent by process one');
    p1.insert(shared, Date.now());
    await p1.flush();
    p2.insert(dm('sent by process two'), Date.now());
    p2.insert({ ...shared, status: 'delivered' }, Date.now()); // p2 saw the receipt
    p2.update({ ...shared, status: 'delivered' });
    await p2.flush();
    p1.insert(dm('one more from process one'), Date.now());
    await p1.flush();
    const reader = (await open(store, key)).history;
    const texts = reader.conversation('bob', 10).map((r) => [r.text, r.status]);
    expect(texts).toEqual([
      ['sent by process one', 'delivered'],
      ['sent by process two', 'sent'],
      ['one more from process one', 'sent'],
    ]);
  });

  it('erases one conversation or all, and an erasure survives a merge with a process that still held them', async () => {
    const store = storage();
    const key = nacl.randomBytes(32);
    const p1 = (await open(store, key)).history;
    p1.insert(dm('to bob'), Date.now() - 10);
    p1.insert(dm('to carol', { peer: 'carol' }), Date.now() - 10);
    await p1.flush();
    const p2 = (await open(store, key)).history;
    expect(p1.erase('bob', Date.now())).toBe(1);
    await p1.flush();
    p2.insert(dm('new after the erasure', { peer: 'carol' }), Date.now() + 10);
    await p2.flush(); // p2 still held "to bob": the tombstone wins
    const reader = (await open(store, key)).history;
    expect(reader.conversation('bob', 10)).toEqual([]);
    expect(reader.conversation('carol', 10).map((r) => r.text)).toEqual(['to carol', 'new after the erasure']);
    expect(reader.erase(null, Date.now() + 20)).toBe(2);
    expect(reader.conversation('carol', 10)).toEqual([]);
  });

  it('pins keys, records a pending change, and exports everything as plain data', async () => {
    const { history } = await open(storage(), nacl.randomBytes(32));
    const first = publicIdentity(generateIdentity());
    const second = publicIdentity(generateIdentity());
    history.setPin('Bob', first, 1000);
    expect(history.pin('bob')).toMatchObject({ username: 'Bob', identity: first, pending: null });
    history.setPending('bob', second, 2000);
    expect(history.pin('BOB')?.pending).toEqual(second);
    history.insert(dm('exported'), 3000);
    const exported = history.export(4000);
    expect(exported).toMatchObject({ format: 'chandler-dm-history', version: 1, exportedAt: 4000 });
    expect(exported.pins).toEqual([{ username: 'Bob', keyId: first.keyId, pinnedAt: 1000, pendingKeyId: second.keyId }]);
    expect(exported.messages.map((m) => m.text)).toEqual(['exported']);
    history.setPin('Bob', second, 5000);
    expect(history.pin('bob')).toMatchObject({ identity: second, pending: null });
  });
});
