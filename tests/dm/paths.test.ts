/** The three paths a DM can take, chosen by what is possible, and what the user sees of each. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DmRecord, PeerOptions } from '../../shared/client/dm/index.js';
import { createNodePeer } from '../../cli/dm/index.js';
import { startAuthority, until, type TestAuthority } from '../helpers/authority.js';
import { closeAll, dmUser, friends, goOffline, receivedText, TEST_DIRECT_TIMEOUT_MS } from './helpers.js';
import { LOADED_MS } from '../helpers/timing.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await closeAll();
  await t.cleanup();
});

function sentRecord(r: { ok: boolean; value?: DmRecord }): DmRecord {
  if (!r.ok || !r.value) throw new Error(`send failed: ${JSON.stringify(r)}`);
  return r.value;
}

describe('DM paths', () => {
  it('goes over a direct WebRTC data channel between two online friends, with a delivery receipt', async () => {
    const [a, b] = await friends(t);
    const sent = sentRecord(await a.dm.send(b.name, 'hello over the data channel'));
    expect(sent.path).toBe('direct');
    const got = await receivedText(b, 'hello over the data channel');
    expect(got).toMatchObject({ path: 'direct', author: a.name, peer: a.name, direction: 'in', id: sent.id });
    expect((await a.dm.waitFor(sent, 'delivered', LOADED_MS))?.status).toBe('delivered');
    expect(a.events.status.map((s) => s.status)).toEqual(['sending', 'sent', 'delivered']);

    // The friend answers over the same channel: no second one is opened.
    const back = sentRecord(await b.dm.send(a.name, 'and back'));
    expect(back.path).toBe('direct');
    await receivedText(a, 'and back');
    expect(a.events.channel.filter((c) => c.state === 'connecting')).toHaveLength(1);
    expect(b.events.channel.filter((c) => c.state === 'connecting')).toHaveLength(1);
    // Nothing of it went through the authority's store.
    expect(t.authority.store.dms.total()).toBe(0);
  });

  it('lets the friend whose name sorts second open the channel too (it asks the other to initiate)', async () => {
    const [a, b] = await friends(t);
    const sent = sentRecord(await b.dm.send(a.name, 'from the second name'));
    expect(sent.path).toBe('direct');
    expect((await receivedText(a, 'from the second name')).path).toBe('direct');
  });

  it('is relayed by the authority when no direct channel can open in time, and says so', async () => {
    // A relay-only ICE policy with no TURN server: WebRTC cannot connect at all.
    const [a, b] = await friends(t, { first: { rtcConfig: { iceTransportPolicy: 'relay' } } });
    const first = sentRecord(await a.dm.send(b.name, 'no direct path here'));
    expect(first.path).toBe('relayed');
    expect((await receivedText(b, 'no direct path here')).path).toBe('relayed');
    expect((await a.dm.waitFor(first, 'delivered', LOADED_MS))?.status).toBe('delivered');
    expect(a.events.channel.map((c) => c.state)).toEqual(['connecting', 'closed']);

    // After a failed attempt, the next DMs go straight to the relay instead of waiting again.
    const started = Date.now();
    const second = sentRecord(await a.dm.send(b.name, 'straight to the relay'));
    expect(second.path).toBe('relayed');
    expect(Date.now() - started).toBeLessThan(TEST_DIRECT_TIMEOUT_MS);
    expect(a.events.channel.filter((c) => c.state === 'connecting')).toHaveLength(1);
    await receivedText(b, 'straight to the relay');
    // Relayed envelopes are deleted once the recipient has acknowledged them.
    await until(() => t.authority.store.dms.total() === 0, 'relayed envelopes acknowledged and deleted');
  });

  it('is stored for an offline friend, delivered in order at their next login, and receipted', async () => {
    const [a, b] = await friends(t);
    await goOffline(b);
    await until(() => a.client.friends.some((f) => f.username === b.name && !f.online), 'b seen offline');
    const texts = Array.from({ length: 12 }, (_, i) => `waiting message ${i}`);
    const sent: DmRecord[] = [];
    for (const text of texts) sent.push(sentRecord(await a.dm.send(b.name, text)));
    expect(sent.map((s) => s.path)).toEqual(texts.map(() => 'stored'));

    const again = await dmUser(t, { name: b.name, dir: b.dir, register: false });
    await until(() => again.events.received.length === texts.length, 'all stored DMs received');
    expect(again.events.received.map((r) => r.text)).toEqual(texts);
    expect(again.events.received.every((r) => r.path === 'stored')).toBe(true);
    const history = again.dm.conversation(a.name, { limit: 100 });
    expect(history.ok && history.value.map((r) => r.text)).toEqual(texts);
    for (const s of sent) expect((await a.dm.waitFor(s, 'delivered', LOADED_MS))?.status).toBe('delivered');
    await until(() => t.authority.store.dms.total() === 0, 'stored envelopes deleted after the acknowledgement');
  });

  it('keeps one conversation in order and free of duplicates when paths change mid-way', async () => {
    const [a, b] = await friends(t);
    await goOffline(b);
    await until(() => a.client.friends.some((f) => f.username === b.name && !f.online), 'b seen offline');
    const texts = Array.from({ length: 8 }, (_, i) => `mixed ${i}`);
    // The first half waits at the authority…
    for (const text of texts.slice(0, 4)) expect(sentRecord(await a.dm.send(b.name, text)).path).toBe('stored');
    const bId = t.authority.store.users.byName(b.name)!.id;
    const storedCopy = t.authority.store.dms.pendingFor(bId, 0, 0, 10)[0]!.envelope;
    const back = await dmUser(t, { name: b.name, dir: b.dir, register: false });
    await until(() => a.client.friends.some((f) => f.username === b.name && f.online), 'b seen online');
    // …the second half is sent at once, all together, and goes direct.
    const later = await Promise.all(texts.slice(4).map((text) => a.dm.send(b.name, text)));
    expect(later.map((r) => r.ok && r.value.path)).toEqual(['direct', 'direct', 'direct', 'direct']);
    await until(() => back.events.received.length === texts.length, 'all received');

    // A copy of an envelope already delivered (here: replayed through the relay) is dropped.
    const replay = await a.client.call('relayDm', { to: b.name, envelope: storedCopy });
    expect(replay.ok).toBe(true);
    await until(() => back.events.rejected.some((r) => r.reason === 'REPLAYED'), 'replay rejected');

    const conv = back.dm.conversation(a.name, { limit: 100 });
    expect(conv.ok && conv.value.map((r) => r.text)).toEqual(texts);
    expect(back.events.received).toHaveLength(texts.length);
  });
});

describe('ICE configuration', () => {
  it("hands the authority's configured ICE (TURN) servers to WebRTC", async () => {
    const iceServers = [{ urls: 'turn:127.0.0.1:9', username: 'lan', credential: 'turn-secret' }];
    const own = await startAuthority({ iceServers });
    try {
      const seen: PeerOptions[] = [];
      const createPeer = (opts: PeerOptions) => {
        seen.push(opts);
        return createNodePeer(opts);
      };
      const [a, b] = await friends(own, { first: { createPeer }, second: { createPeer } });
      expect(a.client.session?.iceServers).toEqual(iceServers);
      const sent = await a.dm.send(b.name, 'with a TURN server configured');
      expect(sent.ok && sent.value.path).toBe('direct'); // on a LAN the host candidates still win
      expect(seen.length).toBeGreaterThanOrEqual(2);
      for (const opts of seen) expect(opts.config.iceServers).toEqual(iceServers);
    } finally {
      await closeAll();
      await own.cleanup();
    }
  });
});

describe('unfriending', () => {
  it('closes the direct channel and refuses DMs both ways', async () => {
    const [a, b] = await friends(t);
    sentRecord(await a.dm.send(b.name, 'while friends'));
    await until(() => a.dm.channelState(b.name) === 'open' && b.dm.channelState(a.name) === 'open', 'channel open');
    const removed = await a.client.call('removeFriend', { username: b.name });
    expect(removed.ok).toBe(true);
    await until(() => a.dm.channelState(b.name) === 'closed' && b.dm.channelState(a.name) === 'closed', 'channel closed on both sides');
    const fromA = await a.dm.send(b.name, 'after unfriending');
    const fromB = await b.dm.send(a.name, 'after unfriending');
    expect(!fromA.ok && fromA.error.code).toBe('NOT_FRIENDS');
    expect(!fromB.ok && fromB.error.code).toBe('NOT_FRIENDS');
    // The authority refuses to carry anything between them, whatever a client tries.
    const relay = await a.client.call('relayDm', { to: b.name, envelope: '{}' });
    expect(!relay.ok && relay.error.code).toBe('NOT_FRIENDS');
  });
});
