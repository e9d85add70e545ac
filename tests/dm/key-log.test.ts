/**
 * A key directory the authority cannot lie in quietly (issue 13 §3), attacked as a hostile
 * operator would: the finding's first-contact swap (bob's directory row rewritten before carol
 * first fetched it), an authority that serves a key it did not log, a forged binding it did log,
 * and a rewritten log. Each is refused by the friend's client or raises an alarm.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { base64ToBytes, generateIdentity, publicIdentity } from '../../shared/crypto/index.js';
import { keyLogKeysFromSeed, signKeyLogHead } from '../../shared/crypto/key-log.js';
import type { KeyLogState } from '../../shared/client/dm/index.js';
import { ChandlerClient, type SocketLike } from '../../shared/client/index.js';
import type { PublicIdentity } from '../../shared/protocol/index.js';
import { pinnedSocketFactory } from '../../cli/node-socket.js';
import { KEY_LOG_KEY_FILE } from '../../authority/src/key-log.js';
import { PASSWORD, startAuthority, uniqueName, until, type TestAuthority } from '../helpers/authority.js';
import { LOADED_MS } from '../helpers/timing.js';
import { befriend, closeAll, dmUser, engineFor, receivedText, record, type DmUser } from './helpers.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterEach(async () => {
  await closeAll();
});
afterAll(async () => {
  await t.cleanup();
});

/** The operator's own identity, to swap in for bob's. */
function operatorIdentity(): PublicIdentity {
  return publicIdentity(generateIdentity());
}

/**
 * A socket whose incoming frames pass through `rewrite` first: the authority as a hostile
 * operator runs it, answering what it likes (its TLS and its code are the operator's).
 */
function hostileSocket(inner: SocketLike, rewrite: (frame: Record<string, unknown>) => void): SocketLike {
  const outer: SocketLike = {
    get readyState() {
      return inner.readyState;
    },
    send: (data) => inner.send(data),
    close: (code, reason) => inner.close(code, reason),
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
  };
  inner.onopen = (ev) => outer.onopen?.(ev);
  inner.onclose = (ev) => outer.onclose?.(ev);
  inner.onerror = (ev) => outer.onerror?.(ev);
  inner.onmessage = (ev) => {
    const frame = JSON.parse(String(ev.data)) as Record<string, unknown>;
    rewrite(frame);
    outer.onmessage?.({ data: JSON.stringify(frame) });
  };
  return outer;
}

/** carol, logged in through a hostile authority's rewriting, with a DM engine. */
async function carolThrough(rewrite: (frame: Record<string, unknown>) => void, sent?: Map<number, string>): Promise<DmUser> {
  const pinned = pinnedSocketFactory({ fingerprint: t.fingerprint });
  const client = new ChandlerClient({
    url: t.url,
    socketFactory: (url) => {
      const socket = hostileSocket(pinned(url), rewrite);
      const send = socket.send;
      socket.send = (data) => {
        const frame = JSON.parse(data) as { id: number; type: string };
        sent?.set(frame.id, frame.type);
        send(data);
      };
      return socket;
    },
    clientVersion: 'test/1',
    requestTimeoutMs: LOADED_MS,
  });
  const name = uniqueName('carol');
  const r = await client.register(name, PASSWORD);
  if (!r.ok) throw new Error(r.error.code);
  const dir = mkdtempSync(join(tmpdir(), 'chandler-kt-'));
  const dm = engineFor(client, dir);
  const events = record(dm);
  const unlocked = await dm.unlock(PASSWORD);
  if (!unlocked.ok) throw new Error(unlocked.error.code);
  afterEachCleanup.push(async () => {
    await dm.close();
    client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { name, client, dm, dir, events };
}

const afterEachCleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of afterEachCleanup.splice(0)) await c();
});

