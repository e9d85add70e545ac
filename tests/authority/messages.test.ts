import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomMessage } from '../../shared/protocol/index.js';
import { Store } from '../../authority/src/store/index.js';
import { newClient, registered, startAuthority, until, type TestAuthority } from '../helpers/authority.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority({ limits: { messagesPerSecond: 100_000, messageBurst: 100_000 } });
});
afterAll(async () => {
  await t.cleanup();
});

describe('room messages', () => {
  it('acks with the room sequence number only once the message is committed, then fans out', async () => {
    const a = await registered(t);
    const b = await registered(t);
    const seen: RoomMessage[] = [];
    b.on('message', (m) => seen.push(m));
    const before = t.authority.store.messages.lastSeqOf(t.authority.store.rooms.byName('Général')!.id);
    const r = await a.call('postMessage', { room: 'Général', clientId: 'ack-after-commit-1', text: 'committed?' });
    expect(r.ok && r.value.seq).toBe(before + 1);
    // At ack time the row is in the database file, read through a second connection.
    const reader = new Store(t.authority.store.file);
    const row = reader.db
      .prepare("SELECT text FROM messages WHERE client_id = 'ack-after-commit-1'")
      .get() as { text: string } | undefined;
    reader.db.close();
    expect(row?.text).toBe('committed?');
    await until(() => seen.some((m) => m.clientId === 'ack-after-commit-1'), 'fan-out');
    expect(seen.find((m) => m.clientId === 'ack-after-commit-1')).toMatchObject({ author: a.username, seq: before + 1 });
    a.close();
    b.close();
  });

  it('acks a resend with the same id again and never stores it twice', async () => {
    const a = await registered(t);
    const reader = await registered(t);
    const seen: RoomMessage[] = [];
    reader.on('message', (m) => seen.push(m));
    const p = { room: 'Général', clientId: 'dedupe-client-id-1', text: 'only once' };
    const [r1, r2] = await Promise.all([a.call('postMessage', p), a.call('postMessage', p)]); // same loop turn
    const r3 = await a.call('postMessage', p); // later
    expect(r1.ok && r2.ok && r3.ok).toBe(true);
    if (!r1.ok || !r2.ok || !r3.ok) return;
    expect(r2.value.seq).toBe(r1.value.seq);
    expect(r3.value).toMatchObject({ seq: r1.value.seq, duplicate: true });
    const n = t.authority.store.db.prepare("SELECT COUNT(*) AS n FROM messages WHERE client_id = 'dedupe-client-id-1'").get() as { n: number };
    expect(n.n).toBe(1);
    // Readers heard it once: a marker sent after the resends arrives after the only copy.
    expect((await a.call('postMessage', { room: 'Général', clientId: 'dedupe-marker-1', text: 'marker' })).ok).toBe(true);
    await until(() => seen.some((m) => m.clientId === 'dedupe-marker-1'), 'marker');
    expect(seen.filter((m) => m.clientId === 'dedupe-client-id-1')).toHaveLength(1);
    a.close();
    reader.close();
  });

  it('refuses non-members, text over the limit, empty text and control characters', async () => {
    const a = await registered(t);
    const codes = async (room: string, text: string, clientId: string) => {
      const r = await a.call('postMessage', { room, clientId, text });
      return r.ok ? 'ok' : r.error.code;
    };
    expect(await codes('Informatique', 'hello', 'nonmember-1')).toBe('NOT_A_MEMBER');
    expect(await codes('Général', 'x'.repeat(4001), 'too-long-1')).toBe('TEXT_TOO_LONG');
    expect(await codes('Général', 'é'.repeat(4000), 'exactly-4000')).toBe('ok');
    expect(await codes('Général', '   ', 'blank-text-1')).toBe('INVALID_TEXT');
    expect(await codes('Général', 'bell\u0007', 'control-char')).toBe('INVALID_TEXT');
    expect(await codes('Général', 'line one\nline two', 'multi-line-1')).toBe('ok');
    const h = await a.call('fetchHistory', { room: 'Informatique' });
    expect(!h.ok && h.error.code).toBe('NOT_A_MEMBER');
    a.close();
  });

  it('pages back through 1,000 messages with no gap and no overlap', async () => {
    const a = await registered(t);
    await a.requestAccess('Blabla');
    const room = t.authority.store.rooms.byName('Blabla')!;
    const base = t.authority.store.messages.lastSeqOf(room.id);
    const sends = Array.from({ length: 1000 }, (_, i) => a.post('Blabla', `page test ${i}`));
    const done = await Promise.all(sends.map((m) => a.settled(m)));
    expect(done.every((m) => m.status === 'sent')).toBe(true);
    const seqs: number[] = [];
    let before: number | undefined;
    for (;;) {
      const r = await a.history('Blabla', before, 100);
      if (!r.ok) throw new Error(r.error.code);
      const page = r.value.messages;
      expect(page.length).toBeLessThanOrEqual(100);
      for (let i = 1; i < page.length; i++) expect(page[i]!.seq).toBe(page[i - 1]!.seq + 1);
      seqs.unshift(...page.map((m) => m.seq));
      if (!r.value.hasMore) break;
      before = page[0]!.seq;
    }
    expect(seqs.length).toBe(base + 1000);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs[0]).toBe(1);
    expect(seqs.at(-1)).toBe(base + 1000);
    const over = await a.call('fetchHistory', { room: 'Blabla', limit: 101 });
    expect(!over.ok && over.error.code).toBe('BAD_REQUEST');
    a.close();
  });

  it('rate-limits a flooding user with a clear error', async () => {
    // The refill is too slow to matter however loaded the machine: exactly the burst passes.
    const slow = await startAuthority({ limits: { messagesPerSecond: 0.01, messageBurst: 5 } });
    try {
      const a = await registered(slow);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => a.call('postMessage', { room: 'Général', clientId: `flood-${i}-abcdef`, text: `m${i}` })),
      );
      const limited = results.filter((r) => !r.ok && r.error.code === 'RATE_LIMITED');
      expect(results.filter((r) => r.ok).length).toBe(5);
      expect(limited.length).toBe(3);
      // Over the rate, a resend of a stored message is still answered with its sequence number.
      const first = results[0]!;
      const resent = await a.call('postMessage', { room: 'Général', clientId: 'flood-0-abcdef', text: 'm0' });
      expect(first.ok && resent.ok && resent.value).toEqual({ seq: first.ok && first.value.seq, ts: first.ok && first.value.ts, duplicate: true });
      a.close();
    } finally {
      await slow.cleanup();
    }
  });

  it('resumes after a dropped connection: the gap is filled and nothing is duplicated', async () => {
    const writer = await registered(t);
    const reader = newClient(t);
    const name = (await registered(t)).username!;
    expect((await reader.login(name, 'correct-horse-battery!')).ok).toBe(true);
    const got: RoomMessage[] = [];
    reader.on('message', (m) => m.room === 'Général' && got.push(m));
    const first = await writer.settled(writer.post('Général', 'before drop'));
    await until(() => got.some((m) => m.seq === first.seq), 'first live');
    // Drop the reader's connection from the server side, as a network cut would.
    for (const c of t.authority.hub.connectionsOf(t.authority.store.users.byName(name)!.id)) c.ws.terminate();
    await until(() => reader.status === 'reconnecting', 'reader notices');
    const missed = [];
    for (let i = 0; i < 250; i++) missed.push(writer.post('Général', `while away ${i}`));
    const acked = await Promise.all(missed.map((m) => writer.settled(m)));
    await until(() => reader.status === 'ready', 'reader back');
    const last = acked.at(-1)!.seq!;
    await until(() => got.some((m) => m.seq === last), 'gap filled');
    const seqs = got.map((m) => m.seq).filter((s) => s >= first.seq!);
    expect(new Set(seqs).size).toBe(seqs.length);
    const sorted = [...new Set(seqs)].sort((x, y) => x - y);
    for (const m of acked) expect(sorted).toContain(m.seq);
    writer.close();
    reader.close();
  });

  it('keeps sending through a reconnect: a message written while offline is delivered once', async () => {
    const a = await registered(t);
    const id = t.authority.store.users.byName(a.username!)!.id;
    for (const c of t.authority.hub.connectionsOf(id)) c.ws.terminate();
    await until(() => a.status === 'reconnecting', 'offline');
    const m = a.post('Général', 'written while offline');
    expect(m.status).toBe('sending');
    const done = await a.settled(m);
    expect(done.status).toBe('sent');
    const n = t.authority.store.db.prepare('SELECT COUNT(*) AS n FROM messages WHERE client_id = ?').get(m.clientId) as { n: number };
    expect(n.n).toBe(1);
    a.close();
  });
});

describe('durability', () => {
  it('finds every acknowledged message after a restart', async () => {
    const own = await startAuthority({ limits: { messagesPerSecond: 100_000, messageBurst: 100_000 } });
    const a = await registered(own);
    const sent = await Promise.all(Array.from({ length: 300 }, (_, i) => a.settled(a.post('Général', `durable ${i}`))));
    a.close();
    const again = await own.restart();
    try {
      const b = newClient(again);
      expect((await b.login(a.username!, 'correct-horse-battery!')).ok).toBe(true);
      const seqs = new Set<number>();
      let before: number | undefined;
      for (;;) {
        const r = await b.history('Général', before, 100);
        if (!r.ok) throw new Error(r.error.code);
        r.value.messages.forEach((m) => seqs.add(m.seq));
        if (!r.value.hasMore) break;
        before = r.value.messages[0]!.seq;
      }
      for (const m of sent) expect(seqs.has(m.seq!)).toBe(true);
      b.close();
    } finally {
      await again.cleanup();
    }
  });
});
