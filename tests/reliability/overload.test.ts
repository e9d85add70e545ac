/**
 * Overload: a stalled reader is cut at its send-queue cap with SLOW_CONSUMER while a normal
 * reader keeps getting everything; the per-user message rate, connections per address, and
 * registration and login attempts per address are limited with clear, dated errors.
 * (Per-account login throttling and the flood counts are in tests/authority.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_CODES, type RoomMessage } from '../../shared/protocol/index.js';
import type { Connection } from '../../authority/src/connection.js';
import {
  newClient,
  PASSWORD,
  registered,
  startAuthority,
  uniqueName,
  type AuthorityOverrides,
  type TestAuthority,
} from '../helpers/authority.js';
import { RawConn } from './support/raw.js';
import { sleep, waitFor } from './support/util.js';
import { LOADED_MS, SLOWDOWN } from '../helpers/timing.js';

const started: TestAuthority[] = [];
async function authority(limits: AuthorityOverrides['limits']): Promise<TestAuthority> {
  const t = await startAuthority({ limits });
  started.push(t);
  return t;
}
afterEach(async () => {
  for (const t of started.splice(0)) await t.cleanup();
});

function serverConnOf(t: TestAuthority, username: string): Connection {
  const id = t.authority.store.users.byName(username)!.id;
  const [conn] = t.authority.hub.connectionsOf(id);
  if (!conn) throw new Error(`${username} has no live connection`);
  return conn;
}

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

describe('a stalled reader', () => {
  it('is closed SLOW_CONSUMER at its queue cap while a normal reader gets every message in time', async () => {
    const CAP = 128 * 1024;
    const t = await authority({ sendQueueBytes: CAP, messagesPerSecond: 100_000, messageBurst: 100_000 });
    const writer = await registered(t);
    const reader = await registered(t);
    const readerDrops: string[] = [];
    reader.on('status', (s) => s !== 'ready' && readerDrops.push(s));
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    reader.on('message', (m: RoomMessage) => {
      const at = sentAt.get(m.clientId);
      if (at !== undefined) latencies.push(Date.now() - at);
    });

    // The stalled one: logged in over a bare socket, then it stops reading.
    const stalled = await RawConn.open(t.url);
    const name = uniqueName('stalled');
    const r = await stalled.register(name, PASSWORD);
    expect(r.ok).toBe(true);
    const conn = serverConnOf(t, name);
    stalled.tcp.pause();

    // Write until the server gives up on it: big messages, a few in flight at a time so the
    // normal reader's own queue stays far below the cap.
    const text = 'é'.repeat(3900); // ~7.8 kB a frame
    let maxDepth = 0;
    let posted = 0;
    const deadline = Date.now() + 45_000;
    while (!conn.closed && Date.now() < deadline) {
      const batch = Array.from({ length: 8 }, () => writer.post('Général', text));
      for (const m of batch) sentAt.set(m.clientId, Date.now());
      maxDepth = Math.max(maxDepth, conn.queueDepth());
      const done = await Promise.all(batch.map((m) => writer.settled(m)));
      expect(done.every((m) => m.status === 'sent')).toBe(true);
      posted += batch.length;
      maxDepth = Math.max(maxDepth, conn.queueDepth());
    }
    expect(conn.closed).toBe(true);
    // Bounded: never more than the cap plus the one frame that tipped it over.
    expect(maxDepth).toBeLessThanOrEqual(CAP + 16 * 1024);

    // Reading again, it finds what was already on the wire, then the close with its code.
    stalled.tcp.resume();
    const closed = await stalled.closed;
    expect(closed.code).toBe(CLOSE_CODES.SLOW_CONSUMER);
    expect(closed.reason).toMatch(/resume from history/);
    await waitFor(() => !t.authority.hub.connections.has(conn), 'the server forgets the stalled connection', LOADED_MS);

    // Meanwhile the normal reader was never cut and has every message, in order, in time.
    const lastSeq = t.authority.store.messages.lastSeqOf(t.authority.store.rooms.byName('Général')!.id);
    await waitFor(() => reader.rooms.get('Général')!.messages.has(lastSeq), 'reader has the last message', LOADED_MS);
    expect(readerDrops).toEqual([]);
    const seqs = reader.messagesOf('Général').map((m) => m.seq);
    expect(seqs.length).toBeGreaterThanOrEqual(posted);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    expect(latencies.length).toBe(posted);
    // Generous: a shared two-core machine; the point is that it does not grow with the stall.
    expect(percentile(latencies, 99)).toBeLessThan(5000 * SLOWDOWN);
    console.log(
      `slow consumer: posted=${posted} max_queue_bytes=${maxDepth} cap=${CAP} reader_p50_ms=${percentile(latencies, 50)} reader_p99_ms=${percentile(latencies, 99)}`,
    );
    writer.close();
    reader.close();
  }, 90_000);
});

describe('per-user message rate', () => {
  it('is shared by all of a user’s connections and says until when', async () => {
    const t = await authority({ messagesPerSecond: 0.5, messageBurst: 4 });
    const a1 = await registered(t);
    const a2 = newClient(t);
    expect((await a2.login(a1.username!, PASSWORD)).ok).toBe(true);
    const post = (c: typeof a1, i: number) => c.call('postMessage', { room: 'Général', clientId: `rate-${i}-abcdefgh`, text: `m${i}` });
    for (let i = 0; i < 4; i++) expect((await post(a1, i)).ok).toBe(true);
    // A second connection of the same user gets no fresh allowance.
    const before = Date.now();
    const limited = await post(a2, 4);
    expect(!limited.ok && limited.error.code).toBe('RATE_LIMITED');
    const until = !limited.ok ? limited.error.until! : 0;
    expect(until).toBeGreaterThan(before);
    expect(until).toBeLessThanOrEqual(Date.now() + 2000 + 50); // one token at 0.5/s
    // Once that time has come, the same user may post again.
    await sleep(Math.max(0, until - Date.now()) + 50);
    expect((await post(a2, 5)).ok).toBe(true);
    a1.close();
    a2.close();
  });
});

describe('connections per address', () => {
  it('closes the one over the limit with TOO_MANY_CONNECTIONS and admits again when one leaves', async () => {
    const t = await authority({ connectionsPerIp: 5 });
    const conns = await Promise.all(Array.from({ length: 5 }, () => RawConn.open(t.url)));
    const extra = new RawConn(t.url);
    await extra.until(() => extra.closeCode !== null, 10_000);
    expect(extra.closeCode).toBe(CLOSE_CODES.TOO_MANY_CONNECTIONS);
    expect(extra.closeReason).toMatch(/too many connections/);
    // The five are served.
    for (const [i, c] of conns.entries()) expect((await c.request(i + 1, 'listRooms')).error?.code).toBe('NOT_AUTHENTICATED');
    conns[0]!.close();
    await waitFor(() => t.authority.hub.connections.size === 4, 'the server sees one leave', LOADED_MS);
    const again = await RawConn.open(t.url);
    expect((await again.request(9, 'listRooms')).error?.code).toBe('NOT_AUTHENTICATED');
    expect(again.closeCode).toBe(null);
    for (const c of [...conns, again]) c.close();
  });
});

describe('registration and login throttling per address', () => {
  it('refuses registrations past the limit with TOO_MANY_ATTEMPTS and a time, creating nothing', async () => {
    const t = await authority({ registrationsPerIp: 3 });
    for (let i = 0; i < 3; i++) (await registered(t)).close();
    const c = newClient(t);
    const name = uniqueName('fourth');
    const before = Date.now();
    const r = await c.register(name, PASSWORD);
    expect(!r.ok && r.error.code).toBe('TOO_MANY_ATTEMPTS');
    const until = !r.ok ? r.error.until! : 0;
    expect(until).toBeGreaterThan(before);
    expect(until).toBeLessThanOrEqual(Date.now() + t.config.limits.registrationWindowMs);
    expect(t.authority.store.users.byName(name)).toBeUndefined();
    c.close();
  });

  it('refuses logins from an address after too many failures on any accounts, even a right password', async () => {
    const t = await authority({ loginFailuresPerIp: 4 });
    const users = [];
    for (let i = 0; i < 3; i++) {
      const u = await registered(t);
      users.push(u.username!);
      u.close();
    }
    const c = newClient(t);
    const codes: string[] = [];
    // Four failures spread over accounts (none reaches the per-account limit of 5).
    for (const [user, password] of [
      [users[0]!, 'wrong-password-1!'],
      ['nobody_by_this_name', PASSWORD],
      [users[1]!, 'wrong-password-2!'],
      ['nobody_either', PASSWORD],
    ] as const) {
      const r = await c.login(user, password);
      codes.push(r.ok ? 'ok' : r.error.code);
    }
    expect(codes).toEqual(['WRONG_CREDENTIALS', 'WRONG_CREDENTIALS', 'WRONG_CREDENTIALS', 'WRONG_CREDENTIALS']);
    const before = Date.now();
    const right = await c.login(users[2]!, PASSWORD);
    expect(!right.ok && right.error.code).toBe('TOO_MANY_ATTEMPTS');
    const until = !right.ok ? right.error.until! : 0;
    expect(until).toBeGreaterThan(before);
    expect(until).toBeLessThanOrEqual(Date.now() + t.config.limits.loginWindowMs);
    c.close();
  });
});
