/**
 * The privacy promise, tested: after many DMs over every path (direct, relayed, stored), the
 * plaintext of each appears nowhere the authority writes: its database file, its WAL, the
 * rest of its data directory (backups included) or its logs.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DmPath } from '../../shared/protocol/index.js';
import { DB_FILE_NAME } from '../../authority/src/store/index.js';
import { startAuthority, until, type TestAuthority } from '../helpers/authority.js';
import { closeAll, dmUser, friends, goOffline, type DmUser } from './helpers.js';

const PER_PATH = 10;

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await closeAll();
  await t.cleanup();
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every file of the data dir that holds one of the needles, with the needle. */
function findIn(dir: string, needles: string[]): string[] {
  const found: string[] = [];
  for (const file of filesUnder(dir)) {
    const bytes = readFileSync(file);
    for (const n of needles) if (bytes.includes(Buffer.from(n, 'utf8'))) found.push(`${file}: ${n}`);
  }
  return found;
}

function secret(path: string, i: number): string {
  return `private ${path} dm ${i} ${randomBytes(8).toString('hex')}`;
}

async function exchange(from: DmUser, to: DmUser, path: DmPath, texts: string[]): Promise<void> {
  for (const text of texts) {
    const r = await from.dm.send(to.name, text);
    if (!r.ok) throw new Error(`send failed: ${r.error.code}`);
    expect(r.value.path).toBe(path);
  }
}

describe('privacy', () => {
  it('leaves no DM plaintext in the authority database, WAL, data dir, backups or logs', async () => {
    const sent: string[] = [];
    const dbFile = join(t.dataDir, DB_FILE_NAME);

    // Direct: both ways over a data channel.
    const [a, b] = await friends(t);
    const direct = Array.from({ length: PER_PATH }, (_, i) => secret('direct', i));
    await exchange(a, b, 'direct', direct.slice(0, PER_PATH / 2));
    await exchange(b, a, 'direct', direct.slice(PER_PATH / 2));
    sent.push(...direct);

    // Relayed: WebRTC cannot connect for this pair.
    const [c, d] = await friends(t, { first: { rtcConfig: { iceTransportPolicy: 'relay' } } });
    const relayed = Array.from({ length: PER_PATH }, (_, i) => secret('relayed', i));
    await exchange(c, d, 'relayed', relayed);
    sent.push(...relayed);

    // Stored: the friend is offline; a backup is taken while the envelopes wait.
    const [e, f] = await friends(t);
    await goOffline(f);
    await until(() => e.client.friends.some((x) => x.username === f.name && !x.online), 'f offline');
    const stored = Array.from({ length: PER_PATH }, (_, i) => secret('stored', i));
    await exchange(e, f, 'stored', stored);
    sent.push(...stored);
    const fId = t.authority.store.users.byName(f.name)!.id;
    const envelopes = t.authority.store.dms.pendingFor(fId, 0, 0, 100).map((r) => r.envelope);
    expect(envelopes).toHaveLength(PER_PATH);
    const backup = await t.authority.backups.backupNow();

    const f2 = await dmUser(t, { name: f.name, dir: f.dir, register: false });

    // Every DM arrived, by the path it was sent on.
    await until(() => stored.every((x) => f2.events.received.some((r) => r.text === x)), 'stored DMs received');
    await until(() => relayed.every((x) => d.events.received.some((r) => r.text === x)), 'relayed DMs received');
    const byText = new Map([...a.events.received, ...b.events.received, ...d.events.received, ...f2.events.received].map((r) => [r.text, r.path]));
    for (const x of direct) expect(byText.get(x)).toBe('direct');
    for (const x of relayed) expect(byText.get(x)).toBe('relayed');
    for (const x of stored) expect(byText.get(x)).toBe('stored');
    await until(() => t.authority.store.dms.total() === 0, 'every envelope acknowledged');

    // Controls: the scan finds what the authority does hold (a room message, the envelopes in the backup).
    const control = `room control ${randomBytes(8).toString('hex')}`;
    const posted = await a.client.settled(a.client.post('Général', control));
    expect(posted.status).toBe('sent');
    const nonce = (JSON.parse(envelopes[0]!) as { nonce: string }).nonce;
    expect(readFileSync(backup.file).includes(Buffer.from(nonce))).toBe(true);

    // While it runs: the database file, its WAL and everything else in the data dir.
    expect(filesUnder(t.dataDir).some((x) => x.endsWith(`${DB_FILE_NAME}-wal`))).toBe(true);
    expect(findIn(t.dataDir, [control]).length).toBeGreaterThan(0);
    expect(findIn(t.dataDir, sent)).toEqual([]);
    // The logs (DM refusals, key changes, sessions) never carry content.
    expect(t.logs.length).toBeGreaterThan(0);
    const logs = t.logs.join('\n');
    for (const x of sent) expect(logs.includes(x)).toBe(false);

    // After a graceful stop (WAL folded into the database).
    await t.stop();
    expect(readFileSync(dbFile).includes(Buffer.from(control))).toBe(true);
    expect(findIn(t.dataDir, sent)).toEqual([]);
    for (const x of sent) expect(t.logs.join('\n').includes(x)).toBe(false);
  });
});