describe('the first-contact swap of the finding', () => {
  it("bob's directory row rewritten before carol first fetches it: carol still pins bob's logged key, and bob reads her DM", async () => {
    const bob = await dmUser(t);
    const bobId = t.authority.store.users.byName(bob.name)!.id;
    const swapped = operatorIdentity();
    t.authority.store.dms.putKeys(bobId, swapped, Date.now());
    const carol = await dmUser(t);
    await befriend(carol, bob);
    const pinned = carol.events.keyPinned.find((e) => e.username === bob.name)!;
    expect(pinned.keyId).toBe(bob.dm.keyId);
    expect(pinned.keyId).not.toBe(swapped.keyId);
    expect((await carol.dm.send(bob.name, 'pour bob seulement')).ok).toBe(true);
    await receivedText(bob, 'pour bob seulement');
  });

  it('an authority that serves a key it did not log: the friend refuses it (KEY_NOT_LOGGED) and raises the alarm', async () => {
    const bob = await dmUser(t);
    const swapped = operatorIdentity();
    const carol = await carolThrough((frame) => {
      const result = frame.result as { identity?: PublicIdentity; log?: unknown } | undefined;
      if (result?.identity && result.log && result.identity.keyId !== swapped.keyId && frame.ok) result.identity = swapped;
    });
    const asked = await carol.client.call('requestFriend', { username: bob.name });
    expect(asked.ok).toBe(true);
    expect((await bob.client.call('acceptFriend', { username: carol.name })).ok).toBe(true);
    await until(() => carol.events.keyLogAlarm.length > 0, 'the alarm');
    expect(carol.events.keyLogAlarm[0]).toMatchObject({ kind: 'unlogged', username: bob.name, keyId: swapped.keyId });
    expect(carol.events.keyPinned.some((e) => e.username === bob.name)).toBe(false);
    const sent = await carol.dm.send(bob.name, 'jamais lu par l’opérateur');
    expect(!sent.ok && sent.error.code).toBe('KEY_NOT_LOGGED');
  });
});

describe('a check the server did not answer', () => {
  it('a consistency proof refused for a passing reason (RATE_LIMITED) raises no alarm; asked again, it holds', async () => {
    const bob = await dmUser(t);
    const bobId = t.authority.store.users.byName(bob.name)!.id;
    const sent = new Map<number, string>();
    let refuse = false;
    const carol = await carolThrough((frame) => {
      if (refuse && typeof frame.re === 'number' && sent.get(frame.re) === 'keyLogConsistency') {
        frame.ok = false;
        delete frame.result;
        frame.error = { code: 'RATE_LIMITED', message: 'try again', until: Date.now() + 10 };
      }
    }, sent);
    await befriend(carol, bob);
    // The log grows (bob publishes a new key); carol's next fetch needs a consistency proof.
    t.authority.keyLog.publish(bobId, bob.name, operatorIdentity(), Date.now());
    refuse = true;
    await carol.dm.safetyNumber(bob.name);
    expect([...sent.values()]).toContain('keyLogConsistency');
    expect(carol.events.keyLogAlarm).toEqual([]);
    refuse = false;
    await carol.dm.safetyNumber(bob.name);
    expect(carol.events.keyLogAlarm).toEqual([]);
  });
});

describe("monitoring one's own name", () => {
  it('a binding the operator logs for bob (carol accepts its proof) raises an alarm on bob\'s device at its next check', async () => {
    const bob = await dmUser(t);
    const bobId = t.authority.store.users.byName(bob.name)!.id;
    expect((await bob.dm.checkKeyLog()).ok).toBe(true);
    expect(bob.events.keyLogAlarm).toEqual([]);
    const real = t.authority.store.dms.keysOf(bobId)!;
    const forged = operatorIdentity();
    t.authority.keyLog.publish(bobId, bob.name, forged, Date.now());
    const r = await bob.dm.checkKeyLog();
    expect(!r.ok && r.error.code).toBe('KEY_NOT_LOGGED');
    expect(bob.events.keyLogAlarm).toMatchObject([{ kind: 'unknownBinding', username: bob.name, keyId: forged.keyId }]);
    // Said once: the next check has nothing new.
    expect((await bob.dm.checkKeyLog()).ok).toBe(true);
    expect(bob.events.keyLogAlarm).toHaveLength(1);
    // The same key logged again (as a user's other device does at each of its logins) is not
    // reported again; another one is.
    t.authority.keyLog.publish(bobId, bob.name, real, Date.now());
    t.authority.keyLog.publish(bobId, bob.name, forged, Date.now());
    expect((await bob.dm.checkKeyLog()).ok).toBe(true);
    expect(bob.events.keyLogAlarm).toHaveLength(1);
    const another = operatorIdentity();
    t.authority.keyLog.publish(bobId, bob.name, another, Date.now());
    expect((await bob.dm.checkKeyLog()).ok).toBe(false);
    expect(bob.events.keyLogAlarm.map((x) => x.keyId)).toEqual([forged.keyId, another.keyId]);
  });

  it('its own key, published again after a restart of the engine, raises nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chandler-kt-own-'));
    const bob = await dmUser(t, { dir });
    await bob.dm.close();
    bob.client.close();
    const again = await dmUser(t, { name: bob.name, dir, register: false });
    expect((await again.dm.checkKeyLog()).ok).toBe(true);
    expect(again.events.keyLogAlarm).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('friends compare the heads their devices saw (gossip)', () => {
  it('honest friends with a direct channel exchange heads and raise nothing', async () => {
    const [a, b] = await (await import('./helpers.js')).friends(t);
    expect((await a.dm.send(b.name, 'bonjour')).ok).toBe(true);
    await receivedText(b, 'bonjour');
    expect(a.dm.gossipKeyLog(b.name)).toBe(true);
    expect(b.dm.gossipKeyLog(a.name)).toBe(true);
    expect((await b.dm.send(a.name, 'salut')).ok).toBe(true);
    await receivedText(a, 'salut');
    expect([...a.events.keyLogAlarm, ...b.events.keyLogAlarm]).toEqual([]);
  });

  it("a head the server showed bob that cannot be the one it showed carol (a split view) raises an alarm on carol's side", async () => {
    const [carol, bob] = await (await import('./helpers.js')).friends(t);
    type WithHistory = { history: { keyLogState(): KeyLogState | null; setKeyLogState(s: KeyLogState): void } };
    const carolState = (carol.dm as unknown as WithHistory).history.keyLogState()!;
    const bobHistory = (bob.dm as unknown as WithHistory).history;
    // The operator, with the log's own key, signs for bob a tree of the same size as carol's, other leaves.
    const seed = base64ToBytes(readFileSync(join(t.dataDir, KEY_LOG_KEY_FILE), 'utf8').trim(), 32)!;
    const forged = signKeyLogHead(carolState.head.size, randomBytes(32), carolState.head.at, keyLogKeysFromSeed(seed).secretKey);
    bobHistory.setKeyLogState({ ...bobHistory.keyLogState()!, head: forged });
    expect(bob.dm.gossipKeyLog(carol.name)).toBe(true);
    await until(() => carol.events.keyLogAlarm.some((a) => a.kind === 'inconsistent'), "carol's alarm");
  });
});

describe('a rewritten log', () => {
  it('a log made anew (other leaves, same key file) does not extend the head a client saw: alarm', async () => {
    const other = await startAuthority();
    try {
      const bob = await dmUser(other);
      const carol = await dmUser(other);
      await befriend(carol, bob);
      expect(carol.events.keyLogAlarm).toEqual([]);
      // The operator stops, rewrites the log (drops the append-only triggers, deletes and
      // re-adds the rows in another order), and starts again with the same key file.
      await other.stop();
      const { Store } = await import('../../authority/src/store/index.js');
      const store = Store.openInDir(other.dataDir);
      store.db.exec('DROP TRIGGER key_log_no_delete; DROP TRIGGER key_log_no_update;');
      const rows = store.db.prepare('SELECT * FROM key_log ORDER BY idx').all() as Record<string, unknown>[];
      store.db.exec('DELETE FROM key_log');
      const insert = store.db.prepare('INSERT INTO key_log (idx, name, user_id, key_id, box_pk, sign_pk, signature, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      rows.reverse().forEach((r, i) => insert.run(i, r.name, r.user_id, r.key_id, r.box_pk, r.sign_pk, r.signature, r.at));
      store.close();
      const back = await startAuthority({ port: Number(new URL(other.url).port) }, other.dataDir);
      try {
        await until(() => carol.client.status === 'ready', 'carol reconnected', LOADED_MS);
        // The safety number dialog fetches bob's key again, with a proof from the rewritten log.
        await carol.dm.safetyNumber(bob.name);
        await until(() => carol.events.keyLogAlarm.some((a) => a.kind === 'inconsistent'), 'the alarm');
      } finally {
        await back.stop();
      }
    } finally {
      await other.cleanup().catch(() => undefined);
    }
  });

  it('keeps its signing key in an owner-only file, and refuses to start without it once the log has entries', async () => {
    const other = await startAuthority();
    await dmUser(other);
    await closeAll();
    await other.stop();
    const { statSync } = await import('node:fs');
    const file = join(other.dataDir, KEY_LOG_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    rmSync(file);
    await expect(startAuthority({}, other.dataDir)).rejects.toThrow(/key-log\.key is missing and the key log has 1 entries/);
    rmSync(other.dataDir, { recursive: true, force: true });
  });
});
